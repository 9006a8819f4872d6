/*
 * The interleaved kernel (x16.c) on AVX2: eight rows a vector, and vpdpbusd done as vpmaddubsw
 * (pairs of byte products into int16) and vpmaddwd by ones. The int16 sums cannot saturate: a
 * pair is at most 2 * 15 * 128 with the hi bytes (eight pairs summed: 30720) and 2 * 255 * 15
 * with the lo bytes (four summed: 30600); Q5_0's values reach 31, so four and two; Q8_0 widens
 * to int16 instead. Same integers and float operations as
 * rs_gemv_x16_scalar, so the same results to the bit. Weights are interleaved only where
 * AVX-512 VNNI runs them (rs_x16_pays): this is the path of a lowered ISA, not a fast one.
 */
#include <string.h>

#include "internal.h"

#if RS_X86

RS_AVX2 static inline __m256i sum_pairs(__m256i v16) { return _mm256_madd_epi16(v16, _mm256_set1_epi16(1)); }

/* Rows 16g + 8h ..< 16g + 8h + 8 of token t, written or added. */
RS_AVX2 static inline void store8(const rs_matmul_job *j, int64_t g, int h, int64_t t, __m256 acc) {
    float *y = j->y + t * j->ldy + g * 16 + 8 * h;
    _mm256_storeu_ps(y, j->accumulate ? _mm256_add_ps(_mm256_loadu_ps(y), acc) : acc);
}

/* A block's exact sum over eight lanes of rows, (sum of w . hi) << 8 + sum of lo . w, with at
 * most `gh` hi and `gl` lo products summed in int16 before they are widened. */
RS_AVX2 static inline __m256i block_sum(const __m256i w[8], const int32_t *hl, int gh, int gl) {
    __m256i hi = _mm256_setzero_si256(), lo = hi, h16 = hi, l16 = hi;
    for (int i = 0; i < 8; i++) {
        h16 = _mm256_add_epi16(h16, _mm256_maddubs_epi16(w[i], _mm256_set1_epi32(hl[i])));
        l16 = _mm256_add_epi16(l16, _mm256_maddubs_epi16(_mm256_set1_epi32(hl[8 + i]), w[i]));
        if ((i + 1) % gh == 0) { hi = _mm256_add_epi32(hi, sum_pairs(h16)); h16 = _mm256_setzero_si256(); }
        if ((i + 1) % gl == 0) { lo = _mm256_add_epi32(lo, sum_pairs(l16)); l16 = _mm256_setzero_si256(); }
    }
    return _mm256_add_epi32(_mm256_slli_epi32(hi, 8), lo);
}

/* Q4_0, Q4_1, Q5_0 (q5: values up to 31): int16 sums of `gh` hi products and `gl` lo
 * products at most before they are widened, so that none saturates. */
RS_AVX2 static void rows8(const int base, const rs_matmul_job *j, const rs_qacts *a, int64_t g, int h, int64_t t) {
    const int q41 = base == RS_TYPE_Q4_1, q5 = base == RS_TYPE_Q5_0;
    const int64_t nb = a->cols / 32, bb = q5 ? 22 : q41 ? 20 : 18, sb = q5 ? 6 : q41 ? 4 : 2;
    const int gh = q5 ? 4 : 8, gl = q5 ? 2 : 4;
    const uint8_t *G = (const uint8_t *)j->w + g * nb * 16 * bb;
    const __m256i low = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *B = G + b * 16 * bb;
        const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 16 * h)));
        const __m256 mv = q41 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 32 + 16 * h)))
                              : _mm256_mul_ps(dv, _mm256_set1_ps(q5 ? -16.0f : -8.0f));
        __m256i w[8];
        for (int k = 0; k < 4; k++) {
            const __m256i p = _mm256_loadu_si256((const __m256i *)(B + 16 * sb + 64 * k + 32 * h));
            w[k] = _mm256_and_si256(p, low);
            w[k + 4] = _mm256_and_si256(_mm256_srli_epi16(p, 4), low);
        }
        if (q5) {
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(B + 32 + 32 * h));
            for (int i = 0; i < 8; i++) {
                const __m256i at4 = i < 4 ? _mm256_sllv_epi32(qh, _mm256_set1_epi32(4 - i)) : _mm256_srlv_epi32(qh, _mm256_set1_epi32(i - 4));
                w[i] = _mm256_or_si256(w[i], _mm256_and_si256(at4, bit4));
            }
        }
        const __m256i s = block_sum(w, (const int32_t *)(a->hl + (t * nb + b) * 64), gh, gl);
        const int64_t i = b * a->T + t;
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dv, _mm256_set1_ps(a->d[i])), acc);
        acc = _mm256_fmadd_ps(mv, _mm256_set1_ps(a->qsum[i]), acc);
    }
    store8(j, g, h, t, acc);
}

/* Q8_0: the weights widened to int16 and multiplied with the activations put together again
 * (256 hi + lo) by vpmaddwd: exact int32 sums, the same as the VNNI kernel's. */
RS_AVX2 static void rows8_q8_0(const rs_matmul_job *j, const rs_qacts *a, int64_t g, int h, int64_t t) {
    const int64_t nb = a->cols / 32;
    const uint8_t *G = (const uint8_t *)j->w + g * nb * 16 * 34;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *B = G + b * 16 * 34, *hl = a->hl + (t * nb + b) * 64;
        const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 16 * h)));
        int16_t v[32];
        const __m256i v0 = _mm256_add_epi16(_mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)hl)), 8),
                                            _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(hl + 32))));
        const __m256i v1 = _mm256_add_epi16(_mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(hl + 16))), 8),
                                            _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(hl + 48))));
        _mm256_storeu_si256((__m256i *)v, v0);
        _mm256_storeu_si256((__m256i *)(v + 16), v1);
        __m256i s03 = _mm256_setzero_si256(), s47 = s03; /* rows 0-3 and 4-7 of the half, two sums a row */
        for (int k = 0; k < 8; k++) {
            int64_t four;
            memcpy(&four, v + 4 * k, 8);
            const __m256i av = _mm256_set1_epi64x(four);
            const uint8_t *q = B + 32 + 64 * k + 32 * h;
            s03 = _mm256_add_epi32(s03, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)q)), av));
            s47 = _mm256_add_epi32(s47, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q + 16))), av));
        }
        /* hadd gives rows 0 1 4 5 | 2 3 6 7; the permute puts them in order. */
        const __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(s03, s47), 0xD8);
        const int64_t i = b * a->T + t;
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dv, _mm256_set1_ps(a->d[i])), acc);
    }
    store8(j, g, h, t, acc);
}

/* Q4_K on eight rows: the scales decoded as the VNNI kernel does, the products as rows8's. */
RS_AVX2 static void rows8_q4_k(const rs_matmul_job *j, const rs_qacts *a, int64_t g, int h, int64_t t) {
    const int64_t nb = a->cols / 32, ns = nb / 8;
    const uint8_t *G = (const uint8_t *)j->w + g * ns * 16 * 144;
    const __m256i low = _mm256_set1_epi8(0x0F), m6 = _mm256_set1_epi32(63), m4 = _mm256_set1_epi32(0xF),
                  m2 = _mm256_set1_epi32(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sbk = 0; sbk < ns; sbk++) {
        const uint8_t *B = G + sbk * 16 * 144;
#define FIELD(f) _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(B + 32 * (f) + 16 * h)))
        const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 16 * h)));
        const __m256 dmv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 32 + 16 * h)));
        const __m256i A = _mm256_or_si256(FIELD(2), _mm256_slli_epi32(FIELD(3), 16));
        const __m256i M = _mm256_or_si256(FIELD(4), _mm256_slli_epi32(FIELD(5), 16));
        const __m256i C = _mm256_or_si256(FIELD(6), _mm256_slli_epi32(FIELD(7), 16));
#undef FIELD
        for (int sub = 0; sub < 8; sub++) {
            const int64_t b = sbk * 8 + sub;
            const uint8_t *Q = B + 256 + 512 * (sub / 2);
            __m256i sc, mn;
            if (sub < 4) {
                sc = _mm256_and_si256(_mm256_srlv_epi32(A, _mm256_set1_epi32(8 * sub)), m6);
                mn = _mm256_and_si256(_mm256_srlv_epi32(M, _mm256_set1_epi32(8 * sub)), m6);
            } else {
                const int k = sub - 4;
                sc = _mm256_or_si256(_mm256_and_si256(_mm256_srlv_epi32(C, _mm256_set1_epi32(8 * k)), m4),
                                     _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(A, _mm256_set1_epi32(8 * k + 6)), m2), 4));
                mn = _mm256_or_si256(_mm256_and_si256(_mm256_srlv_epi32(C, _mm256_set1_epi32(8 * k + 4)), m4),
                                     _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(M, _mm256_set1_epi32(8 * k + 6)), m2), 4));
            }
            const __m256 dw = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(sc));
            const __m256 off = _mm256_xor_ps(_mm256_mul_ps(dmv, _mm256_cvtepi32_ps(mn)), _mm256_set1_ps(-0.0f));
            __m256i w[8];
            for (int k = 0; k < 8; k++) {
                const __m256i q = _mm256_loadu_si256((const __m256i *)(Q + 64 * k + 32 * h));
                w[k] = _mm256_and_si256(sub % 2 ? _mm256_srli_epi16(q, 4) : q, low);
            }
            const __m256i s = block_sum(w, (const int32_t *)(a->hl + (t * nb + b) * 64), 8, 4);
            const int64_t i = b * a->T + t;
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(a->d[i])), acc);
            acc = _mm256_fmadd_ps(off, _mm256_set1_ps(a->qsum[i]), acc);
        }
    }
    store8(j, g, h, t, acc);
}

/* Q6_K on eight rows: values up to 63, so the hi products are summed two at a time in int16 and
 * the lo ones one at a time before they are widened. */
RS_AVX2 static void rows8_q6_k(const rs_matmul_job *j, const rs_qacts *a, int64_t g, int h, int64_t t) {
    const int64_t nb = a->cols / 32, ns = nb / 8;
    const uint8_t *G = (const uint8_t *)j->w + g * ns * 16 * 210;
    const __m256i low = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x03);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t sbk = 0; sbk < ns; sbk++) {
        const uint8_t *B = G + sbk * 16 * 210;
        const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 16 * h)));
        for (int sub = 0; sub < 8; sub++) {
            const int n = sub / 4, q = sub % 4;
            const int64_t b = sbk * 8 + sub;
            const __m256i f = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(B + 32 + 32 * sub + 16 * h)));
            const __m256 da = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(f, 24), 24)));
            const __m256 db = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_srai_epi32(_mm256_slli_epi32(f, 16), 24)));
            const __m256 oa = _mm256_mul_ps(da, _mm256_set1_ps(-32.0f)), ob = _mm256_mul_ps(db, _mm256_set1_ps(-32.0f));
            const uint8_t *L = B + 288 + 64 * (16 * n + 8 * (q & 1)), *H = B + 288 + 64 * (32 + 8 * n);
            const __m128i lo_shift = _mm_cvtsi32_si128(4 * (q >> 1)), hi_shift = _mm_cvtsi32_si128(2 * q);
            __m256i w[8];
            for (int k = 0; k < 8; k++) {
                const __m256i l = _mm256_loadu_si256((const __m256i *)(L + 64 * k + 32 * h));
                const __m256i u = _mm256_loadu_si256((const __m256i *)(H + 64 * k + 32 * h));
                const __m256i lo4 = _mm256_and_si256(_mm256_srl_epi16(l, lo_shift), low);
                const __m256i hi2 = _mm256_and_si256(_mm256_srl_epi16(u, hi_shift), two);
                w[k] = _mm256_or_si256(lo4, _mm256_slli_epi16(hi2, 4));
            }
            const int32_t *hl = (const int32_t *)(a->hl + (t * nb + b) * 64);
            __m256i s[2];
            for (int half = 0; half < 2; half++) {
                __m256i hi = _mm256_setzero_si256(), lo = hi;
                for (int i = 4 * half; i < 4 * half + 4; i += 2)
                    hi = _mm256_add_epi32(hi, sum_pairs(_mm256_add_epi16(_mm256_maddubs_epi16(w[i], _mm256_set1_epi32(hl[i])),
                                                                         _mm256_maddubs_epi16(w[i + 1], _mm256_set1_epi32(hl[i + 1])))));
                for (int i = 4 * half; i < 4 * half + 4; i++)
                    lo = _mm256_add_epi32(lo, sum_pairs(_mm256_maddubs_epi16(_mm256_set1_epi32(hl[8 + i]), w[i])));
                s[half] = _mm256_add_epi32(_mm256_slli_epi32(hi, 8), lo);
            }
            const int64_t i = b * a->T + t;
            const __m256 dx = _mm256_set1_ps(a->d[i]);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[0]), _mm256_mul_ps(da, dx), acc);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[1]), _mm256_mul_ps(db, dx), acc);
            acc = _mm256_fmadd_ps(oa, _mm256_set1_ps(a->qlo[i]), acc);
            acc = _mm256_fmadd_ps(ob, _mm256_set1_ps(a->qhi[i]), acc);
        }
    }
    store8(j, g, h, t, acc);
}

void rs_gemv_x16_avx2(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    const int base = j->type & 0xFF;
    for (int64_t g = r0 / 16; g < r1 / 16; g++)
        for (int64_t t = 0; t < T; t++)
            for (int h = 0; h < 2; h++) {
                if (base == RS_TYPE_Q8_0) rows8_q8_0(j, a, g, h, t);
                else if (base == RS_TYPE_Q4_K) rows8_q4_k(j, a, g, h, t);
                else if (base == RS_TYPE_Q6_K) rows8_q6_k(j, a, g, h, t);
                else rows8(base, j, a, g, h, t);
            }
}

#endif
