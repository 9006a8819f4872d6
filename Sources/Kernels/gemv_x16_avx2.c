/*
 * The interleaved kernel (x16.c) on AVX2: eight rows a vector, and vpdpbusd done as vpmaddubsw
 * (pairs of byte products into int16) and vpmaddwd by ones. The int16 sums cannot saturate: a
 * pair is at most 2 * 15 * 128 with the hi bytes (eight pairs summed: 30720) and 2 * 255 * 15
 * with the lo bytes (four summed: 30600); Q8_0 widens to int16 instead. Same integers and float operations as
 * rs_gemv_x16_scalar, so the same results to the bit. Weights are interleaved only where
 * AVX-512 VNNI runs them (rs_x16_pays): this is the path of a lowered ISA, not a fast one.
 */
#include <string.h>

#include "internal.h"

#if RS_X86

RS_AVX2 static inline __m256i sum_pairs(__m256i v16) { return _mm256_madd_epi16(v16, _mm256_set1_epi16(1)); }

RS_AVX2 static void rows8(const int q41, const rs_matmul_job *j, const rs_qacts *a, int64_t g, int h, int64_t t) {
    const int64_t nb = a->cols / 32, bb = q41 ? 20 : 18, sb = q41 ? 4 : 2;
    const uint8_t *G = (const uint8_t *)j->w + g * nb * 16 * bb;
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *B = G + b * 16 * bb;
        const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 16 * h)));
        const __m256 mv = q41 ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + 32 + 16 * h)))
                              : _mm256_mul_ps(dv, _mm256_set1_ps(-8.0f));
        __m256i w[8];
        for (int k = 0; k < 4; k++) {
            const __m256i p = _mm256_loadu_si256((const __m256i *)(B + 16 * sb + 64 * k + 32 * h));
            w[k] = _mm256_and_si256(p, low);
            w[k + 4] = _mm256_and_si256(_mm256_srli_epi16(p, 4), low);
        }
        const int32_t *hl = (const int32_t *)(a->hl + (t * nb + b) * 64);
        __m256i hi16 = _mm256_setzero_si256(), lo16a = hi16, lo16b = hi16;
        for (int i = 0; i < 8; i++) hi16 = _mm256_add_epi16(hi16, _mm256_maddubs_epi16(w[i], _mm256_set1_epi32(hl[i])));
        for (int i = 0; i < 4; i++) lo16a = _mm256_add_epi16(lo16a, _mm256_maddubs_epi16(_mm256_set1_epi32(hl[8 + i]), w[i]));
        for (int i = 4; i < 8; i++) lo16b = _mm256_add_epi16(lo16b, _mm256_maddubs_epi16(_mm256_set1_epi32(hl[8 + i]), w[i]));
        const __m256i s = _mm256_add_epi32(_mm256_slli_epi32(sum_pairs(hi16), 8),
                                           _mm256_add_epi32(sum_pairs(lo16a), sum_pairs(lo16b)));
        const int64_t i = b * a->T + t;
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dv, _mm256_set1_ps(a->d[i])), acc);
        acc = _mm256_fmadd_ps(mv, _mm256_set1_ps(a->qsum[i]), acc);
    }
    float *y = j->y + t * j->ldy + g * 16 + 8 * h;
    _mm256_storeu_ps(y, j->accumulate ? _mm256_add_ps(_mm256_loadu_ps(y), acc) : acc);
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
    float *y = j->y + t * j->ldy + g * 16 + 8 * h;
    _mm256_storeu_ps(y, j->accumulate ? _mm256_add_ps(_mm256_loadu_ps(y), acc) : acc);
}

void rs_gemv_x16_avx2(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    const int base = j->type & 0xFF, q41 = base == RS_TYPE_Q4_1;
    for (int64_t g = r0 / 16; g < r1 / 16; g++)
        for (int64_t t = 0; t < T; t++)
            for (int h = 0; h < 2; h++) {
                if (base == RS_TYPE_Q8_0) rows8_q8_0(j, a, g, h, t);
                else rows8(q41, j, a, g, h, t);
            }
}

#endif
