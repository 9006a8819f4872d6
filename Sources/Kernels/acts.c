/*
 * Activations quantized per block of 32 for the integer matrix-vector kernels.
 *
 * int16, not llama.cpp's int8: with 8-bit levels SmolLM2's greedy ids leave the fp32 path's on
 * the reference prompts (measured, see rs_gemv_int tests), and the dot products cost about the
 * same either way (one multiply-add instruction per 16 pairs instead of per 32, while the weight
 * decode, shared by every token, dominates). Both paths round x * (levels / amax) to nearest
 * even, so the scalar and SIMD quantizers give the same integers.
 */
#include <math.h>
#include <stdlib.h>

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

static _Thread_local qbuf qb;

static void *grow(int64_t bytes) {
    if (bytes > qb.cap) {
        free(qb.buf);
        const int64_t cap = bytes < 65536 ? 65536 : bytes;
        qb.buf = aligned_alloc(64, (size_t)((cap + 63) / 64 * 64));
        qb.cap = qb.buf ? cap : 0;
    }
    return qb.buf;
}

static void quantize_block_scalar(const float *x, int levels, int16_t *q, float *d, float *s) {
    float amax = 0, sum = 0;
    for (int k = 0; k < 32; k++) {
        amax = fmaxf(amax, fabsf(x[k]));
        sum += x[k];
    }
    const float id = amax > 0 ? (float)levels / amax : 0;
    for (int k = 0; k < 32; k++) q[k] = (int16_t)lrintf(x[k] * id);
    *d = amax / (float)levels;
    *s = sum;
}

#if RS_X86
RS_AVX2 static void quantize_block_avx2(const float *x, int levels, int16_t *q, float *d, float *s) {
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
    /* packs works within 128-bit lanes; the permute puts the halves back in order. */
    _mm256_storeu_si256((__m256i *)q, _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8));
    _mm256_storeu_si256((__m256i *)(q + 16), _mm256_permute4x64_epi64(_mm256_packs_epi32(q2, q3), 0xD8));
    __m256 t = _mm256_add_ps(_mm256_add_ps(v0, v1), _mm256_add_ps(v2, v3));
    __m128 u = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    u = _mm_add_ps(u, _mm_movehl_ps(u, u));
    u = _mm_add_ss(u, _mm_movehdup_ps(u));
    *d = amax / (float)levels;
    *s = _mm_cvtss_f32(u);
}
#endif

rs_qacts rs_quantize_acts(const float *x, int64_t ldx, int64_t cols, int64_t T, int levels, int isa) {
    const int64_t nb = cols / 32;
    uint8_t *buf = (uint8_t *)grow(T * cols * 2 + 2 * T * nb * 4 + 64);
    int16_t *q = (int16_t *)buf;
    float *d = (float *)(buf + ((T * cols * 2 + 63) / 64 * 64));
    float *s = d + T * nb;
    for (int64_t t = 0; t < T; t++) {
        for (int64_t b = 0; b < nb; b++) {
            const float *xb = x + t * ldx + b * 32;
            int16_t *qb_ = q + t * cols + b * 32;
#if RS_X86
            if (isa >= RS_ISA_AVX2) {
                quantize_block_avx2(xb, levels, qb_, d + t * nb + b, s + t * nb + b);
                continue;
            }
#endif
            quantize_block_scalar(xb, levels, qb_, d + t * nb + b, s + t * nb + b);
        }
    }
    rs_qacts a = {q, d, s, cols};
    return a;
}
