/*
 * The int16 integer matrix-vector product on 512-bit vectors (AVX-512 VNNI), for six or more
 * tokens (rs_int16_pairs): batched decode and wide speculative verification.
 *
 * Sapphire Rapids runs vpmaddwd, vpdpwssd, vcvtdq2ps and FMA on zmm registers at the rate it
 * runs them on ymm, so each instruction that does a whole 512-bit width does twice the work.
 * A weight block's 32 int16 values fill one zmm, but its products with one token then need a
 * cross-lane add before they can be scaled; instead each block's low and high halves are
 * broadcast to both halves of a zmm and meet two tokens at once (rs_qacts.q16p keeps the
 * activations in that order): lanes 0-7 are token 2p's, lanes 8-15 token 2p + 1's, each exactly
 * the eight int32 sums gemv_int16_body.h computes for that token. Scales and accumulation follow
 * that kernel lane for lane, so the results are its results to the bit (a test holds them to
 * it), and one token alone still takes its row_one().
 * On Zen 4, whose 512-bit instructions take two 256-bit passes, the work per token is the ymm
 * kernel's: no faster there, and not slower in principle (not measured).
 */
#include "decode_avx2.h"

#if RS_X86

#define INT_TARGET RS_AVX512_VNNI
#define INT_ENTRY rs_gemv_int16_zmm

/* acc + the pairwise products of a and b (vpdpwssd). Written out because clang splits the
 * intrinsic into vpmaddwd + vpaddd at zmm width: one more instruction per token pair. */
INT_TARGET static inline __m512i dpwssd(__m512i acc, __m512i a, const void *b) {
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "m"(*(const __m512i *)b));
    return acc;
}

/* One block's products with the tile's P token pairs. sd0/sd1 hold the block's scale for tokens
 * t0 ... t0 + 15 in lanes 0-15; pick[p] copies token 2p's to lanes 0-7 and 2p + 1's to 8-15. */
#define PAIR_PRODUCTS(A, B, QB, SD0, SD1)                                                            \
    for (int p = 0; p < P; p++) {                                                                    \
        const int16_t *q = (QB) + p * nb * 64;                                                       \
        const __m512i qa = _mm512_loadu_si512(q);                                                    \
        if (two_scales) {                                                                            \
            const __m512i qb = _mm512_loadu_si512(q + 32);                                           \
            acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(A, qa)),                   \
                                     _mm512_permutexvar_ps(pick[p], SD0), acc[p]);                   \
            acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(B, qb)),                   \
                                     _mm512_permutexvar_ps(pick[p], SD1), acc[p]);                   \
        } else {                                                                                     \
            const __m512i s = dpwssd(_mm512_madd_epi16(A, qa), B, q + 32);                           \
            acc[p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_permutexvar_ps(pick[p], SD0), acc[p]); \
        }                                                                                            \
    }

/* Rows [r0, r1) for tokens t0 ..< t0 + T, T <= 2P <= 16, t0 even. P, the number of token pairs,
 * is a compile-time constant at each call, so the accumulators stay in registers. Sixteen
 * tokens a tile (the ymm kernel takes eight) halve the decoding and scales per token. */
INT_TARGET __attribute__((always_inline)) static inline void tile(const int type, const rs_matmul_job *j,
                                                                const rs_qacts *a, int64_t t0, const int P,
                                                                const int T, int64_t r0, int64_t r1) {
    const int lone_token = t0 + T == a->T && a->T % 8 == 1;
    const int64_t nb = a->cols / 32, ld = a->T, ng = type == RS_TYPE_Q8_0 ? 0 : nb / 8;
    const int two_scales = type == RS_TYPE_Q6_K;
    const int has_off = type == RS_TYPE_Q4_1 || type == RS_TYPE_Q4_K || type == RS_TYPE_Q5_K;
    const int16_t *qp = a->q16p + (t0 / 2) * nb * 64;
    const float *dx = a->d + t0, *qsum = a->qsum + t0;
    __m512i pick[8];
    for (int p = 0; p < P; p++)
        pick[p] = _mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)j->w + r * j->row_bytes;
        __m512 acc[8];
        for (int p = 0; p < P; p++) acc[p] = _mm512_setzero_ps();
        __m512 offv = _mm512_setzero_ps();
        for (int64_t g = 0; g < ng; g++) {
            float e0[8], e1[8], ow[8];
            scales8_i16_arrays(type, row, g * 8, e0, e1, ow);
            /* Unrolled, this loop's blocks interleave and the accumulators spill. */
#pragma clang loop unroll(disable)
            for (int k = 0; k < 8; k++) {
                const int64_t b = g * 8 + k;
                _mm_prefetch((const char *)row + block_offset(type, b) + PREFETCH_AHEAD, _MM_HINT_T0);
                __m256i lo, hi;
                float u0, u1, uo; /* unused: the compiler drops their decoding */
                decode_i16(type, row, b, &lo, &hi, &u0, &u1, &uo);
                const __m512i A = _mm512_broadcast_i64x4(lo), B = _mm512_broadcast_i64x4(hi);
                const int64_t i = b * ld;
                const __m512 dv = _mm512_loadu_ps(dx + i);
                const __m512 sd0 = _mm512_mul_ps(dv, _mm512_set1_ps(e0[k]));
                const __m512 sd1 = two_scales ? _mm512_mul_ps(dv, _mm512_set1_ps(e1[k])) : sd0;
                if (has_off) offv = _mm512_fmadd_ps(_mm512_set1_ps(ow[k]), _mm512_loadu_ps(qsum + i), offv);
                PAIR_PRODUCTS(A, B, qp + b * 64, sd0, sd1)
            }
        }
        /* The ymm kernel takes tokens eight at a time, and a last token alone in its tile (T % 8
         * == 1) adds the offsets of the blocks after the groups in a scalar, which rounds
         * differently from a vector FMA: that token does so here too. */
        float offs_groups[16];
        _mm512_storeu_ps(offs_groups, offv);
        const int lone = lone_token ? T - 1 : -1;
        float off1 = 0;
#pragma clang loop unroll(disable)
        for (int64_t b = ng * 8; b < nb; b++) {
            _mm_prefetch((const char *)row + block_offset(type, b) + PREFETCH_AHEAD, _MM_HINT_T0);
            __m256i lo, hi;
            float s0, s1, off;
            decode_i16(type, row, b, &lo, &hi, &s0, &s1, &off);
            const __m512i A = _mm512_broadcast_i64x4(lo), B = _mm512_broadcast_i64x4(hi);
            const int64_t i = b * ld;
            const __m512 dv = _mm512_loadu_ps(dx + i);
            const __m512 sd0 = _mm512_mul_ps(dv, _mm512_set1_ps(s0));
            const __m512 sd1 = two_scales ? _mm512_mul_ps(dv, _mm512_set1_ps(s1)) : sd0;
            if (has_off) {
                offv = _mm512_fmadd_ps(_mm512_set1_ps(off), _mm512_loadu_ps(qsum + i), offv);
                if (lone >= 0) off1 += off * qsum[i + lone];
            }
            PAIR_PRODUCTS(A, B, qp + b * 64, sd0, sd1)
        }
        float offs[16];
        _mm512_storeu_ps(offs, offv);
        for (int t = 0; t < T; t++) {
            const __m512 pa = acc[t / 2];
            const __m256 half = t % 2 ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(pa), 1))
                                      : _mm512_castps512_ps256(pa);
            const float v = t == lone ? hsum8(half) + offs_groups[t] + off1 : hsum8(half) + offs[t];
            float *p = j->y + (t0 + t) * j->ldy + r;
            *p = j->accumulate ? *p + v : v;
        }
    }
}

/* Tokens in tiles of sixteen, then one tile of the rest, with the weight type and the number of
 * pairs compile-time constants in every call. */
#define DEFINE_TILED(TYPE, NAME)                                                                   \
    INT_TARGET static void NAME(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0,  \
                                int64_t r1) {                                                       \
        int64_t t = 0;                                                                              \
        for (; t + 16 <= T; t += 16) tile(TYPE, j, a, t, 8, 16, r0, r1);                            \
        const int rest = (int)(T - t);                                                              \
        switch ((rest + 1) / 2) {                                                                   \
        case 8: tile(TYPE, j, a, t, 8, rest, r0, r1); break;                                        \
        case 7: tile(TYPE, j, a, t, 7, rest, r0, r1); break;                                        \
        case 6: tile(TYPE, j, a, t, 6, rest, r0, r1); break;                                        \
        case 5: tile(TYPE, j, a, t, 5, rest, r0, r1); break;                                        \
        case 4: tile(TYPE, j, a, t, 4, rest, r0, r1); break;                                        \
        case 3: tile(TYPE, j, a, t, 3, rest, r0, r1); break;                                        \
        case 2: tile(TYPE, j, a, t, 2, rest, r0, r1); break;                                        \
        case 1: tile(TYPE, j, a, t, 1, rest, r0, r1); break;                                        \
        default: break;                                                                             \
        }                                                                                           \
    }

#define TILED_DEFINED
#include "gemv_int_entry.h"

#endif
