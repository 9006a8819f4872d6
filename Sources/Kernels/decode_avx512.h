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
