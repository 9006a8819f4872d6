/*
 * Activations quantized per block of 32 for the integer matrix-vector kernels.
 *
 * int16 (the default) or int8 (llama.cpp's Q8_0 levels). Both round
 * x * (levels / amax) to nearest even, so the scalar and SIMD quantizers give the same integers,
 * and both keep the block's quantized sums, which the kernels multiply with a weight's offset or
 * bias so that every type computes W . (d q) (internal.h says why).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Thread_local int thread_acts = RS_ACTS_INT16;

int rs_set_thread_activations(int mode) {
    const int old = thread_acts;
    thread_acts = mode;
    return old;
}

int rs_thread_activations(void) { return thread_acts; }

typedef struct {
    void *buf;
    int64_t cap;
} qbuf;

/* The issuer's activations for the region it runs (qb), and the next product's, quantized by the
 * tasks of the region that computes them (qb_next, rs_glu_ffn). */
static _Thread_local qbuf qb, qb_next;

static void *grow(qbuf *q, int64_t bytes) {
    if (bytes > q->cap) {
        free(q->buf);
        const int64_t cap = bytes < 65536 ? 65536 : bytes;
        q->buf = aligned_alloc(64, (size_t)((cap + 63) / 64 * 64));
        q->cap = q->buf ? cap : 0;
    }
    return q->buf;
}

static void quantize_block_scalar(const float *x, int levels, int16_t *q16, int8_t *q8, float *d, float *qsum,
                                  float *qlo, float *qhi) {
    float amax = 0;
    for (int k = 0; k < 32; k++) amax = fmaxf(amax, fabsf(x[k]));
    const float id = amax > 0 ? (float)levels / amax : 0;
    int32_t half[2] = {0, 0};
    for (int k = 0; k < 32; k++) {
        const int32_t v = (int32_t)lrintf(x[k] * id);
        if (q16) q16[k] = (int16_t)v;
        else q8[k] = (int8_t)v;
        half[k >> 4] += v;
    }
    *d = amax / (float)levels;
    *qsum = *d * (float)(half[0] + half[1]);
    *qlo = *d * (float)half[0];
    *qhi = *d * (float)half[1];
}

#if RS_X86
RS_AVX2 static inline int32_t hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

RS_AVX2 static void quantize_block_avx2(const float *x, int levels, int16_t *q16, int8_t *q8, float *d, float *qsum,
                                        float *qlo, float *qhi) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    const __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    const float amax = _mm_cvtss_f32(h);
    const __m256 id = _mm256_set1_ps(amax > 0 ? (float)levels / amax : 0);
    const __m256i q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, id)), q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, id));
    const __m256i q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, id)), q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, id));
    /* packs works within 128-bit lanes; the permutes put the values back in order. */
    const __m256i p01 = _mm256_packs_epi32(q0, q1), p23 = _mm256_packs_epi32(q2, q3);
    if (q16) {
        _mm256_storeu_si256((__m256i *)q16, _mm256_permute4x64_epi64(p01, 0xD8));
        _mm256_storeu_si256((__m256i *)(q16 + 16), _mm256_permute4x64_epi64(p23, 0xD8));
    } else {
        const __m256i b = _mm256_packs_epi16(p01, p23);
        _mm256_storeu_si256((__m256i *)q8, _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
    const int32_t lo = hsum_i32(_mm256_add_epi32(q0, q1)), hi = hsum_i32(_mm256_add_epi32(q2, q3));
    *d = amax / (float)levels;
    *qsum = *d * (float)(lo + hi);
    *qlo = *d * (float)lo;
    *qhi = *d * (float)hi;
}
#endif

/* A block's integers as hi and lo bytes (rs_qacts.hl): v = 256 hi + lo. */
static void split_bytes_scalar(const int16_t *q16, const int8_t *q8, uint8_t *hl, int32_t *hisum) {
    int32_t sum = 0;
    for (int k = 0; k < 32; k++) {
        const int32_t v = q16 ? q16[k] : q8[k];
        hl[k] = (uint8_t)(int8_t)(v >> 8);
        hl[32 + k] = (uint8_t)(v & 0xFF);
        sum += v >> 8;
    }
    *hisum = sum;
}

#if RS_X86
RS_AVX2 static void split_bytes_avx2(const int16_t *q16, const int8_t *q8, uint8_t *hl, int32_t *hisum) {
    __m256i v0, v1;
    if (q16) {
        v0 = _mm256_loadu_si256((const __m256i *)q16);
        v1 = _mm256_loadu_si256((const __m256i *)(q16 + 16));
    } else {
        v0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)q8));
        v1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(q8 + 16)));
    }
    const __m256i ff = _mm256_set1_epi16(0xFF);
    /* packs works within 128-bit lanes; the permute puts the values back in order. */
    const __m256i h0 = _mm256_srai_epi16(v0, 8), h1 = _mm256_srai_epi16(v1, 8);
    const __m256i hi = _mm256_packs_epi16(h0, h1);
    *hisum = hsum_i32(_mm256_madd_epi16(_mm256_add_epi16(h0, h1), _mm256_set1_epi16(1)));
    const __m256i lo = _mm256_packus_epi16(_mm256_and_si256(v0, ff), _mm256_and_si256(v1, ff));
    _mm256_storeu_si256((__m256i *)hl, _mm256_permute4x64_epi64(hi, 0xD8));
    _mm256_storeu_si256((__m256i *)(hl + 32), _mm256_permute4x64_epi64(lo, 0xD8));
}
#endif

/* The layout of T rows of `cols` values in q's buffer for `readers`, the padding floats and the
 * missing partner of an odd T's last pair zeroed. */
static rs_qacts reserve(qbuf *q, int64_t cols, int64_t T, int levels, int isa, int readers) {
    const int64_t nb = cols / 32;
    const int64_t qbytes = (T * cols * (levels > 127 ? 2 : 1) + 63) / 64 * 64;
    const int pairs = (readers & RS_ACTS_FOR_STORED) && rs_int16_pairs(isa, T, levels);
    const int bytes = (readers & RS_ACTS_FOR_X16) != 0;
    const int64_t pbytes = pairs ? (T + 1) / 2 * cols * 4 : 0; /* T rounded up to even, int16 */
    const int64_t hbytes = bytes ? T * cols * 2 + (T * nb * 4 + 63) / 64 * 64 : 0; /* hl, then hisum */
    const int64_t nf = T * nb + 16; /* floats per array, with the 16 a vector load may read past the end */
    uint8_t *buf = (uint8_t *)grow(q, qbytes + pbytes + hbytes + 4 * nf * 4);
    if (!buf) { /* out of memory: the caller takes the fp32 path */
        rs_qacts none = {NULL, NULL, NULL, NULL, NULL, NULL, cols, T, NULL, NULL, NULL};
        return none;
    }
    int16_t *q16 = levels > 127 ? (int16_t *)buf : NULL;
    int8_t *q8 = levels > 127 ? NULL : (int8_t *)buf;
    int16_t *q16p = pairs ? (int16_t *)(buf + qbytes) : NULL;
    if (pairs && T % 2)
        for (int64_t b = 0; b < nb; b++) {
            int16_t *last = q16p + ((T / 2) * nb + b) * 64;
            memset(last + 16, 0, 32);
            memset(last + 48, 0, 32);
        }
    uint8_t *hl = buf + qbytes + pbytes;
    float *d = (float *)(hl + hbytes), *qsum = d + nf, *qlo = qsum + nf, *qhi = qlo + nf;
    for (int64_t k = T * nb; k < nf; k++) d[k] = qsum[k] = qlo[k] = qhi[k] = 0;
    rs_qacts a = {q16, q8, d, qsum, qlo, qhi, cols, T, q16p, bytes ? hl : NULL, bytes ? (const int32_t *)(hl + T * cols * 2) : NULL};
    return a;
}

void rs_quantize_acts_blocks(const float *x, int64_t ldx, const rs_qacts *a, int64_t b0, int64_t b1, int isa) {
    const int levels = a->q16 ? 32767 : 127;
    const int64_t T = a->T, cols = a->cols;
    /* The layout's arrays are the caller's buffer: written here, read-only for the kernels. */
    float *d = (float *)a->d, *qsum = (float *)a->qsum, *qlo = (float *)a->qlo, *qhi = (float *)a->qhi;
    for (int64_t t = 0; t < T; t++) {
        for (int64_t b = b0; b < b1; b++) {
            const float *xb = x + t * ldx + b * 32;
            const int64_t i = b * T + t;
            int16_t *b16 = a->q16 ? (int16_t *)a->q16 + t * cols + b * 32 : NULL;
            int8_t *b8 = a->q8 ? (int8_t *)a->q8 + t * cols + b * 32 : NULL;
            uint8_t *hl = a->hl ? (uint8_t *)a->hl + (t * (cols / 32) + b) * 64 : NULL;
            int32_t *hisum = a->hl ? (int32_t *)a->hisum + t * (cols / 32) + b : NULL;
#if RS_X86
            if (isa >= RS_ISA_AVX2) {
                quantize_block_avx2(xb, levels, b16, b8, d + i, qsum + i, qlo + i, qhi + i);
                if (hl) split_bytes_avx2(b16, b8, hl, hisum);
            } else
#endif
            {
                quantize_block_scalar(xb, levels, b16, b8, d + i, qsum + i, qlo + i, qhi + i);
                if (hl) split_bytes_scalar(b16, b8, hl, hisum);
            }
            if (a->q16p) {
                int16_t *p = (int16_t *)a->q16p + ((t / 2) * (cols / 32) + b) * 64 + (t % 2) * 16;
                memcpy(p, b16, 32);
                memcpy(p + 32, b16 + 16, 32);
            }
        }
    }
}

rs_qacts rs_quantize_acts(const float *x, int64_t ldx, int64_t cols, int64_t T, int levels, int isa, int readers) {
    const rs_qacts a = reserve(&qb, cols, T, levels, isa, readers);
    if (a.d) rs_quantize_acts_blocks(x, ldx, &a, 0, cols / 32, isa);
    return a;
}

rs_qacts rs_reserve_next_acts(int64_t cols, int64_t T, int levels, int isa, int readers) {
    return reserve(&qb_next, cols, T, levels, isa, readers);
}
