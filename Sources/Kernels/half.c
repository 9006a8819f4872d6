/*
 * fp32 -> IEEE binary16 for the KV cache. The scalar conversion is the definition; F16C's
 * vcvtps2ph with round-to-nearest-even gives the same bits, so a row's halves do not depend on
 * the CPU that wrote them.
 */
#include <string.h>

#include "internal.h"

uint16_t rs_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t absx = x & 0x7FFFFFFF;
    if (absx > 0x7F800000) return sign | 0x7E00 | (uint16_t)((absx >> 13) & 0x3FF); /* NaN: quiet */
    if (absx >= 0x477FF000) return sign | 0x7C00; /* rounds to 65520 or more: infinity */
    const int exp = (int)(absx >> 23) - 127;
    if (exp >= -14) {
        /* Normal half: keep 10 mantissa bits, round the 13 dropped ones to nearest even. A
         * carry out of the mantissa moves into the exponent, which is the right result. */
        const uint32_t h = ((uint32_t)(exp + 15) << 10) | ((absx >> 13) & 0x3FF);
        const uint32_t rest = absx & 0x1FFF;
        const uint32_t up = rest > 0x1000 || (rest == 0x1000 && (h & 1));
        return sign | (uint16_t)(h + up);
    }
    if (exp < -25) return sign; /* below half the smallest subnormal: zero */
    /* Subnormal half: the value in units of 2^-24, with the implicit bit, rounded to even. */
    const uint32_t man = (absx & 0x7FFFFF) | 0x800000;
    const int shift = -exp - 1; /* 14 ..< 25 bits dropped: value = man * 2^(exp - 23) */
    const uint32_t h = man >> shift;
    const uint32_t rest = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    const uint32_t up = rest > half || (rest == half && (h & 1));
    return sign | (uint16_t)(h + up);
}

#if RS_X86
RS_AVX2 static void row_f16c(const float *src, uint16_t *dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = rs_fp32_to_fp16(src[i]);
}
#endif

void rs_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n) {
#if RS_X86
    if (rs_isa() >= RS_ISA_AVX2) {
        row_f16c(src, dst, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = rs_fp32_to_fp16(src[i]);
}
