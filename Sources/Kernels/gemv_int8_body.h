/*
 * The integer matrix-vector product with int8 activations, as llama.cpp computes its quantized
 * dot products, included once per instruction set: gemv_int8_avx2.c and gemv_int8_vnni.c define
 * INT_TARGET, INT_ENTRY and DOT_U8S8(u, q), the int32 sums of four products u[k] q[k] of
 * unsigned and signed bytes (AVX2: vpmaddubsw, then vpmaddwd with ones; VNNI: vpdpbusd, one
 * instruction and no int16 saturation, which these levels never reach). Each weight block is
 * decoded once to 32 unsigned bytes and multiplied with a token's 32 signed activation bytes,
 * 32 products per instruction (twice vpmaddwd's 16), into eight int32 lanes: lanes 0-3 hold
 * values 0-15 and lanes 4-7 values 16-31, which is where Q6_K's second scale applies. Biases
 * (Q4_0's 8, Q5_0's 16, Q6_K's 32) and offsets go through the block's quantized sum, so the
 * result is W . (d q) (gemv_int_scalar.c is the definition). Q8_0's bytes are signed: their
 * absolute value meets the activations with the weight's sign (vpsignb), as in llama.cpp.
 * A weight block, once decoded, serves up to 8 tokens (batched decode, verification steps).
 */
#include <string.h>

#include "decode_avx2.h"

#if RS_X86

/* Rows [r0, r1) for tokens t0 ..< t0 + T. One token keeps its offsets in a scalar; more share
 * one vector (lane t: token t0 + t), fed by one load of the block's sums for all of them, and
 * take their per-token scales from one vector product spilled to the stack. */
INT_TARGET __attribute__((always_inline)) static inline void tile(const int type, const rs_matmul_job *j,
                                                                const rs_qacts *a, int64_t t0, const int T,
                                                                int64_t r0, int64_t r1) {
    const int64_t nb = a->cols / 32, ld = a->T;
    const int8_t *q8 = a->q8 + t0 * a->cols;
    const float *dx = a->d + t0, *qsum = a->qsum + t0, *qlo = a->qlo + t0, *qhi = a->qhi + t0;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)j->w + r * j->row_bytes;
        __m256 acc[8];
        for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
        __m256 offv = _mm256_setzero_ps();
        float off1 = 0;
        for (int64_t b = 0; b < nb; b++) {
            _mm_prefetch((const char *)row + block_offset(type, b) + PREFETCH_AHEAD, _MM_HINT_T0);
            float s0, s1, c;
            const __m256i u = decode_u8(type, row, b, &s0, &s1, &c);
            const __m256i ax = type == RS_TYPE_Q8_0 ? _mm256_sign_epi8(u, u) : u;
            const int64_t i = b * ld;
            float sd0[8], sd1[8];
            if (T > 1) {
                const __m256 dv = _mm256_loadu_ps(dx + i);
                _mm256_storeu_ps(sd0, _mm256_mul_ps(dv, _mm256_set1_ps(s0)));
                if (type == RS_TYPE_Q6_K) {
                    _mm256_storeu_ps(sd1, _mm256_mul_ps(dv, _mm256_set1_ps(s1)));
                    offv = _mm256_fmadd_ps(_mm256_set1_ps(-32.0f * s0), _mm256_loadu_ps(qlo + i), offv);
                    offv = _mm256_fmadd_ps(_mm256_set1_ps(-32.0f * s1), _mm256_loadu_ps(qhi + i), offv);
                } else if (type != RS_TYPE_Q8_0) {
                    offv = _mm256_fmadd_ps(_mm256_set1_ps(c), _mm256_loadu_ps(qsum + i), offv);
                }
            } else if (type == RS_TYPE_Q6_K) {
                off1 -= 32.0f * (s0 * qlo[i] + s1 * qhi[i]);
            } else if (type != RS_TYPE_Q8_0) {
                off1 += c * qsum[i];
            }
            for (int t = 0; t < T; t++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(q8 + t * a->cols + b * 32));
                if (type == RS_TYPE_Q8_0) q = _mm256_sign_epi8(q, u);
                const __m256i p = DOT_U8S8(ax, q);
                __m256 scale;
                if (T == 1)
                    scale = _mm256_mul_ps(type == RS_TYPE_Q6_K ? _mm256_set_m128(_mm_set1_ps(s1), _mm_set1_ps(s0))
                                                               : _mm256_set1_ps(s0),
                                          _mm256_broadcast_ss(dx + i));
                else if (type == RS_TYPE_Q6_K)
                    scale = _mm256_set_m128(_mm_broadcast_ss(sd1 + t), _mm_broadcast_ss(sd0 + t));
                else
                    scale = _mm256_broadcast_ss(sd0 + t);
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), scale, acc[t]);
            }
        }
        float offs[8];
        _mm256_storeu_ps(offs, offv);
        for (int t = 0; t < T; t++) {
            const float v = hsum8(acc[t]) + (T == 1 ? off1 : offs[t]);
            float *p = j->y + (t0 + t) * j->ldy + r;
            *p = j->accumulate ? *p + v : v;
        }
    }
}

#include "gemv_int_entry.h"

#endif
