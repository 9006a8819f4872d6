/*
 * AVX2 dequantizers for the types that dominate real files, through the integer kernels'
 * 32-value decoder (decode_avx2.h): each value is q * scale + off with the reference's own
 * roundings (a multiply, then an add; never one FMA), so the results equal quant_ref.c's bit
 * for bit. Prefill and batched decode dequantize weight panels with these on CPUs without
 * AVX-512, where the plain loops cost as much as the sgemm that follows at a few tokens.
 */
#include "decode_avx2.h"

#if RS_X86

RS_AVX2 __attribute__((always_inline)) static inline void dequantize_blocks(const int type, const uint8_t *s,
                                                                             float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++) {
        __m256i lo, hi;
        float s0, s1, off;
        decode_i16(type, s, b, &lo, &hi, &s0, &s1, &off);
        const __m256 d0 = _mm256_set1_ps(s0), d1 = _mm256_set1_ps(s1), m = _mm256_set1_ps(off);
        const __m256i q[4] = {_mm256_cvtepi16_epi32(_mm256_castsi256_si128(lo)),
                              _mm256_cvtepi16_epi32(_mm256_extracti128_si256(lo, 1)),
                              _mm256_cvtepi16_epi32(_mm256_castsi256_si128(hi)),
                              _mm256_cvtepi16_epi32(_mm256_extracti128_si256(hi, 1))};
        float *y = dst + 32 * b;
        for (int h = 0; h < 4; h++) {
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(q[h]), h < 2 ? d0 : d1);
            /* Types without an offset skip the add: x + 0 would turn -0 into +0. */
            if (type == RS_TYPE_Q4_1 || type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K) v = _mm256_add_ps(v, m);
            _mm256_storeu_ps(y + 8 * h, v);
        }
    }
}

RS_AVX2 void rs_dequantize_row_avx2(int type, const void *src, float *dst, int64_t n) {
    const uint8_t *s = (const uint8_t *)src;
    switch (type) {
    case RS_TYPE_Q4_0: dequantize_blocks(RS_TYPE_Q4_0, s, dst, n); return;
    case RS_TYPE_Q4_1: dequantize_blocks(RS_TYPE_Q4_1, s, dst, n); return;
    case RS_TYPE_Q5_0: dequantize_blocks(RS_TYPE_Q5_0, s, dst, n); return;
    case RS_TYPE_Q8_0: dequantize_blocks(RS_TYPE_Q8_0, s, dst, n); return;
    case RS_TYPE_Q4_K: dequantize_blocks(RS_TYPE_Q4_K, s, dst, n); return;
    case RS_TYPE_Q5_K: dequantize_blocks(RS_TYPE_Q5_K, s, dst, n); return;
    case RS_TYPE_Q6_K: dequantize_blocks(RS_TYPE_Q6_K, s, dst, n); return;
    case RS_TYPE_F16: {
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
        if (i < n) rs_dequantize_row_ref(type, s + 2 * i, dst + i, n - i);
        return;
    }
    case RS_TYPE_BF16: {
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
            const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 2 * i)));
            _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
        }
        if (i < n) rs_dequantize_row_ref(type, s + 2 * i, dst + i, n - i);
        return;
    }
    default: rs_dequantize_row_ref(type, src, dst, n); return;
    }
}

#endif
