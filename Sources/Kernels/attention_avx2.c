/*
 * attention.c's per-(token, KV head) loop with AVX2: same blocks of 32 keys, same online
 * softmax, 8 lanes. Separate so attention.c keeps the shared bookkeeping.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#if RS_X86

#define KV_BLOCK 32
#define MAX_GROUP 32

RS_AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Exponentiates the block's n scores in place against the new running max; returns the factor
 * for what was accumulated before. */
RS_AVX2 static inline float online_softmax(float *s, int n, float *m, float *l) {
    float bmax = -INFINITY;
    for (int j = 0; j < n; j++) bmax = s[j] > bmax ? s[j] : bmax;
    const float mnew = bmax > *m ? bmax : *m;
    const float corr = expf(*m - mnew);
    for (int j = n; j < KV_BLOCK; j++) s[j] = -INFINITY;
    const __m256 mn = _mm256_set1_ps(mnew);
    __m256 sum = _mm256_setzero_ps();
    for (int j = 0; j < KV_BLOCK; j += 8) {
        const __m256 v = _mm256_loadu_ps(s + j);
        /* rs_exp256 clamps its input, so -inf lanes (past n) are masked to 0 explicitly. */
        const __m256 live = _mm256_cmp_ps(v, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ);
        const __m256 e = _mm256_and_ps(live, rs_exp256(_mm256_sub_ps(v, mn)));
        _mm256_storeu_ps(s + j, e);
        sum = _mm256_add_ps(sum, e);
    }
    *l = *l * corr + hsum(sum);
    *m = mnew;
    return corr;
}

RS_AVX2 void rs_attend_avx2(const rs_attention_args *a, int t, int g, int begin, int end, float *acc, float *m,
                            float *l) {
    const int G = a->n_head / a->n_kv, hd = a->head_dim, nv = hd / 8;
    const int32_t *slots = a->slots + a->tok_slot_off[t];
    float s[MAX_GROUP][KV_BLOCK] __attribute__((aligned(32)));
    const float *q[MAX_GROUP];
    for (int i = 0; i < G; i++) q[i] = a->q + (int64_t)t * a->ldq + (int64_t)(g * G + i) * hd;
    for (int j0 = begin; j0 < end; j0 += KV_BLOCK) {
        const int n = end - j0 < KV_BLOCK ? end - j0 : KV_BLOCK;
        for (int jj = 0; jj < n; jj++) {
            const float *k = a->k_cache + (int64_t)slots[j0 + jj] * a->kv_stride + (int64_t)g * hd;
            for (int i = 0; i < G; i++) {
                __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps();
                int x = 0;
                for (; x + 1 < nv; x += 2) {
                    d0 = _mm256_fmadd_ps(_mm256_loadu_ps(q[i] + 8 * x), _mm256_loadu_ps(k + 8 * x), d0);
                    d1 = _mm256_fmadd_ps(_mm256_loadu_ps(q[i] + 8 * x + 8), _mm256_loadu_ps(k + 8 * x + 8), d1);
                }
                if (x < nv) d0 = _mm256_fmadd_ps(_mm256_loadu_ps(q[i] + 8 * x), _mm256_loadu_ps(k + 8 * x), d0);
                s[i][jj] = hsum(_mm256_add_ps(d0, d1)) * a->scale;
            }
        }
        for (int i = 0; i < G; i++) {
            if (a->softcap > 0)
                for (int jj = 0; jj < n; jj++) s[i][jj] = a->softcap * tanhf(s[i][jj] / a->softcap);
            const float corr = online_softmax(s[i], n, &m[i], &l[i]);
            if (corr != 1.0f) {
                const __m256 c = _mm256_set1_ps(corr);
                float *ac = acc + i * hd;
                for (int x = 0; x < nv; x++) _mm256_storeu_ps(ac + 8 * x, _mm256_mul_ps(_mm256_loadu_ps(ac + 8 * x), c));
            }
        }
        for (int jj = 0; jj < n; jj++) {
            const float *v = a->v_cache + (int64_t)slots[j0 + jj] * a->kv_stride + (int64_t)g * hd;
            for (int i = 0; i < G; i++) {
                const __m256 p = _mm256_set1_ps(s[i][jj]);
                float *ac = acc + i * hd;
                for (int x = 0; x < nv; x++)
                    _mm256_storeu_ps(ac + 8 * x, _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 8 * x), _mm256_loadu_ps(ac + 8 * x)));
            }
        }
    }
}

#endif
