#ifndef RINGSIDE_KERNELS_DECODE_AVX512_H
#define RINGSIDE_KERNELS_DECODE_AVX512_H

/* Decoding one 32-value block of a stored weight row into two fp32 vectors, shared by the
 * matrix-vector kernels (matmul.c) and the grouped expert products (grouped.c). */

#include <string.h>

#include "internal.h"

#if RS_X86

RS_AVX512 static inline float f16s(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* K-quant 6-bit scale and min of sub-block j (ggml's get_scale_min_k4). */
static inline void k4_scale_min(int j, const uint8_t *q, float *sc, float *m) {
    if (j < 4) {
        *sc = (float)(q[j] & 63);
        *m = (float)(q[j + 4] & 63);
    } else {
        *sc = (float)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (float)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* The K-quants keep 256 values per super-block, but every 32 of them share one scale (two for
 * Q6_K), so they decode 32 at a time like the simple types: 32-value block b is sub-block b % 8
 * of super-block b / 8. Same float expressions as the reference dequantizers. */
RS_AVX512 static inline void decode_q4_k(const uint8_t *row, int64_t b, __m512 *w0, __m512 *w1) {
    const uint8_t *bp = row + (b >> 3) * 144;
    const int j = (int)(b & 7);
    float sc, m;
    k4_scale_min(j, bp + 4, &sc, &m);
    const uint8_t *q = bp + 16 + 32 * (j >> 1);
    __m512i lo = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)q));
    __m512i hi = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(q + 16)));
    if (j & 1) {
        lo = _mm512_srli_epi32(lo, 4);
        hi = _mm512_srli_epi32(hi, 4);
    } else {
        lo = _mm512_and_si512(lo, _mm512_set1_epi32(0x0F));
        hi = _mm512_and_si512(hi, _mm512_set1_epi32(0x0F));
    }
    const __m512 d = _mm512_set1_ps(f16s(bp) * sc), mn = _mm512_set1_ps(f16s(bp + 2) * m);
    *w0 = _mm512_sub_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(lo)), mn);
    *w1 = _mm512_sub_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(hi)), mn);
}

RS_AVX512 static inline void decode_q5_k(const uint8_t *row, int64_t b, __m512 *w0, __m512 *w1) {
    const uint8_t *bp = row + (b >> 3) * 176;
    const int j = (int)(b & 7);
    float sc, m;
    k4_scale_min(j, bp + 4, &sc, &m);
    const uint8_t *ql = bp + 48 + 32 * (j >> 1), *qh = bp + 16;
    const __m512i bit = _mm512_set1_epi32(1 << j), sixteen = _mm512_set1_epi32(16);
    __m512 out[2];
    for (int h = 0; h < 2; h++) {
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16 * h)));
        v = (j & 1) ? _mm512_srli_epi32(v, 4) : _mm512_and_si512(v, _mm512_set1_epi32(0x0F));
        const __m512i hb = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16 * h)));
        v = _mm512_mask_add_epi32(v, _mm512_test_epi32_mask(hb, bit), v, sixteen);
        out[h] = _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(f16s(bp) * sc), _mm512_cvtepi32_ps(v)),
                               _mm512_set1_ps(f16s(bp + 2) * m));
    }
    *w0 = out[0];
    *w1 = out[1];
}

RS_AVX512 static inline void decode_q6_k(const uint8_t *row, int64_t b, __m512 *w0, __m512 *w1) {
    const uint8_t *bp = row + (b >> 3) * 210;
    const int n = (int)((b & 7) >> 2), k = (int)(b & 3);
    const uint8_t *ql = bp + 64 * n + 32 * (k & 1), *qh = bp + 128 + 32 * n;
    const int8_t *sc = (const int8_t *)(bp + 192) + 8 * n + 2 * k;
    const float d = f16s(bp + 208);
    __m512 out[2];
    for (int h = 0; h < 2; h++) {
        __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(ql + 16 * h)));
        v = k >= 2 ? _mm512_srli_epi32(v, 4) : _mm512_and_si512(v, _mm512_set1_epi32(0x0F));
        const __m512i hb = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(qh + 16 * h)));
        const __m512i high = _mm512_and_si512(_mm512_srli_epi32(hb, 2 * k), _mm512_set1_epi32(3));
        v = _mm512_sub_epi32(_mm512_or_si512(v, _mm512_slli_epi32(high, 4)), _mm512_set1_epi32(32));
        out[h] = _mm512_mul_ps(_mm512_set1_ps(d * (float)sc[h]), _mm512_cvtepi32_ps(v));
    }
    *w0 = out[0];
    *w1 = out[1];
}

/* Decodes block b of a row into two vectors of 16 weights. One switch per block is cheap next
 * to the 2*T FMAs that follow, and keeps a single loop for all fused types. */
#define DECODE_BLOCK(TYPE, row, b, w0, w1)                                                        \
    do {                                                                                          \
        if ((TYPE) == RS_TYPE_Q4_1) {                                                             \
            const uint8_t *bp = (row) + (b) * 20;                                                 \
            const __m512 d = _mm512_set1_ps(f16s(bp)), m = _mm512_set1_ps(f16s(bp + 2));         \
            const __m128i q = _mm_loadu_si128((const __m128i *)(bp + 4));                         \
            const __m128i lo = _mm_and_si128(q, _mm_set1_epi8(0x0F));                             \
            const __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0F));          \
            w0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo)), d, m);            \
            w1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi)), d, m);            \
        } else if ((TYPE) == RS_TYPE_Q4_0) {                                                      \
            const uint8_t *bp = (row) + (b) * 18;                                                 \
            const __m512 d = _mm512_set1_ps(f16s(bp));                                            \
            const __m128i q = _mm_loadu_si128((const __m128i *)(bp + 2));                         \
            const __m128i lo = _mm_sub_epi8(_mm_and_si128(q, _mm_set1_epi8(0x0F)), _mm_set1_epi8(8)); \
            const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0F)), \
                                            _mm_set1_epi8(8));                                    \
            w0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo)), d);                 \
            w1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi)), d);                 \
        } else if ((TYPE) == RS_TYPE_Q4_K) {                                                      \
            decode_q4_k((row), (b), &(w0), &(w1));                                                \
        } else if ((TYPE) == RS_TYPE_Q5_K) {                                                      \
            decode_q5_k((row), (b), &(w0), &(w1));                                                \
        } else if ((TYPE) == RS_TYPE_Q6_K) {                                                      \
            decode_q6_k((row), (b), &(w0), &(w1));                                                \
        } else if ((TYPE) == RS_TYPE_Q5_0) {                                                      \
            const uint8_t *bp = (row) + (b) * 22;                                                 \
            const __m512 d = _mm512_set1_ps(f16s(bp));                                            \
            uint32_t qh;                                                                          \
            memcpy(&qh, bp + 2, 4);                                                               \
            const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(bp + 6)));   \
            const __m512i nib = _mm512_set1_epi32(0x0F), sixteen = _mm512_set1_epi32(16);         \
            __m512i lo = _mm512_and_si512(q, nib), hi = _mm512_and_si512(_mm512_srli_epi32(q, 4), nib); \
            lo = _mm512_mask_or_epi32(lo, (__mmask16)(qh & 0xFFFF), lo, sixteen);                 \
            hi = _mm512_mask_or_epi32(hi, (__mmask16)(qh >> 16), hi, sixteen);                    \
            w0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(lo, sixteen)), d);            \
            w1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(hi, sixteen)), d);            \
        } else if ((TYPE) == RS_TYPE_Q8_0) {                                                      \
            const uint8_t *bp = (row) + (b) * 34;                                                 \
            const __m512 d = _mm512_set1_ps(f16s(bp));                                            \
            w0 = _mm512_mul_ps(                                                                   \
                _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(bp + 2)))), d); \
            w1 = _mm512_mul_ps(                                                                   \
                _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(bp + 18)))), d); \
        } else if ((TYPE) == RS_TYPE_F16) {                                                       \
            const uint8_t *bp = (row) + (b) * 64;                                                 \
            w0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)bp));                        \
            w1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(bp + 32)));                 \
        } else if ((TYPE) == RS_TYPE_BF16) {                                                      \
            const uint8_t *bp = (row) + (b) * 64;                                                 \
            w0 = _mm512_castsi512_ps(_mm512_slli_epi32(                                           \
                _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)bp)), 16));             \
            w1 = _mm512_castsi512_ps(_mm512_slli_epi32(                                           \
                _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(bp + 32))), 16));      \
        } else { /* F32 */                                                                        \
            const float *fp = (const float *)(row) + (b) * 32;                                    \
            w0 = _mm512_loadu_ps(fp);                                                             \
            w1 = _mm512_loadu_ps(fp + 16);                                                        \
        }                                                                                         \
    } while (0)

#endif /* RS_X86 */

#endif
