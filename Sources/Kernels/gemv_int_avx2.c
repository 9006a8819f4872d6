/*
 * The integer matrix-vector product with AVX2 and int16 activations (gemv_int_scalar.c is the
 * definition; gemv_int8_avx2.c takes int8 activations).
 *
 * Each 32-value weight block is widened once to two vectors of 16 int16 and reused for every
 * token: vpmaddwd with the token's int16 activations gives exact int32 partial sums, converted
 * to float once per block and scaled by weight scale * activation scale. T (1-4 tokens per
 * pass) is a compile-time constant at each call, so the accumulators stay in registers.
 */
#include <string.h>

#include "decode_avx2.h"

#if RS_X86

RS_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

RS_AVX2 __attribute__((always_inline)) static inline void tile(const int type, const rs_matmul_job *j,
                                                                const rs_qacts *a, int64_t t0, const int T,
                                                                int64_t r0, int64_t r1) {
    const int64_t nb = a->cols / 32;
    const int two_scales = type == RS_TYPE_Q6_K;
    const int has_off = type == RS_TYPE_Q4_1 || type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)j->w + r * j->row_bytes;
        __m256 acc[4];
        float offacc[4];
        for (int t = 0; t < T; t++) {
            acc[t] = _mm256_setzero_ps();
            offacc[t] = 0;
        }
        for (int64_t b = 0; b < nb; b++) {
            __m256i lo, hi;
            float s0, s1, off;
            decode_i16(type, row, b, &lo, &hi, &s0, &s1, &off);
            for (int t = 0; t < T; t++) {
                const int64_t tt = t0 + t;
                const int16_t *q = a->q16 + tt * a->cols + b * 32;
                const float dx = a->d[b * a->T + tt];
                const __m256i p0 = _mm256_madd_epi16(lo, _mm256_loadu_si256((const __m256i *)q));
                const __m256i p1 = _mm256_madd_epi16(hi, _mm256_loadu_si256((const __m256i *)(q + 16)));
                if (two_scales) {
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(s0 * dx), acc[t]);
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(s1 * dx), acc[t]);
                } else {
                    acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(p0, p1)), _mm256_set1_ps(s0 * dx),
                                             acc[t]);
                }
                if (has_off) offacc[t] += off * a->qsum[b * a->T + tt];
            }
        }
        for (int t = 0; t < T; t++) {
            const float v = hsum8(acc[t]) + offacc[t];
            float *p = j->y + (t0 + t) * j->ldy + r;
            *p = j->accumulate ? *p + v : v;
        }
    }
}

#define DEFINE_INT_GEMV(TYPE, NAME)                                                                 \
    RS_AVX2 static void NAME(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0,     \
                             int64_t r1) {                                                          \
        int64_t t = 0;                                                                              \
        for (; t + 4 <= T; t += 4) tile(TYPE, j, a, t, 4, r0, r1);                                  \
        switch (T - t) {                                                                            \
        case 3: tile(TYPE, j, a, t, 3, r0, r1); break;                                              \
        case 2: tile(TYPE, j, a, t, 2, r0, r1); break;                                              \
        case 1: tile(TYPE, j, a, t, 1, r0, r1); break;                                              \
        default: break;                                                                             \
        }                                                                                           \
    }

DEFINE_INT_GEMV(RS_TYPE_Q4_0, int_q4_0)
DEFINE_INT_GEMV(RS_TYPE_Q4_1, int_q4_1)
DEFINE_INT_GEMV(RS_TYPE_Q5_0, int_q5_0)
DEFINE_INT_GEMV(RS_TYPE_Q8_0, int_q8_0)
DEFINE_INT_GEMV(RS_TYPE_Q4_K, int_q4_k)
DEFINE_INT_GEMV(RS_TYPE_Q5_K, int_q5_k)
DEFINE_INT_GEMV(RS_TYPE_Q6_K, int_q6_k)

void rs_gemv_int_avx2(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    switch (j->type) {
    case RS_TYPE_Q4_0: int_q4_0(j, a, T, r0, r1); return;
    case RS_TYPE_Q4_1: int_q4_1(j, a, T, r0, r1); return;
    case RS_TYPE_Q5_0: int_q5_0(j, a, T, r0, r1); return;
    case RS_TYPE_Q8_0: int_q8_0(j, a, T, r0, r1); return;
    case RS_TYPE_Q4_K: int_q4_k(j, a, T, r0, r1); return;
    case RS_TYPE_Q5_K: int_q5_k(j, a, T, r0, r1); return;
    case RS_TYPE_Q6_K: int_q6_k(j, a, T, r0, r1); return;
    default: rs_gemv_int_scalar(j, a, T, r0, r1); return;
    }
}

#endif
