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

/* 16 bytes widened to 16 int32 lanes. */
RS_AVX512 static inline __m512i widen(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}

/* y[0..16) = a * q - b with a separate rounding for the product, as the reference computes. */
RS_AVX512 static inline void store_affine(float *y, __m512i q, float a, float b) {
    _mm512_storeu_ps(y, _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(a), _mm512_cvtepi32_ps(q)), _mm512_set1_ps(b)));
}

RS_AVX512 static void deq_q5_0(const uint8_t *s, float *y) {
    const __m512 d = _mm512_set1_ps(f16s(s));
    uint32_t qh;
    memcpy(&qh, s + 2, 4);
    const __m512i q = widen(s + 6), nib = _mm512_set1_epi32(0x0F), sixteen = _mm512_set1_epi32(16);
    __m512i lo = _mm512_and_si512(q, nib), hi = _mm512_and_si512(_mm512_srli_epi32(q, 4), nib);
    lo = _mm512_mask_or_epi32(lo, (__mmask16)(qh & 0xFFFF), lo, sixteen);
    hi = _mm512_mask_or_epi32(hi, (__mmask16)(qh >> 16), hi, sixteen);
    _mm512_storeu_ps(y, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(lo, sixteen)), d));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(hi, sixteen)), d));
}

RS_AVX512 static void deq_q4_k(const uint8_t *b, float *y) {
    const float d = f16s(b), dmin = f16s(b + 2);
    const uint8_t *scales = b + 4, *q = b + 16;
    const __m512i nib = _mm512_set1_epi32(0x0F);
    for (int j = 0; j < 4; j++, q += 32, y += 64) {
        float sc1, m1, sc2, m2;
        k4_scale_min(2 * j, scales, &sc1, &m1);
        k4_scale_min(2 * j + 1, scales, &sc2, &m2);
        for (int h = 0; h < 2; h++) {
            const __m512i v = widen(q + 16 * h);
            store_affine(y + 16 * h, _mm512_and_si512(v, nib), d * sc1, dmin * m1);
            store_affine(y + 32 + 16 * h, _mm512_srli_epi32(v, 4), d * sc2, dmin * m2);
        }
    }
}

RS_AVX512 static void deq_q5_k(const uint8_t *b, float *y) {
    const float d = f16s(b), dmin = f16s(b + 2);
    const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
    const __m512i nib = _mm512_set1_epi32(0x0F), sixteen = _mm512_set1_epi32(16);
    for (int j = 0; j < 4; j++, ql += 32, y += 64) {
        float sc1, m1, sc2, m2;
        k4_scale_min(2 * j, scales, &sc1, &m1);
        k4_scale_min(2 * j + 1, scales, &sc2, &m2);
        const __m512i u1 = _mm512_set1_epi32(1 << (2 * j)), u2 = _mm512_set1_epi32(2 << (2 * j));
        for (int h = 0; h < 2; h++) {
            const __m512i v = widen(ql + 16 * h), hb = widen(qh + 16 * h);
            const __m512i lo = _mm512_mask_add_epi32(_mm512_and_si512(v, nib), _mm512_test_epi32_mask(hb, u1),
                                                     _mm512_and_si512(v, nib), sixteen);
            const __m512i hi = _mm512_mask_add_epi32(_mm512_srli_epi32(v, 4), _mm512_test_epi32_mask(hb, u2),
                                                     _mm512_srli_epi32(v, 4), sixteen);
            store_affine(y + 16 * h, lo, d * sc1, dmin * m1);
            store_affine(y + 32 + 16 * h, hi, d * sc2, dmin * m2);
        }
    }
}

RS_AVX512 static void deq_q6_k(const uint8_t *b, float *y) {
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    const float d = f16s(b + 208);
    const __m512i nib = _mm512_set1_epi32(0x0F), three = _mm512_set1_epi32(3), bias = _mm512_set1_epi32(32);
    for (int n = 0; n < 2; n++, y += 128, ql += 64, qh += 32, sc += 8) {
        for (int h = 0; h < 2; h++) { /* l in [16h, 16h + 16): one scale per 16 values */
            const __m512i a = widen(ql + 16 * h), c = widen(ql + 32 + 16 * h), hb = widen(qh + 16 * h);
            const __m512i q1 = _mm512_or_si512(_mm512_and_si512(a, nib), _mm512_slli_epi32(_mm512_and_si512(hb, three), 4));
            const __m512i q2 = _mm512_or_si512(_mm512_and_si512(c, nib),
                                               _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, 2), three), 4));
            const __m512i q3 = _mm512_or_si512(_mm512_srli_epi32(a, 4),
                                               _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(hb, 4), three), 4));
            const __m512i q4 = _mm512_or_si512(_mm512_srli_epi32(c, 4), _mm512_slli_epi32(_mm512_srli_epi32(hb, 6), 4));
            const __m512i qs[4] = {q1, q2, q3, q4};
            for (int k = 0; k < 4; k++) {
                const __m512 scale = _mm512_set1_ps(d * (float)sc[h + 2 * k]);
                _mm512_storeu_ps(y + 32 * k + 16 * h,
                                 _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_sub_epi32(qs[k], bias))));
            }
        }
    }
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
        for (int64_t i = 0; i < n / 32; i++) deq_q5_0(s + 22 * i, dst + 32 * i);
        return;
    case RS_TYPE_Q4_K:
        for (int64_t i = 0; i < n / 256; i++) deq_q4_k(s + 144 * i, dst + 256 * i);
        return;
    case RS_TYPE_Q5_K:
        for (int64_t i = 0; i < n / 256; i++) deq_q5_k(s + 176 * i, dst + 256 * i);
        return;
    case RS_TYPE_Q6_K:
        for (int64_t i = 0; i < n / 256; i++) deq_q6_k(s + 210 * i, dst + 256 * i);
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

int rs_have_avx512(void) {
#if RS_X86
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    }
    return cached;
#else
    return 0;
#endif
}

void rs_dequantize_row(int type, const void *src, float *dst, int64_t n) {
#if RS_X86
    if (rs_have_avx512()) {
        rs_dequantize_row_avx512(type, src, dst, n);
        return;
    }
#endif
    rs_dequantize_row_ref(type, src, dst, n);
}
