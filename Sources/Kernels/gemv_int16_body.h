/*
 * The integer matrix-vector product with int16 activations, included once per instruction set:
 * gemv_int_avx2.c (AVX2) and gemv_int_vnni.c (AVX-512 VNNI), which define INT_TARGET (the
 * target attribute), INT_ENTRY (the function's name) and PAIR_SUM(lo, q0, hi, q1), the int32
 * sums lo . q0 + hi . q1 over pairs of int16. gemv_int_scalar.c is the definition;
 * gemv_int8_body.h takes int8 activations.
 *
 * Each 32-value weight block is widened once to two vectors of 16 int16 and reused for every
 * token: vpmaddwd with the token's int16 activations gives exact int32 partial sums, converted
 * to float once per block and scaled by weight scale * activation scale. T (1-8 tokens per
 * pass) is a compile-time constant at each call, so the accumulators stay in registers.
 * On Zen 3 these loops are bound by the number of vector operations per block, not by the FMA
 * chain's latency, so what pays is taking work off the vector ports (see tile()).
 */
#include <string.h>

#include "decode_avx2.h"

#if RS_X86

/* One block's integer products with T tokens, scaled: e0[t] (and e1[t] for Q6_K's second half)
 * is the block's weight scale times token t's activation scale. */
#define BLOCK_PRODUCTS(ACC, LO, HI, QB, E0, E1)                                                     \
    for (int t = 0; t < T; t++) {                                                                   \
        const int16_t *q = (QB) + t * a->cols;                                                      \
        const __m256i q0 = _mm256_loadu_si256((const __m256i *)q);                                  \
        const __m256i q1 = _mm256_loadu_si256((const __m256i *)(q + 16));                           \
        if (two_scales) {                                                                           \
            ACC[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(LO, q0)), E0(t), ACC[t]); \
            ACC[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(HI, q1)), E1(t), ACC[t]); \
        } else {                                                                                    \
            ACC[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(PAIR_SUM(LO, q0, HI, q1)), E0(t), ACC[t]);  \
        }                                                                                           \
    }

/* The scales of a block for several tokens: lane t of the block's sd0/sd1. */
#define E0_T(t) _mm256_broadcast_ss(sd0 + t)
#define E1_T(t) _mm256_broadcast_ss(sd1 + t)

/* One token, one row, with two accumulators (even and odd blocks): on Zen 4 a single FMA chain's
 * latency (4 cycles a block) bounded this loop, 1.24x slower. The blocks go in groups of eight
 * as in tile(), whose scales are decoded at once. */
INT_TARGET __attribute__((always_inline)) static inline float row_one(const int type, const uint8_t *row,
                                                                       const rs_qacts *a) {
    const int64_t nb = a->cols / 32, ng = type == RS_TYPE_Q8_0 ? 0 : nb / 8;
    const int two_scales = type == RS_TYPE_Q6_K;
    const int has_off = type == RS_TYPE_Q4_1 || type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K;
    const int16_t *q16 = a->q16;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), offv = _mm256_setzero_ps();
    for (int64_t g = 0; g < ng; g++) {
        __m256 s0v, s1v, offw;
        scales8_i16(type, row, g * 8, &s0v, &s1v, &offw);
        float e0[8], e1[8];
        const __m256 dv = _mm256_loadu_ps(a->d + g * 8);
        _mm256_storeu_ps(e0, _mm256_mul_ps(s0v, dv));
        if (two_scales) _mm256_storeu_ps(e1, _mm256_mul_ps(s1v, dv));
        if (has_off) offv = _mm256_fmadd_ps(offw, _mm256_loadu_ps(a->qsum + g * 8), offv);
        for (int k = 0; k < 8; k += 2) {
            const int64_t b = g * 8 + k;
            _mm_prefetch((const char *)row + block_offset(type, b) + PREFETCH_AHEAD_ONE, _MM_HINT_T0);
            __m256i lo0, hi0, lo1, hi1;
            float u0, u1, uo; /* unused: the compiler drops their decoding */
            decode_i16(type, row, b, &lo0, &hi0, &u0, &u1, &uo);
            decode_i16(type, row, b + 1, &lo1, &hi1, &u0, &u1, &uo);
            const __m256i *q = (const __m256i *)(q16 + b * 32);
            const __m256i q0 = _mm256_loadu_si256(q), q1 = _mm256_loadu_si256(q + 1);
            const __m256i q2 = _mm256_loadu_si256(q + 2), q3 = _mm256_loadu_si256(q + 3);
            if (two_scales) {
                acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(lo0, q0)), _mm256_broadcast_ss(e0 + k), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(hi0, q1)), _mm256_broadcast_ss(e1 + k), acc1);
                acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(lo1, q2)), _mm256_broadcast_ss(e0 + k + 1), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(hi1, q3)), _mm256_broadcast_ss(e1 + k + 1), acc1);
            } else {
                acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(PAIR_SUM(lo0, q0, hi0, q1)), _mm256_broadcast_ss(e0 + k), acc0);
                acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(PAIR_SUM(lo1, q2, hi1, q3)), _mm256_broadcast_ss(e0 + k + 1), acc1);
            }
        }
    }
    /* Blocks after the last whole group (and all of Q8_0's) take their scales one block at a
     * time; Q6_K's halves go to the two chains, other types' blocks alternate between them. */
    float off1 = 0;
    for (int64_t b = ng * 8; b < nb; b++) {
        _mm_prefetch((const char *)row + block_offset(type, b) + PREFETCH_AHEAD_ONE, _MM_HINT_T0);
        __m256i lo, hi;
        float s0, s1, off;
        decode_i16(type, row, b, &lo, &hi, &s0, &s1, &off);
        const __m256i *q = (const __m256i *)(q16 + b * 32);
        const __m256i q0 = _mm256_loadu_si256(q), q1 = _mm256_loadu_si256(q + 1);
        if (two_scales) {
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(lo, q0)), _mm256_set1_ps(s0 * a->d[b]), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(hi, q1)), _mm256_set1_ps(s1 * a->d[b]), acc1);
        } else {
            const __m256 v = _mm256_cvtepi32_ps(PAIR_SUM(lo, q0, hi, q1));
            if (b & 1) acc1 = _mm256_fmadd_ps(v, _mm256_set1_ps(s0 * a->d[b]), acc1);
            else acc0 = _mm256_fmadd_ps(v, _mm256_set1_ps(s0 * a->d[b]), acc0);
        }
        if (has_off) off1 += off * a->qsum[b];
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(acc0, acc1), offv)) + off1;
}

/* Rows [r0, r1) for tokens t0 ..< t0 + T, T <= 8. The blocks go in groups of eight whose scales
 * and offsets are decoded at once (scales8_i16): per block only the integers are decoded on the
 * vector ports, which bound these loops. Each token takes its scales per block from one vector
 * over the tile's tokens (lane t: token t0 + t). Blocks after the last whole group take the
 * scales from decode_i16 one at a time. One token alone (decode of one stream) goes to
 * row_one(), which multiplies its eight activation scales with the eight weight scales in one
 * vector product and adds the eight offsets with one FMA. */
INT_TARGET __attribute__((always_inline)) static inline void tile(const int type, const rs_matmul_job *j,
                                                                const rs_qacts *a, int64_t t0, const int T,
                                                                int64_t r0, int64_t r1) {
    /* Q8_0 keeps the per-block scales: its blocks decode in two loads, and grouping its scales
     * was no faster in L2 and slower streaming from DRAM (the Gemma 3 head). */
    const int64_t nb = a->cols / 32, ld = a->T, ng = type == RS_TYPE_Q8_0 ? 0 : nb / 8;
    const int two_scales = type == RS_TYPE_Q6_K;
    const int has_off = type == RS_TYPE_Q4_1 || type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K;
    const int16_t *q16 = a->q16 + t0 * a->cols;
    const float *dx = a->d + t0, *qsum = a->qsum + t0;
    if (T == 1 && ld == 1) {
        for (int64_t r = r0; r < r1; r++) {
            const float v = row_one(type, (const uint8_t *)j->w + r * j->row_bytes, a);
            float *p = j->y + t0 * j->ldy + r;
            *p = j->accumulate ? *p + v : v;
        }
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)j->w + r * j->row_bytes;
        __m256 acc[8];
        for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
        __m256 offv = _mm256_setzero_ps();
        for (int64_t g = 0; g < ng; g++) {
            float e0[8], e1[8], ow[8];
            scales8_i16_arrays(type, row, g * 8, e0, e1, ow);
            for (int k = 0; k < 8; k++) {
                const int64_t b = g * 8 + k;
                _mm_prefetch((const char *)row + block_offset(type, b) + PREFETCH_AHEAD, _MM_HINT_T0);
                __m256i lo, hi;
                float u0, u1, uo; /* unused: the compiler drops their decoding */
                decode_i16(type, row, b, &lo, &hi, &u0, &u1, &uo);
                const int64_t i = b * ld;
                const __m256 dv = _mm256_loadu_ps(dx + i);
                float sd0[8], sd1[8];
                _mm256_storeu_ps(sd0, _mm256_mul_ps(dv, _mm256_broadcast_ss(e0 + k)));
                if (two_scales) _mm256_storeu_ps(sd1, _mm256_mul_ps(dv, _mm256_broadcast_ss(e1 + k)));
                if (has_off) offv = _mm256_fmadd_ps(_mm256_broadcast_ss(ow + k), _mm256_loadu_ps(qsum + i), offv);
                BLOCK_PRODUCTS(acc, lo, hi, q16 + b * 32, E0_T, E1_T)
            }
        }
        float off1 = 0;
        for (int64_t b = ng * 8; b < nb; b++) {
            _mm_prefetch((const char *)row + block_offset(type, b) + PREFETCH_AHEAD, _MM_HINT_T0);
            __m256i lo, hi;
            float s0, s1, off;
            decode_i16(type, row, b, &lo, &hi, &s0, &s1, &off);
            const int64_t i = b * ld;
            float sd0[8], sd1[8];
            if (T > 1) {
                const __m256 dv = _mm256_loadu_ps(dx + i);
                _mm256_storeu_ps(sd0, _mm256_mul_ps(dv, _mm256_set1_ps(s0)));
                if (two_scales) _mm256_storeu_ps(sd1, _mm256_mul_ps(dv, _mm256_set1_ps(s1)));
                if (has_off) offv = _mm256_fmadd_ps(_mm256_set1_ps(off), _mm256_loadu_ps(qsum + i), offv);
            } else {
                sd0[0] = s0 * dx[i];
                sd1[0] = s1 * dx[i];
                if (has_off) off1 += off * qsum[i];
            }
            BLOCK_PRODUCTS(acc, lo, hi, q16 + b * 32, E0_T, E1_T)
        }
        float offs[8];
        _mm256_storeu_ps(offs, offv);
        for (int t = 0; t < T; t++) {
            const float v = hsum8(acc[t]) + offs[t] + off1;
            float *p = j->y + (t0 + t) * j->ldy + r;
            *p = j->accumulate ? *p + v : v;
        }
    }
}

#include "gemv_int_entry.h"

#endif
