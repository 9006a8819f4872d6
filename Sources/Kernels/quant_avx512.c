/*
 * AVX-512 dequantizers for the types that dominate real files (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K,
 * Q5_K, Q6_K, F16, BF16).
 * They compute the same float expression as quant_ref.c (d*q + m with one rounding via FMA is
 * avoided on purpose: ggml multiplies then adds, and so do we), so results are bit-identical.
 */
#include <string.h>

#include "decode_avx512.h"
#include "internal.h"

#if RS_X86

RS_AVX512 static inline __m512 nibbles_lo(__m128i q) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(q, _mm_set1_epi8(0x0F))));
}

RS_AVX512 static inline __m512 nibbles_hi(__m128i q) {
    return _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0F))));
}

/* Q5_0 and the K-quants dequantize through the matrix kernels' 32-value decoder
 * (decode_avx512.h), which keeps the reference's roundings; Q4_1's decoder fuses d*q + m into
 * one FMA, so the simple types keep their own loops. */
#define DEQUANTIZE_BY_BLOCKS(TYPE, s, dst, n)                                                     \
    for (int64_t b = 0; b < (n) / 32; b++) {                                                      \
        __m512 w0, w1;                                                                            \
        DECODE_BLOCK(TYPE, (s), b, w0, w1);                                                       \
        _mm512_storeu_ps((dst) + 32 * b, w0);                                                     \
        _mm512_storeu_ps((dst) + 32 * b + 16, w1);                                                \
    }

RS_AVX512 void rs_dequantize_row_avx512(int type, const void *src, float *dst, int64_t n) {
    const uint8_t *s = (const uint8_t *)src;
    switch (type) {
    case RS_TYPE_Q4_0:
        for (int64_t i = 0; i < n / 32; i++, s += 18, dst += 32) {
            const __m512 d = _mm512_set1_ps(f16s(s));
            const __m128i q = _mm_loadu_si128((const __m128i *)(s + 2));
            const __m512 eight = _mm512_set1_ps(8.0f);
            _mm512_storeu_ps(dst, _mm512_mul_ps(_mm512_sub_ps(nibbles_lo(q), eight), d));
            _mm512_storeu_ps(dst + 16, _mm512_mul_ps(_mm512_sub_ps(nibbles_hi(q), eight), d));
        }
        return;
    case RS_TYPE_Q4_1:
        for (int64_t i = 0; i < n / 32; i++, s += 20, dst += 32) {
            const __m512 d = _mm512_set1_ps(f16s(s)), m = _mm512_set1_ps(f16s(s + 2));
            const __m128i q = _mm_loadu_si128((const __m128i *)(s + 4));
            _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_mul_ps(nibbles_lo(q), d), m));
            _mm512_storeu_ps(dst + 16, _mm512_add_ps(_mm512_mul_ps(nibbles_hi(q), d), m));
        }
        return;
    case RS_TYPE_Q8_0:
        for (int64_t i = 0; i < n / 32; i++, s += 34, dst += 32) {
            const __m512 d = _mm512_set1_ps(f16s(s));
            const __m128i q0 = _mm_loadu_si128((const __m128i *)(s + 2));
            const __m128i q1 = _mm_loadu_si128((const __m128i *)(s + 18));
            _mm512_storeu_ps(dst, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0)), d));
            _mm512_storeu_ps(dst + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1)), d));
        }
        return;
    case RS_TYPE_Q5_0:
        DEQUANTIZE_BY_BLOCKS(RS_TYPE_Q5_0, s, dst, n);
        return;
    case RS_TYPE_Q4_K:
        DEQUANTIZE_BY_BLOCKS(RS_TYPE_Q4_K, s, dst, n);
        return;
    case RS_TYPE_Q5_K:
        DEQUANTIZE_BY_BLOCKS(RS_TYPE_Q5_K, s, dst, n);
        return;
    case RS_TYPE_Q6_K:
        DEQUANTIZE_BY_BLOCKS(RS_TYPE_Q6_K, s, dst, n);
        return;
    case RS_TYPE_F16: {
        int64_t i = 0;
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + 2 * i))));
        for (; i < n; i++) dst[i] = f16s(s + 2 * i);
        return;
    }
    case RS_TYPE_BF16: {
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(s + 2 * i)));
            _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
        }
        if (i < n) rs_dequantize_row_ref(type, s + 2 * i, dst + i, n - i);
        return;
    }
    default:
        rs_dequantize_row_ref(type, src, dst, n);
    }
}

#endif

static void dequantize_row_isa(int isa, int type, const void *src, float *dst, int64_t n) {
#if RS_X86
    if (isa >= RS_ISA_AVX512) {
        rs_dequantize_row_avx512(type, src, dst, n);
        return;
    }
    if (isa >= RS_ISA_AVX2) {
        rs_dequantize_row_avx2(type, src, dst, n);
        return;
    }
#endif
    (void)isa;
    rs_dequantize_row_ref(type, src, dst, n);
}

void rs_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    dequantize_row_isa(rs_isa(), type, src, dst, n);
}

