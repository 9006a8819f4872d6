/*
 * One 32-value weight block decoded with AVX2: to int16 lanes for the int16 matrix-vector
 * kernels (gemv_int_avx2.c) and the AVX2 dequantizer (quant_avx2.c), to bytes for the int8
 * kernels (gemv_int8_avx2.c).
 * value k of the block = q[k] * scale + off, with scale s0 for values 0-15 and s1 for 16-31;
 * those are the reference's own float expressions (quant_ref.c), so dequantizing through this
 * decoder gives the reference's bits.
 */
#ifndef RINGSIDE_DECODE_AVX2_H
#define RINGSIDE_DECODE_AVX2_H

#include <string.h>

#include "internal.h"

#if RS_X86

RS_AVX2 static inline float f16v(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

static inline void k4_scale_min(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

/* The sum of a vector's eight lanes. */
RS_AVX2 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Where block b of a row starts: bytes per 32 values (Q6_K: 210 per 256). */
static inline int64_t block_offset(const int type, int64_t b) {
    switch (type) {
    case RS_TYPE_Q4_0: return b * 18;
    case RS_TYPE_Q4_1: return b * 20;
    case RS_TYPE_Q5_0: return b * 22;
    case RS_TYPE_Q8_0: return b * 34;
    case RS_TYPE_Q4_K: return b * 18;
    case RS_TYPE_Q5_K: return b * 22;
    default: return (b * 210) >> 3;
    }
}

/* Block b as int16 weights lo (values 0-15) and hi (16-31), scales s0/s1 and offset. */
RS_AVX2 __attribute__((always_inline)) static inline void decode_i16(const int type, const uint8_t *row, int64_t b,
                                                                      __m256i *lo, __m256i *hi, float *s0,
                                                                      float *s1, float *off) {
    const __m256i nib = _mm256_set1_epi16(0x0F);
    *off = 0;
    if (type == RS_TYPE_Q4_1 || type == RS_TYPE_Q4_0) {
        const int one = type == RS_TYPE_Q4_1;
        const uint8_t *bp = row + b * (one ? 20 : 18);
        __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(bp + (one ? 4 : 2))));
        /* Widened first, then masked and shifted: 3 vector operations. Left alone, the compiler
         * masks and shifts the bytes first and widens both halves, 5 on the ports that bound
         * the integer kernels. */
        __asm__("" : "+x"(c));
        *lo = _mm256_and_si256(c, nib);
        *hi = _mm256_srli_epi16(c, 4);
        *s0 = *s1 = f16v(bp);
        if (one) {
            *off = f16v(bp + 2);
        } else {
            *lo = _mm256_sub_epi16(*lo, _mm256_set1_epi16(8));
            *hi = _mm256_sub_epi16(*hi, _mm256_set1_epi16(8));
        }
    } else if (type == RS_TYPE_Q8_0) {
        const uint8_t *bp = row + b * 34;
        *lo = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bp + 2)));
        *hi = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(bp + 18)));
        *s0 = *s1 = f16v(bp);
    } else if (type == RS_TYPE_Q5_0) {
        const uint8_t *bp = row + b * 22;
        __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(bp + 6)));
        __asm__("" : "+x"(c));
        /* The fifth bits: qh broadcast by a load; in 16-bit lane k of lo the shuffle puts qh's
         * byte k / 8 (hi: 2 + k / 8), and lane k tests bit k % 8 of it. A clear bit means
         * value - 16, added as -16 where the mask is 0 (andnot): 12 vector operations after
         * the widening load, where two broadcasts from a general register, masks, ors and
         * subtractions took 16. */
        const __m256i q = _mm256_castps_si256(_mm256_broadcast_ss((const float *)(bp + 2)));
        const __m256i bit = _mm256_setr_epi16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        const __m256i m16 = _mm256_set1_epi16(-16);
        const __m256i sel_lo = _mm256_shuffle_epi8(q, _mm256_setr_epi8(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1,
                                                                       1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1));
        const __m256i sel_hi = _mm256_shuffle_epi8(q, _mm256_setr_epi8(2, -1, 2, -1, 2, -1, 2, -1, 2, -1, 2, -1, 2, -1, 2, -1,
                                                                       3, -1, 3, -1, 3, -1, 3, -1, 3, -1, 3, -1, 3, -1, 3, -1));
        const __m256i set_lo = _mm256_cmpeq_epi16(_mm256_and_si256(sel_lo, bit), bit);
        const __m256i set_hi = _mm256_cmpeq_epi16(_mm256_and_si256(sel_hi, bit), bit);
        *lo = _mm256_add_epi16(_mm256_and_si256(c, nib), _mm256_andnot_si256(set_lo, m16));
        *hi = _mm256_add_epi16(_mm256_srli_epi16(c, 4), _mm256_andnot_si256(set_hi, m16));
        *s0 = *s1 = f16v(bp);
    } else if (type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K) {
        const int five = type == RS_TYPE_Q5_K;
        const uint8_t *bp = row + (b >> 3) * (five ? 176 : 144);
        const int j = (int)(b & 7);
        int sc, m;
        k4_scale_min(j, bp + 4, &sc, &m);
        const uint8_t *q = bp + (five ? 48 : 16) + 32 * (j >> 1);
        __m256i v0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)q));
        __m256i v1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(q + 16)));
        if (j & 1) {
            v0 = _mm256_srli_epi16(v0, 4);
            v1 = _mm256_srli_epi16(v1, 4);
        } else {
            v0 = _mm256_and_si256(v0, nib);
            v1 = _mm256_and_si256(v1, nib);
        }
        if (five) {
            const __m128i sh = _mm_cvtsi32_si128(j);
            const __m256i one = _mm256_set1_epi16(1);
            const __m256i h0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(bp + 16)));
            const __m256i h1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(bp + 32)));
            v0 = _mm256_or_si256(v0, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(h0, sh), one), 4));
            v1 = _mm256_or_si256(v1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(h1, sh), one), 4));
        }
        *lo = v0;
        *hi = v1;
        *s0 = *s1 = f16v(bp) * (float)sc;
        *off = -(f16v(bp + 2) * (float)m);
    } else { /* Q6_K */
        const uint8_t *bp = row + (b >> 3) * 210;
        const int n = (int)((b & 7) >> 2), k4 = (int)(b & 3);
        const uint8_t *ql = bp + 64 * n + 32 * (k4 & 1), *qh = bp + 128 + 32 * n;
        const int8_t *sc = (const int8_t *)(bp + 192) + 8 * n + 2 * k4;
        const __m128i sh = _mm_cvtsi32_si128(2 * k4);
        const __m256i three = _mm256_set1_epi16(3), c32 = _mm256_set1_epi16(32);
        __m256i v[2];
        for (int h = 0; h < 2; h++) {
            __m256i l = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(ql + 16 * h)));
            l = k4 >= 2 ? _mm256_srli_epi16(l, 4) : _mm256_and_si256(l, nib);
            const __m256i qhv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(qh + 16 * h)));
            const __m256i high = _mm256_and_si256(_mm256_srl_epi16(qhv, sh), three);
            v[h] = _mm256_sub_epi16(_mm256_or_si256(l, _mm256_slli_epi16(high, 4)), c32);
        }
        *lo = v[0];
        *hi = v[1];
        const float d = f16v(bp + 208);
        *s0 = d * (float)sc[0];
        *s1 = d * (float)sc[1];
    }
}

/* Eight f16 values `stride` bytes apart, as eight floats: the halves are gathered with integer
 * loads and shifts (the integer ALUs are idle in these kernels) and converted by one vcvtph2ps,
 * instead of one vpinsrw + vcvtph2ps per block on the vector ports, which are the bottleneck. */
RS_AVX2 static inline __m256 f16x8(const uint8_t *p, int64_t stride) {
    uint64_t v[2] = {0, 0};
    for (int k = 0; k < 8; k++) {
        uint16_t h;
        memcpy(&h, p + k * stride, 2);
        v[k >> 2] |= (uint64_t)h << (16 * (k & 3));
    }
    return _mm256_cvtph_ps(_mm_set_epi64x((long long)v[1], (long long)v[0]));
}

/* The scales of blocks b0 .. b0 + 7 of a row (b0 a multiple of 8), the values decode_i16 gives
 * one block at a time and with the same float expressions: *s0, *s1 (Q6_K's second half) and
 * *off, lane k for block b0 + k. Decoding them once per eight blocks takes the scalar
 * conversions out of the per-block loop. */
RS_AVX2 __attribute__((always_inline)) static inline void scales8_i16(const int type, const uint8_t *row, int64_t b0,
                                                                       __m256 *s0, __m256 *s1, __m256 *off) {
    *off = _mm256_setzero_ps();
    if (type == RS_TYPE_Q4_0 || type == RS_TYPE_Q4_1 || type == RS_TYPE_Q5_0 || type == RS_TYPE_Q8_0) {
        const int size = type == RS_TYPE_Q4_0 ? 18 : type == RS_TYPE_Q4_1 ? 20 : type == RS_TYPE_Q5_0 ? 22 : 34;
        const uint8_t *bp = row + b0 * size;
        *s0 = *s1 = f16x8(bp, size);
        if (type == RS_TYPE_Q4_1) *off = f16x8(bp + 2, size);
    } else if (type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K) {
        const uint8_t *bp = row + (b0 >> 3) * (type == RS_TYPE_Q5_K ? 176 : 144);
        /* The twelve bytes of 6-bit scales and mins unpacked to eight bytes each, as llama.cpp
         * does; the same integers k4_scale_min gives. */
        uint32_t u[4];
        memcpy(u, bp + 4, 12);
        const uint32_t m1 = 0x3f3f3f3f, m2 = 0x0f0f0f0f, m3 = 0x03030303;
        u[3] = ((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4);
        const uint32_t aux = u[1] & m1;
        u[1] = (u[2] & m2) | (((u[0] >> 6) & m3) << 4);
        u[2] = aux;
        u[0] &= m1;
        uint64_t sc, mn;
        memcpy(&sc, u, 8);
        memcpy(&mn, u + 2, 8);
        const __m256 scf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc)));
        const __m256 mf = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn)));
        *s0 = *s1 = _mm256_mul_ps(_mm256_set1_ps(f16v(bp)), scf);
        *off = _mm256_xor_ps(_mm256_set1_ps(-0.0f), _mm256_mul_ps(_mm256_set1_ps(f16v(bp + 2)), mf));
    } else { /* Q6_K: block k's scales are sc[2k] (values 0-15) and sc[2k + 1] (16-31) */
        const uint8_t *bp = row + (b0 >> 3) * 210;
        const __m128i sc = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(bp + 192)),
                                            _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15));
        const __m256 d = _mm256_set1_ps(f16v(bp + 208));
        *s0 = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc)));
        *s1 = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8))));
    }
}

/* scales8_i16's vectors stored to arrays, for kernels that take one block's scale at a time:
 * e0 (and e1, Q6_K's second halves) and the offsets ow, where the type has them. */
RS_AVX2 __attribute__((always_inline)) static inline void scales8_i16_arrays(const int type, const uint8_t *row,
                                                                             int64_t b0, float e0[8], float e1[8],
                                                                             float ow[8]) {
    __m256 s0v, s1v, offw;
    scales8_i16(type, row, b0, &s0v, &s1v, &offw);
    _mm256_storeu_ps(e0, s0v);
    if (type == RS_TYPE_Q6_K) _mm256_storeu_ps(e1, s1v);
    if (type == RS_TYPE_Q4_1 || type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K) _mm256_storeu_ps(ow, offw);
}

/* Block b as 32 bytes in value order for vpmaddubsw: unsigned levels (at most 63, so a pair of
 * products fits int16) except Q8_0, whose bytes are signed. value k = scale * (u[k] - bias) +
 * offset, with scale s0 for values 0-15 and s1 for 16-31. *c is what multiplies the block's
 * quantized activation sum: offset - s0 * bias (Q6_K's two halves take -32 * s0 and -32 * s1). */
RS_AVX2 __attribute__((always_inline)) static inline __m256i decode_u8(const int type, const uint8_t *row, int64_t b,
                                                                        float *s0, float *s1, float *c) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    if (type == RS_TYPE_Q4_0 || type == RS_TYPE_Q4_1 || type == RS_TYPE_Q5_0) {
        const int size = type == RS_TYPE_Q4_0 ? 18 : type == RS_TYPE_Q4_1 ? 20 : 22;
        const uint8_t *bp = row + b * size;
        const __m128i x = _mm_loadu_si128((const __m128i *)(bp + size - 16));
        __m256i u = _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1), nib);
        *s0 = *s1 = f16v(bp);
        if (type == RS_TYPE_Q4_0) {
            *c = -8.0f * *s0;
        } else if (type == RS_TYPE_Q4_1) {
            *c = f16v(bp + 2);
        } else {
            /* Bit k of qh is the fifth bit of value k: byte k of the shuffle holds qh's byte k / 8,
             * and the mask leaves every bit but k % 8 set, so all ones means the bit was set. */
            uint32_t qh;
            memcpy(&qh, bp + 2, 4);
            const __m256i spread = _mm256_shuffle_epi8(
                _mm256_set1_epi32((int)qh), _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                              0x0101010101010101, 0x0000000000000000));
            const __m256i set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
                                                  _mm256_set1_epi64x(-1));
            u = _mm256_or_si256(u, _mm256_and_si256(set, _mm256_set1_epi8(16)));
            *c = -16.0f * *s0;
        }
        return u;
    }
    if (type == RS_TYPE_Q8_0) {
        const uint8_t *bp = row + b * 34;
        *s0 = *s1 = f16v(bp);
        *c = 0;
        return _mm256_loadu_si256((const __m256i *)(bp + 2));
    }
    if (type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K) {
        const int five = type == RS_TYPE_Q5_K;
        const uint8_t *bp = row + (b >> 3) * (five ? 176 : 144);
        const int j = (int)(b & 7);
        int sc, m;
        k4_scale_min(j, bp + 4, &sc, &m);
        const __m256i v = _mm256_loadu_si256((const __m256i *)(bp + (five ? 48 : 16) + 32 * (j >> 1)));
        __m256i u = _mm256_and_si256(j & 1 ? _mm256_srli_epi16(v, 4) : v, nib);
        if (five) {
            const __m256i h = _mm256_loadu_si256((const __m256i *)(bp + 16));
            const __m256i bit = _mm256_and_si256(_mm256_srl_epi16(h, _mm_cvtsi32_si128(j)), _mm256_set1_epi8(1));
            u = _mm256_or_si256(u, _mm256_slli_epi16(bit, 4));
        }
        *s0 = *s1 = f16v(bp) * (float)sc;
        *c = -(f16v(bp + 2) * (float)m);
        return u;
    }
    /* Q6_K */
    const uint8_t *bp = row + (b >> 3) * 210;
    const int n = (int)((b & 7) >> 2), k4 = (int)(b & 3);
    const __m256i l = _mm256_loadu_si256((const __m256i *)(bp + 64 * n + 32 * (k4 & 1)));
    const __m256i lo = _mm256_and_si256(k4 >= 2 ? _mm256_srli_epi16(l, 4) : l, nib);
    const __m256i h = _mm256_loadu_si256((const __m256i *)(bp + 128 + 32 * n));
    const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(h, _mm_cvtsi32_si128(2 * k4)), _mm256_set1_epi8(3));
    const int8_t *sc = (const int8_t *)(bp + 192) + 8 * n + 2 * k4;
    const float d = f16v(bp + 208);
    *s0 = d * (float)sc[0];
    *s1 = d * (float)sc[1];
    *c = 0;
    return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
}

#endif
#endif
