/*
 * Attention over a paged KV cache. A task is one query token and one KV head with all the query
 * heads that share it (grouped-query attention), so each cached K/V row is read once per group.
 * Keys are visited in blocks of 32 with an online softmax (running max and sum), so the cost is
 * linear in context length and no score matrix is ever materialized.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

#define KV_BLOCK 32
#define MAX_GROUP 32


static void softcap_scores(float *s, int n, float cap) {
    for (int i = 0; i < n; i++) s[i] = cap * tanhf(s[i] / cap);
}

/* Element x of a K/V row (fp32 or half, by the cache's type). */
static inline float kv_at(const rs_attention_args *a, const void *row, int x) {
    return a->kv_f16 ? rs_fp16_to_fp32(((const uint16_t *)row)[x]) : ((const float *)row)[x];
}

/* Attends query token t's heads of group g to cached positions [begin, end). Leaves the
 * unnormalized sums in acc (G x head_dim) with their running max m and sum of weights l, so
 * that key ranges computed apart can be merged. */
static void attend_ref(const rs_attention_args *a, int t, int g, int begin, int end, float *acc, float *m, float *l) {
    const int G = a->n_head / a->n_kv, hd = a->head_dim;
    const int32_t *slots = a->slots + a->tok_slot_off[t];
    float s[KV_BLOCK];
    for (int i = 0; i < G; i++) { m[i] = -INFINITY; l[i] = 0; }
    memset(acc, 0, sizeof(float) * (size_t)(G * hd));
    for (int i = 0; i < G; i++) {
        const float *q = a->q + (int64_t)t * a->ldq + (int64_t)(g * G + i) * hd;
        float *ac = acc + i * hd;
        for (int j0 = begin; j0 < end; j0 += KV_BLOCK) {
            const int n = end - j0 < KV_BLOCK ? end - j0 : KV_BLOCK;
            float bmax = -INFINITY;
            for (int jj = 0; jj < n; jj++) {
                const void *k = rs_kv_row(a, a->k_cache, slots[j0 + jj], g);
                float d = 0;
                for (int x = 0; x < hd; x++) d += q[x] * kv_at(a, k, x);
                s[jj] = d * a->scale;
            }
            if (a->softcap > 0) softcap_scores(s, n, a->softcap);
            for (int jj = 0; jj < n; jj++) bmax = s[jj] > bmax ? s[jj] : bmax;
            const float mnew = bmax > m[i] ? bmax : m[i];
            const float corr = expf(m[i] - mnew);
            l[i] *= corr;
            for (int x = 0; x < hd; x++) ac[x] *= corr;
            for (int jj = 0; jj < n; jj++) {
                const float p = expf(s[jj] - mnew);
                l[i] += p;
                const void *v = rs_kv_row(a, a->v_cache, slots[j0 + jj], g);
                for (int x = 0; x < hd; x++) ac[x] += p * kv_at(a, v, x);
            }
            m[i] = mnew;
        }
    }
}

#if RS_X86
/* Asks for the K and V rows of keys [j0, j0 + KV_BLOCK) (up to end) of KV head g to be brought
 * into L2 while the current block computes. A decode step's keys stream from DRAM (16 sequences
 * of a few hundred tokens hold 100+ MB of KV), and the hardware prefetcher does not follow them
 * across the scattered pages: on Zen 4 13 GB/s of KV with the AVX-512 kernel, 17 with this (the
 * AVX2 kernel: 8.5-11 to 13-14). Into L1 (T0) it gained nothing: a block's 256 lines are more
 * than L1 keeps outstanding. */
void rs_prefetch_kv_block(const rs_attention_args *a, const int32_t *slots, int g, int j0, int end) {
    const int n = end - j0 < KV_BLOCK ? end - j0 : KV_BLOCK;
    const int64_t bytes = (int64_t)a->head_dim * (a->kv_f16 ? 2 : 4);
    for (int jj = 0; jj < n; jj++) {
        const char *k = (const char *)rs_kv_row(a, a->k_cache, slots[j0 + jj], g);
        const char *v = (const char *)rs_kv_row(a, a->v_cache, slots[j0 + jj], g);
        for (int64_t x = 0; x < bytes; x += 64) { /* one line a step */
            _mm_prefetch(k + x, _MM_HINT_T1);
            _mm_prefetch(v + x, _MM_HINT_T1);
        }
    }
}

/* Lane j of the result is the sum of the 16 lanes of d[j]: a transposing add tree (45
 * instructions for 16 sums, where 16 separate horizontal reductions take about 130). */
RS_AVX512 static inline __m512 sum16(const __m512 d[16]) {
    __m512 x[8], y[4];
    for (int k = 0; k < 8; k++)
        x[k] = _mm512_add_ps(_mm512_unpacklo_ps(d[2 * k], d[2 * k + 1]), _mm512_unpackhi_ps(d[2 * k], d[2 * k + 1]));
    for (int k = 0; k < 4; k++)
        y[k] = _mm512_add_ps(_mm512_shuffle_ps(x[2 * k], x[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(x[2 * k], x[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    /* Each 128-bit lane L of y[k] now holds lane L's partial sums of d[4k .. 4k+3]. */
    const __m512 u0 = _mm512_add_ps(_mm512_shuffle_f32x4(y[0], y[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm512_shuffle_f32x4(y[0], y[1], _MM_SHUFFLE(3, 2, 3, 2)));
    const __m512 u1 = _mm512_add_ps(_mm512_shuffle_f32x4(y[2], y[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm512_shuffle_f32x4(y[2], y[3], _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm512_add_ps(_mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(u0, u1, _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Vector x (16 lanes) of a K/V row; F16 is a compile-time constant at every call, so the
 * half cache costs one conversion per load and no branch. */
RS_AVX512 __attribute__((always_inline)) static inline __m512 ld16(const void *row, int x, const int F16) {
    return F16 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)row + 16 * x)))
               : _mm512_loadu_ps((const float *)row + 16 * x);
}

/* Scores of one query head against up to 32 keys into s, with the query (up to 8 vectors at a
 * time) and 16 keys' partial products in registers; NV and F16 are compile-time constants at
 * the call sites. Head dims past 128 (Gemma 3's 256) go in chunks of 8 vectors. */
RS_AVX512 __attribute__((always_inline)) static inline void scores_nv(const float *q, const void *const *k, int n,
                                                                       float scale, float *s, const int NV, const int F16) {
    for (int j0 = 0; j0 < n; j0 += 16) {
        __m512 d[16];
        for (int c0 = 0; c0 < NV; c0 += 8) {
            const int W = NV - c0 < 8 ? NV - c0 : 8;
            __m512 qv[8];
            for (int x = 0; x < W; x++) qv[x] = _mm512_loadu_ps(q + 16 * (c0 + x));
            for (int jj = 0; jj < 16; jj++) {
                if (j0 + jj < n) {
                    __m512 acc = c0 == 0 ? _mm512_mul_ps(qv[0], ld16(k[j0 + jj], c0, F16))
                                         : _mm512_fmadd_ps(qv[0], ld16(k[j0 + jj], c0, F16), d[jj]);
                    for (int x = 1; x < W; x++) acc = _mm512_fmadd_ps(qv[x], ld16(k[j0 + jj], c0 + x, F16), acc);
                    d[jj] = acc;
                } else {
                    d[jj] = _mm512_setzero_ps();
                }
            }
        }
        _mm512_store_ps(s + j0, _mm512_mul_ps(sum16(d), _mm512_set1_ps(scale)));
    }
}

/* acc += sum_j p[j] v[j], up to 8 vectors of acc in registers at a time, two chains for
 * latency. */
RS_AVX512 __attribute__((always_inline)) static inline void mix_nv(float *ac, const float *p, const void *const *v, int n,
                                                                    float corr, const int NV, const int F16) {
    const __m512 c = _mm512_set1_ps(corr);
    for (int c0 = 0; c0 < NV; c0 += 8) {
        const int W = NV - c0 < 8 ? NV - c0 : 8;
        __m512 a0[8], a1[8];
        for (int x = 0; x < W; x++) {
            a0[x] = _mm512_mul_ps(_mm512_loadu_ps(ac + 16 * (c0 + x)), c);
            a1[x] = _mm512_setzero_ps();
        }
        int j = 0;
        for (; j + 2 <= n; j += 2) {
            const __m512 p0 = _mm512_set1_ps(p[j]), p1 = _mm512_set1_ps(p[j + 1]);
            for (int x = 0; x < W; x++) {
                a0[x] = _mm512_fmadd_ps(p0, ld16(v[j], c0 + x, F16), a0[x]);
                a1[x] = _mm512_fmadd_ps(p1, ld16(v[j + 1], c0 + x, F16), a1[x]);
            }
        }
        if (j < n) {
            const __m512 p0 = _mm512_set1_ps(p[j]);
            for (int x = 0; x < W; x++) a0[x] = _mm512_fmadd_ps(p0, ld16(v[j], c0 + x, F16), a0[x]);
        }
        for (int x = 0; x < W; x++) _mm512_storeu_ps(ac + 16 * (c0 + x), _mm512_add_ps(a0[x], a1[x]));
    }
}

/* Softmax bookkeeping of one head's block of n scores: exponentiates s in place, updates the
 * running max m and sum l, and returns the factor the accumulated values must be scaled by. */
RS_AVX512 static inline float online_softmax(float *s, int n, float *m, float *l) {
    const __mmask16 m0 = n >= 16 ? 0xFFFF : (__mmask16)((1u << n) - 1);
    const __mmask16 m1 = n >= 32 ? 0xFFFF : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : 0;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 v0 = _mm512_mask_loadu_ps(ninf, m0, s);
    __m512 v1 = _mm512_mask_loadu_ps(ninf, m1, s + 16);
    const float bmax = _mm512_reduce_max_ps(_mm512_max_ps(v0, v1));
    const float mnew = bmax > *m ? bmax : *m;
    const float corr = expf(*m - mnew);
    const __m512 mn = _mm512_set1_ps(mnew);
    v0 = _mm512_maskz_mov_ps(m0, rs_exp512(_mm512_sub_ps(v0, mn)));
    v1 = _mm512_maskz_mov_ps(m1, rs_exp512(_mm512_sub_ps(v1, mn)));
    *l = *l * corr + _mm512_reduce_add_ps(_mm512_add_ps(v0, v1));
    _mm512_store_ps(s, v0);
    _mm512_store_ps(s + 16, v1);
    *m = mnew;
    return corr;
}

/* The register-tiled attention: per block of 32 keys and per query head of the group, its
 * scores, the online softmax and the weighted values, with the head's accumulator in
 * registers (NV vectors of 16; F16: the cache holds halves). */
RS_AVX512 __attribute__((always_inline)) static inline void attend_nv(const rs_attention_args *a, int t, int g, int begin,
                                                                       int end, float *acc, float *m, float *l, const int NV,
                                                                       const int F16) {
    const int G = a->n_head / a->n_kv, hd = a->head_dim;
    const int32_t *slots = a->slots + a->tok_slot_off[t];
    float s[KV_BLOCK] __attribute__((aligned(64)));
    const void *k[KV_BLOCK], *v[KV_BLOCK];
    for (int j0 = begin; j0 < end; j0 += KV_BLOCK) {
        const int n = end - j0 < KV_BLOCK ? end - j0 : KV_BLOCK;
        for (int jj = 0; jj < n; jj++) {
            k[jj] = rs_kv_row(a, a->k_cache, slots[j0 + jj], g);
            v[jj] = rs_kv_row(a, a->v_cache, slots[j0 + jj], g);
        }
        rs_prefetch_kv_block(a, slots, g, j0 + KV_BLOCK, end);
        for (int i = 0; i < G; i++) {
            scores_nv(a->q + (int64_t)t * a->ldq + (int64_t)(g * G + i) * hd, k, n, a->scale, s, NV, F16);
            if (a->softcap > 0) softcap_scores(s, n, a->softcap);
            const float corr = online_softmax(s, n, &m[i], &l[i]);
            mix_nv(acc + i * hd, s, v, n, corr, NV, F16);
        }
    }
}

/* Head dims of 16-lane vectors other than the tiled ones: the accumulators stay in memory. */
RS_AVX512 __attribute__((always_inline)) static inline void attend_any(const rs_attention_args *a, int t, int g, int begin,
                                                                        int end, float *acc, float *m, float *l, const int F16) {
    const int G = a->n_head / a->n_kv, hd = a->head_dim, nv = hd / 16;
    const int32_t *slots = a->slots + a->tok_slot_off[t];
    float s[MAX_GROUP][KV_BLOCK] __attribute__((aligned(64)));
    const float *q[MAX_GROUP];
    for (int i = 0; i < G; i++) q[i] = a->q + (int64_t)t * a->ldq + (int64_t)(g * G + i) * hd;
    for (int j0 = begin; j0 < end; j0 += KV_BLOCK) {
        const int n = end - j0 < KV_BLOCK ? end - j0 : KV_BLOCK;
        for (int jj = 0; jj < n; jj++) {
            const void *k = rs_kv_row(a, a->k_cache, slots[j0 + jj], g);
            for (int i = 0; i < G; i++) {
                __m512 d = _mm512_setzero_ps();
                for (int x = 0; x < nv; x++) d = _mm512_fmadd_ps(_mm512_loadu_ps(q[i] + 16 * x), ld16(k, x, F16), d);
                s[i][jj] = _mm512_reduce_add_ps(d) * a->scale;
            }
        }
        for (int i = 0; i < G; i++) {
            if (a->softcap > 0) softcap_scores(s[i], n, a->softcap);
            const float corr = online_softmax(s[i], n, &m[i], &l[i]);
            if (corr != 1.0f) {
                const __m512 c = _mm512_set1_ps(corr);
                float *ac = acc + i * hd;
                for (int x = 0; x < nv; x++) _mm512_storeu_ps(ac + 16 * x, _mm512_mul_ps(_mm512_loadu_ps(ac + 16 * x), c));
            }
        }
        for (int jj = 0; jj < n; jj++) {
            const void *v = rs_kv_row(a, a->v_cache, slots[j0 + jj], g);
            for (int i = 0; i < G; i++) {
                const __m512 p = _mm512_set1_ps(s[i][jj]);
                float *ac = acc + i * hd;
                for (int x = 0; x < nv; x++)
                    _mm512_storeu_ps(ac + 16 * x, _mm512_fmadd_ps(p, ld16(v, x, F16), _mm512_loadu_ps(ac + 16 * x)));
            }
        }
    }
}

#define ATTEND_NV_CASES(F16)                                                                                           \
    switch (a->head_dim) {                                                                                             \
    case 32: attend_nv(a, t, g, begin, end, acc, m, l, 2, F16); return;                                                \
    case 64: attend_nv(a, t, g, begin, end, acc, m, l, 4, F16); return;                                                \
    case 128: attend_nv(a, t, g, begin, end, acc, m, l, 8, F16); return;                                               \
    case 256: attend_nv(a, t, g, begin, end, acc, m, l, 16, F16); return;                                              \
    default: attend_any(a, t, g, begin, end, acc, m, l, F16); return;                                                  \
    }

RS_AVX512 static void attend_avx512(const rs_attention_args *a, int t, int g, int begin, int end, float *acc, float *m, float *l) {
    if (a->kv_f16) ATTEND_NV_CASES(1)
    else ATTEND_NV_CASES(0)
}
#undef ATTEND_NV_CASES
#endif

static void attend(const rs_attention_args *a, int t, int g, int begin, int end, float *acc, float *m, float *l) {
    for (int i = 0; i < a->n_head / a->n_kv; i++) { m[i] = -INFINITY; l[i] = 0; }
    memset(acc, 0, sizeof(float) * (size_t)(a->n_head / a->n_kv * a->head_dim));
#if RS_X86
    if (rs_have_avx512() && a->head_dim % 16 == 0) {
        attend_avx512(a, t, g, begin, end, acc, m, l);
        return;
    }
    if (rs_isa() >= RS_ISA_AVX2 && a->head_dim % 8 == 0) {
        rs_attend_avx2(a, t, g, begin, end, acc, m, l);
        return;
    }
#endif
    attend_ref(a, t, g, begin, end, acc, m, l);
}

/* Folds a second partial result (acc2, m2, l2: unnormalized sums, running max, sum of weights)
 * of the same query heads into the first, as if their keys had been visited in one pass. */
static void merge_partial(float *acc, float *m, float *l, const float *acc2, const float *m2, const float *l2, int G,
                          int hd) {
    for (int i = 0; i < G; i++) {
        if (l2[i] == 0) continue;
        float *ac = acc + i * hd;
        const float *a2 = acc2 + i * hd;
        if (l[i] == 0) {
            memcpy(ac, a2, sizeof(float) * (size_t)hd);
            m[i] = m2[i];
            l[i] = l2[i];
            continue;
        }
        const float mx = m[i] > m2[i] ? m[i] : m2[i];
        const float w1 = expf(m[i] - mx), w2 = expf(m2[i] - mx);
        for (int x = 0; x < hd; x++) ac[x] = ac[x] * w1 + a2[x] * w2;
        l[i] = l[i] * w1 + l2[i] * w2;
        m[i] = mx;
    }
}

/* The tree part of a token's keys: positions base + i for the bits i of `bits`, attended run
 * by run of consecutive bits (a chain's ancestors are one run) and merged into acc. */
static void attend_tree(const rs_attention_args *a, int t, int g, int base, uint64_t bits, float *acc, float *m,
                        float *l, float *tmp) {
    const int G = a->n_head / a->n_kv;
    float m2[MAX_GROUP], l2[MAX_GROUP];
    while (bits) {
        const int lo = __builtin_ctzll(bits);
        int hi = lo;
        while (hi < 64 && ((bits >> hi) & 1)) hi++;
        bits = hi < 64 ? bits & ~((1ull << hi) - 1) : 0;
        attend(a, t, g, base + lo, base + hi, tmp, m2, l2);
        merge_partial(acc, m, l, tmp, m2, l2, G, a->head_dim);
    }
}

/* A task is (token, KV head, key split). With few tokens (decode) there are fewer
 * (token, head) pairs than threads, so each pair's keys are split and the parts merged
 * afterwards: flash-decoding. `partial` holds per task G x (head_dim + 2) floats. */
typedef struct {
    const rs_attention_args *a;
    int splits;
    float *partial;
    _Atomic int64_t next;
} attn_ctx;

static void attention_task(void *p, int ith, int nth) {
    (void)ith;
    (void)nth;
    attn_ctx *c = (attn_ctx *)p;
    const rs_attention_args *a = c->a;
    const int G = a->n_head / a->n_kv, hd = a->head_dim;
    /* acc, and a second buffer for the tree part's runs. */
    float *acc = rs_scratch(2 * (int64_t)G * hd);
    float m[MAX_GROUP], l[MAX_GROUP];
    const int64_t total = (int64_t)a->n_tokens * a->n_kv * c->splits;
    for (;;) {
        const int64_t k = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
        if (k >= total) break;
        const int split = (int)(k % c->splits);
        const int64_t pair = k / c->splits;
        const int t = (int)(pair / a->n_kv), g = (int)(pair % a->n_kv);
        const int b0 = a->tok_kv_begin[t], e0 = a->tok_kv_end[t];
        const int len = (e0 - b0 + c->splits - 1) / c->splits;
        const int begin = b0 + split * len, end = begin + len < e0 ? begin + len : e0;
        attend(a, t, g, begin, end > begin ? end : begin, acc, m, l);
        const uint64_t tree = a->tok_tree_mask ? a->tok_tree_mask[t] : 0;
        if (tree && split == c->splits - 1) attend_tree(a, t, g, e0, tree, acc, m, l, acc + G * hd);
        if (c->splits == 1) {
            for (int i = 0; i < G; i++) {
                const float inv = l[i] > 0 ? 1.0f / l[i] : 0.0f;
                float *o = a->out + (int64_t)t * a->ldo + (int64_t)(g * G + i) * hd;
                for (int x = 0; x < hd; x++) o[x] = acc[i * hd + x] * inv;
            }
        } else {
            float *part = c->partial + k * G * (hd + 2);
            for (int i = 0; i < G; i++) {
                memcpy(part + i * (hd + 2), acc + i * hd, sizeof(float) * (size_t)hd);
                part[i * (hd + 2) + hd] = m[i];
                part[i * (hd + 2) + hd + 1] = l[i];
            }
        }
    }
}

static void merge_splits(const rs_attention_args *a, int splits, const float *partial) {
    const int G = a->n_head / a->n_kv, hd = a->head_dim;
    for (int64_t pair = 0; pair < (int64_t)a->n_tokens * a->n_kv; pair++) {
        const int t = (int)(pair / a->n_kv), g = (int)(pair % a->n_kv);
        for (int i = 0; i < G; i++) {
            float mx = -INFINITY;
            for (int s = 0; s < splits; s++) {
                const float ms = partial[((pair * splits + s) * G + i) * (hd + 2) + hd];
                mx = ms > mx ? ms : mx;
            }
            float *o = a->out + (int64_t)t * a->ldo + (int64_t)(g * G + i) * hd;
            memset(o, 0, sizeof(float) * (size_t)hd);
            float lsum = 0;
            for (int s = 0; s < splits; s++) {
                const float *ps = partial + ((pair * splits + s) * G + i) * (hd + 2);
                if (ps[hd + 1] == 0) continue;
                const float w = expf(ps[hd] - mx);
                lsum += w * ps[hd + 1];
                for (int x = 0; x < hd; x++) o[x] += w * ps[x];
            }
            const float inv = lsum > 0 ? 1.0f / lsum : 0.0f;
            for (int x = 0; x < hd; x++) o[x] *= inv;
        }
    }
}

/* Keys per split below which splitting costs more than it saves. */
#define MIN_KEYS_PER_SPLIT 64

void rs_attention(const rs_attention_args *a) {
    if (a->n_tokens <= 0) return;
    if (a->n_kv <= 0 || a->n_head % a->n_kv != 0 || a->n_head / a->n_kv > MAX_GROUP) return;
    attn_ctx c;
    c.a = a;
    c.splits = 1;
    c.partial = NULL;
    const int64_t pairs = (int64_t)a->n_tokens * a->n_kv;
    const int nth = rs_pool_size();
    if (pairs < 4 * nth) {
        int longest = 0;
        for (int t = 0; t < a->n_tokens; t++) {
            const int len = a->tok_kv_end[t] - a->tok_kv_begin[t];
            longest = len > longest ? len : longest;
        }
        int want = (int)((4 * nth + pairs - 1) / pairs);
        /* Whole rounds of items for the threads: 9 equal items on 2 threads take as long as 10. */
        while ((pairs * want) % nth != 0 && want < 4 * nth) want++;
        const int most = longest / MIN_KEYS_PER_SPLIT;
        c.splits = want < most ? want : most;
        if (c.splits < 1) c.splits = 1;
    }
    if (c.splits > 1) {
        const int G = a->n_head / a->n_kv;
        /* The caller's scratch: this thread issues the region and merges afterwards. */
        c.partial = rs_scratch_outer(pairs * c.splits * G * (a->head_dim + 2));
    }
    atomic_init(&c.next, 0);
    int64_t work = 0;
    for (int t = 0; t < a->n_tokens; t++) work += a->tok_kv_end[t] - a->tok_kv_begin[t];
    /* A multiply-add here costs several of a matrix product's (two passes over gathered rows and
     * an exponential per key), so attention joins the pool at a quarter of the products' size:
     * decode at 60 positions or more for SmolLM2's 9 heads of 64. */
    if (work * a->n_head * a->head_dim < RS_SERIAL_WORK / 4) rs_run_serial(attention_task, &c);
    else rs_parallel(attention_task, &c);
    if (c.splits > 1) merge_splits(a, c.splits, c.partial);
}
