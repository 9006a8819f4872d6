/*
 * attention.c's per-(token, KV head) loop with AVX2: same blocks of 32 keys, same online
 * softmax, 8 lanes. Separate so attention.c keeps the shared bookkeeping.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#if RS_X86

#define KV_BLOCK 32

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

/* Vector x (8 lanes) of a K/V row; F16 is a compile-time constant at every call. */
RS_AVX2 __attribute__((always_inline)) static inline __m256 ld8(const void *row, int x, const int F16) {
    return F16 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + 8 * x)))
               : _mm256_loadu_ps((const float *)row + 8 * x);
}

/* Scores of one query head against n <= 32 keys into s, four keys at a time: each query vector
 * is loaded once for the four, and their four sums come out of one transposing add tree. */
RS_AVX2 __attribute__((always_inline)) static inline void scores4(const float *q, const void *const *k, int n, int nv,
                                                                  float scale, float *s, const int F16) {
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        const void *k0 = k[j], *k1 = k[j + 1], *k2 = k[j + 2], *k3 = k[j + 3];
        __m256 d0 = _mm256_setzero_ps(), d1 = _mm256_setzero_ps(), d2 = _mm256_setzero_ps(), d3 = _mm256_setzero_ps();
        for (int x = 0; x < nv; x++) {
            const __m256 qx = _mm256_loadu_ps(q + 8 * x);
            d0 = _mm256_fmadd_ps(qx, ld8(k0, x, F16), d0);
            d1 = _mm256_fmadd_ps(qx, ld8(k1, x, F16), d1);
            d2 = _mm256_fmadd_ps(qx, ld8(k2, x, F16), d2);
            d3 = _mm256_fmadd_ps(qx, ld8(k3, x, F16), d3);
        }
        /* Lanes [d0 d1 d2 d3] of the low half plus those of the high half. */
        const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(d0, d1), _mm256_hadd_ps(d2, d3));
        const __m128 r = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        _mm_storeu_ps(s + j, _mm_mul_ps(r, _mm_set1_ps(scale)));
    }
    for (; j < n; j++) {
        __m256 d = _mm256_setzero_ps();
        for (int x = 0; x < nv; x++) d = _mm256_fmadd_ps(_mm256_loadu_ps(q + 8 * x), ld8(k[j], x, F16), d);
        s[j] = hsum(d) * scale;
    }
}

/* ac[0 ..< 8W] = ac * corr + sum_j p[j] v[j][x0 ..< x0 + W] (in vectors of 8), the W
 * accumulators in registers for the whole block (W is a compile-time constant at each call). */
RS_AVX2 __attribute__((always_inline)) static inline void mix_w(float *ac, const float *p, const void *const *v, int x0,
                                                                int n, float corr, const int W, const int F16) {
    __m256 av[8];
    const __m256 c = _mm256_set1_ps(corr);
    for (int x = 0; x < W; x++) av[x] = _mm256_mul_ps(_mm256_loadu_ps(ac + 8 * x), c);
    for (int j = 0; j < n; j++) {
        const __m256 pj = _mm256_set1_ps(p[j]);
        for (int x = 0; x < W; x++) av[x] = _mm256_fmadd_ps(pj, ld8(v[j], x0 + x, F16), av[x]);
    }
    for (int x = 0; x < W; x++) _mm256_storeu_ps(ac + 8 * x, av[x]);
}

RS_AVX2 __attribute__((always_inline)) static inline void mix(float *ac, const float *p, const void *const *v, int n,
                                                              int nv, float corr, const int F16) {
    for (int x0 = 0; x0 < nv; x0 += 8) {
        float *a = ac + 8 * x0;
        switch (nv - x0 < 8 ? nv - x0 : 8) {
        case 8: mix_w(a, p, v, x0, n, corr, 8, F16); break;
        case 7: mix_w(a, p, v, x0, n, corr, 7, F16); break;
        case 6: mix_w(a, p, v, x0, n, corr, 6, F16); break;
        case 5: mix_w(a, p, v, x0, n, corr, 5, F16); break;
        case 4: mix_w(a, p, v, x0, n, corr, 4, F16); break;
        case 3: mix_w(a, p, v, x0, n, corr, 3, F16); break;
        case 2: mix_w(a, p, v, x0, n, corr, 2, F16); break;
        default: mix_w(a, p, v, x0, n, corr, 1, F16); break;
        }
    }
}

/* Per block of 32 keys and per query head of the group: its scores, the online softmax, and the
 * weighted values with the head's accumulator in registers (as attention.c's AVX-512 kernel;
 * keeping it in memory made every key cost a load and a store per vector). */
RS_AVX2 __attribute__((always_inline)) static inline void attend(const rs_attention_args *a, int t, int g, int begin,
                                                                 int end, float *acc, float *m, float *l, const int F16) {
    const int G = a->n_head / a->n_kv, hd = a->head_dim, nv = hd / 8;
    const int32_t *slots = a->slots + a->tok_slot_off[t];
    float s[KV_BLOCK] __attribute__((aligned(32)));
    const void *k[KV_BLOCK], *v[KV_BLOCK];
    for (int j0 = begin; j0 < end; j0 += KV_BLOCK) {
        const int n = end - j0 < KV_BLOCK ? end - j0 : KV_BLOCK;
        for (int jj = 0; jj < n; jj++) {
            k[jj] = rs_kv_row(a, a->k_cache, slots[j0 + jj], g);
            v[jj] = rs_kv_row(a, a->v_cache, slots[j0 + jj], g);
        }
        rs_prefetch_kv_block(a, slots, g, j0 + KV_BLOCK, end);
        for (int i = 0; i < G; i++) {
            scores4(a->q + (int64_t)t * a->ldq + (int64_t)(g * G + i) * hd, k, n, nv, a->scale, s, F16);
            if (a->softcap > 0)
                for (int jj = 0; jj < n; jj++) s[jj] = a->softcap * tanhf(s[jj] / a->softcap);
            const float corr = online_softmax(s, n, &m[i], &l[i]);
            mix(acc + i * hd, s, v, n, nv, corr, F16);
        }
    }
}

RS_AVX2 void rs_attend_avx2(const rs_attention_args *a, int t, int g, int begin, int end, float *acc, float *m,
                            float *l) {
    if (a->kv_f16) attend(a, t, g, begin, end, acc, m, l, 1);
    else attend(a, t, g, begin, end, acc, m, l, 0);
}

#endif
