/*
 * The interleaved kernel (x16.c) on 512-bit vectors with AVX-512 VNNI: one lane a row, sixteen
 * rows a vector. rs_gemv_x16_scalar is the definition; the results are its results to the bit.
 */
#include "internal.h"

#if RS_X86

#define X16_TARGET RS_AVX512_VNNI

/* acc + the products of the unsigned bytes of a with the signed bytes of b, four to a lane
 * (vpdpbusd), written out so that the compiler keeps the one instruction. */
X16_TARGET static inline __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

enum { K_Q4_0, K_Q4_1, K_Q5_0, K_Q8_0 };

/* Rows 16g ..< 16g + 16 of tokens t0 ..< t0 + T, written or added. */
X16_TARGET static inline void store_tile(const rs_matmul_job *j, int64_t g, int64_t t0, int T, const __m512 *acc) {
    for (int t = 0; t < T; t++) {
        float *y = j->y + (t0 + t) * j->ldy + g * 16;
        _mm512_storeu_ps(y, j->accumulate ? _mm512_add_ps(_mm512_loadu_ps(y), acc[t]) : acc[t]);
    }
}

/* Rows 16g ..< 16g + 16 for tokens t0 ..< t0 + T (T <= 8, a compile-time constant at each
 * call, as is the weight kind): each block's quants are split once and serve every token. */
X16_TARGET __attribute__((always_inline)) static inline void tile(const int kind, const rs_matmul_job *j,
                                                                const rs_qacts *a, int64_t g, int64_t t0,
                                                                const int T) {
    const int64_t nb = a->cols / 32, bb = kind == K_Q8_0 ? 34 : kind == K_Q5_0 ? 22 : kind == K_Q4_1 ? 20 : 18;
    const int64_t sb = kind == K_Q5_0 ? 6 : kind == K_Q4_1 ? 4 : 2;
    const int64_t ahead = T == 1 ? PREFETCH_AHEAD_ONE : PREFETCH_AHEAD;
    const uint8_t *G = (const uint8_t *)j->w + g * nb * 16 * bb;
    const __m512i low = _mm512_set1_epi8(0x0F), flip = _mm512_set1_epi8((char)0x80);
    __m512 acc[8];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *B = G + b * 16 * bb;
        for (int64_t p = 0; p < 16 * bb; p += 64) _mm_prefetch((const char *)B + ahead + p, _MM_HINT_T0);
        const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)B));
        const __m512 mv = kind == K_Q4_1 ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(B + 32)))
                                         : _mm512_mul_ps(dv, _mm512_set1_ps(kind == K_Q5_0 ? -16.0f : -8.0f));
        /* w: the values as signed bytes; u: as unsigned bytes (Q8_0: w + 128). */
        __m512i w[8], u[8];
        if (kind == K_Q8_0) {
            for (int k = 0; k < 8; k++) {
                w[k] = _mm512_loadu_si512(B + 32 + 64 * k);
                u[k] = _mm512_xor_si512(w[k], flip);
            }
        } else {
            for (int k = 0; k < 4; k++) {
                const __m512i p = _mm512_loadu_si512(B + 16 * sb + 64 * k);
                w[k] = u[k] = _mm512_and_si512(p, low);
                w[k + 4] = u[k + 4] = _mm512_and_si512(_mm512_srli_epi16(p, 4), low);
            }
            if (kind == K_Q5_0) {
                /* Bit 8c + i of a row's word is the fifth bit of value 4i + c: shifted to bit 4
                 * of byte c (x16.c, spread_bits). */
                const __m512i qh = _mm512_loadu_si512(B + 32), bit4 = _mm512_set1_epi8(0x10);
                w[0] = u[0] = _mm512_or_si512(w[0], _mm512_and_si512(_mm512_slli_epi32(qh, 4), bit4));
                w[1] = u[1] = _mm512_or_si512(w[1], _mm512_and_si512(_mm512_slli_epi32(qh, 3), bit4));
                w[2] = u[2] = _mm512_or_si512(w[2], _mm512_and_si512(_mm512_slli_epi32(qh, 2), bit4));
                w[3] = u[3] = _mm512_or_si512(w[3], _mm512_and_si512(_mm512_slli_epi32(qh, 1), bit4));
                w[4] = u[4] = _mm512_or_si512(w[4], _mm512_and_si512(qh, bit4));
                w[5] = u[5] = _mm512_or_si512(w[5], _mm512_and_si512(_mm512_srli_epi32(qh, 1), bit4));
                w[6] = u[6] = _mm512_or_si512(w[6], _mm512_and_si512(_mm512_srli_epi32(qh, 2), bit4));
                w[7] = u[7] = _mm512_or_si512(w[7], _mm512_and_si512(_mm512_srli_epi32(qh, 3), bit4));
            }
        }
        for (int t = 0; t < T; t++) {
            const int64_t tb = (t0 + t) * nb + b;
            const int32_t *hl = (const int32_t *)(a->hl + tb * 64);
            __m512i hi = kind == K_Q8_0 ? _mm512_set1_epi32(-128 * a->hisum[tb]) : _mm512_setzero_si512();
            for (int i = 0; i < 8; i++) hi = dpbusd(hi, u[i], _mm512_set1_epi32(hl[i]));
            __m512i s = _mm512_slli_epi32(hi, 8);
            for (int i = 0; i < 8; i++) s = dpbusd(s, _mm512_set1_epi32(hl[8 + i]), w[i]);
            const int64_t i = b * a->T + t0 + t;
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dv, _mm512_set1_ps(a->d[i])), acc[t]);
            if (kind != K_Q8_0) acc[t] = _mm512_fmadd_ps(mv, _mm512_set1_ps(a->qsum[i]), acc[t]);
        }
    }
    store_tile(j, g, t0, T, acc);
}

/* Q4_K: blocks of 256 values for 16 rows (x16.c); sub-block j's scales and mins are decoded
 * for the 16 rows at once from the packed 6-bit fields (lane r: row r's bytes). */
X16_TARGET __attribute__((always_inline)) static inline void tile_q4_k(const rs_matmul_job *j, const rs_qacts *a,
                                                                     int64_t g, int64_t t0, const int T) {
    const int64_t nb = a->cols / 32, ns = nb / 8;
    const int64_t ahead = T == 1 ? PREFETCH_AHEAD_ONE : PREFETCH_AHEAD;
    const uint8_t *G = (const uint8_t *)j->w + g * ns * 16 * 144;
    const __m512i low = _mm512_set1_epi8(0x0F), m6 = _mm512_set1_epi32(63), m4 = _mm512_set1_epi32(0xF),
                  m2 = _mm512_set1_epi32(3);
    __m512 acc[8];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t sbk = 0; sbk < ns; sbk++) {
        const uint8_t *B = G + sbk * 16 * 144;
        const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)B));
        const __m512 dmv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(B + 32)));
        /* Bytes 0-3, 4-7 and 8-11 of each row's packed scales, from the 2-byte fields. */
#define FIELD(h) _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(B + 32 * (h))))
        const __m512i A = _mm512_or_si512(FIELD(2), _mm512_slli_epi32(FIELD(3), 16));
        const __m512i M = _mm512_or_si512(FIELD(4), _mm512_slli_epi32(FIELD(5), 16));
        const __m512i C = _mm512_or_si512(FIELD(6), _mm512_slli_epi32(FIELD(7), 16));
#undef FIELD
        for (int sub = 0; sub < 8; sub++) {
            const int64_t b = sbk * 8 + sub;
            const uint8_t *Q = B + 256 + 512 * (sub / 2);
            for (int64_t p = 0; p < 512; p += 256) _mm_prefetch((const char *)Q + ahead + p, _MM_HINT_T0);
            __m512i sc, mn;
            if (sub < 4) {
                sc = _mm512_and_si512(_mm512_srli_epi32(A, 8 * sub), m6);
                mn = _mm512_and_si512(_mm512_srli_epi32(M, 8 * sub), m6);
            } else {
                const int k = sub - 4;
                sc = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(C, 8 * k), m4),
                                     _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(A, 8 * k + 6), m2), 4));
                mn = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(C, 8 * k + 4), m4),
                                     _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(M, 8 * k + 6), m2), 4));
            }
            const __m512 dw = _mm512_mul_ps(dv, _mm512_cvtepi32_ps(sc));
            const __m512 off = _mm512_xor_ps(_mm512_mul_ps(dmv, _mm512_cvtepi32_ps(mn)), _mm512_set1_ps(-0.0f));
            __m512i w[8];
            for (int k = 0; k < 8; k++) {
                const __m512i q = _mm512_loadu_si512(Q + 64 * k);
                w[k] = _mm512_and_si512(sub % 2 ? _mm512_srli_epi16(q, 4) : q, low);
            }
            for (int t = 0; t < T; t++) {
                const int64_t tb = (t0 + t) * nb + b;
                const int32_t *hl = (const int32_t *)(a->hl + tb * 64);
                __m512i hi = _mm512_setzero_si512();
                for (int i = 0; i < 8; i++) hi = dpbusd(hi, w[i], _mm512_set1_epi32(hl[i]));
                __m512i s = _mm512_slli_epi32(hi, 8);
                for (int i = 0; i < 8; i++) s = dpbusd(s, _mm512_set1_epi32(hl[8 + i]), w[i]);
                const int64_t i = b * a->T + t0 + t;
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(a->d[i])), acc[t]);
                acc[t] = _mm512_fmadd_ps(off, _mm512_set1_ps(a->qsum[i]), acc[t]);
            }
        }
    }
    store_tile(j, g, t0, T, acc);
}

/* Q6_K: blocks of 256 values for 16 rows (x16.c); a block of 32 has two int8 scales, one per
 * half, so each half's sum is scaled apart, and its -32 bias multiplies the halves' sums. */
X16_TARGET __attribute__((always_inline)) static inline void tile_q6_k(const rs_matmul_job *j, const rs_qacts *a,
                                                                     int64_t g, int64_t t0, const int T) {
    const int64_t nb = a->cols / 32, ns = nb / 8;
    const int64_t ahead = T == 1 ? PREFETCH_AHEAD_ONE : PREFETCH_AHEAD;
    const uint8_t *G = (const uint8_t *)j->w + g * ns * 16 * 210;
    const __m512i low = _mm512_set1_epi8(0x0F), two = _mm512_set1_epi8(0x03);
    __m512 acc[8];
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t sbk = 0; sbk < ns; sbk++) {
        const uint8_t *B = G + sbk * 16 * 210;
        for (int64_t p = 0; p < 16 * 210; p += 64) _mm_prefetch((const char *)B + ahead + p, _MM_HINT_T0);
        const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)B));
        for (int sub = 0; sub < 8; sub++) {
            const int n = sub / 4, q = sub % 4;
            const int64_t b = sbk * 8 + sub;
            const __m512i f = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(B + 32 + 32 * sub)));
            const __m512 da = _mm512_mul_ps(dv, _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(f, 24), 24)));
            const __m512 db = _mm512_mul_ps(dv, _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(f, 16), 24)));
            const __m512 oa = _mm512_mul_ps(da, _mm512_set1_ps(-32.0f)), ob = _mm512_mul_ps(db, _mm512_set1_ps(-32.0f));
            const uint8_t *L = B + 288 + 64 * (16 * n + 8 * (q & 1)), *H = B + 288 + 64 * (32 + 8 * n);
            __m512i w[8];
            for (int k = 0; k < 8; k++) {
                const __m512i lo4 = _mm512_and_si512(_mm512_srli_epi16(_mm512_loadu_si512(L + 64 * k), 4 * (q >> 1)), low);
                const __m512i hi2 = _mm512_and_si512(_mm512_srli_epi16(_mm512_loadu_si512(H + 64 * k), 2 * q), two);
                w[k] = _mm512_or_si512(lo4, _mm512_slli_epi16(hi2, 4));
            }
            for (int t = 0; t < T; t++) {
                const int64_t tb = (t0 + t) * nb + b;
                const int32_t *hl = (const int32_t *)(a->hl + tb * 64);
                __m512i ha = _mm512_setzero_si512(), hb = ha;
                for (int i = 0; i < 4; i++) ha = dpbusd(ha, w[i], _mm512_set1_epi32(hl[i]));
                for (int i = 4; i < 8; i++) hb = dpbusd(hb, w[i], _mm512_set1_epi32(hl[i]));
                __m512i sa = _mm512_slli_epi32(ha, 8), sb = _mm512_slli_epi32(hb, 8);
                for (int i = 0; i < 4; i++) sa = dpbusd(sa, _mm512_set1_epi32(hl[8 + i]), w[i]);
                for (int i = 4; i < 8; i++) sb = dpbusd(sb, _mm512_set1_epi32(hl[8 + i]), w[i]);
                const int64_t i = b * a->T + t0 + t;
                const __m512 dx = _mm512_set1_ps(a->d[i]);
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sa), _mm512_mul_ps(da, dx), acc[t]);
                acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sb), _mm512_mul_ps(db, dx), acc[t]);
                acc[t] = _mm512_fmadd_ps(oa, _mm512_set1_ps(a->qlo[i]), acc[t]);
                acc[t] = _mm512_fmadd_ps(ob, _mm512_set1_ps(a->qhi[i]), acc[t]);
            }
        }
    }
    store_tile(j, g, t0, T, acc);
}

/* Rows in groups of 16, tokens in tiles of eight and one tile of the rest, with the tile's
 * width a compile-time constant in every call. */
#define DEFINE_ROWS(NAME, TILE)                                                                      \
    X16_TARGET static void NAME(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0,    \
                                int64_t r1) {                                                        \
        for (int64_t g = r0 / 16; g < r1 / 16; g++) {                                                \
            int64_t t = 0;                                                                           \
            for (; t + 8 <= T; t += 8) TILE(j, a, g, t, 8);                                          \
            switch (T - t) {                                                                         \
            case 7: TILE(j, a, g, t, 7); break;                                                      \
            case 6: TILE(j, a, g, t, 6); break;                                                      \
            case 5: TILE(j, a, g, t, 5); break;                                                      \
            case 4: TILE(j, a, g, t, 4); break;                                                      \
            case 3: TILE(j, a, g, t, 3); break;                                                      \
            case 2: TILE(j, a, g, t, 2); break;                                                      \
            case 1: TILE(j, a, g, t, 1); break;                                                      \
            default: break;                                                                          \
            }                                                                                        \
        }                                                                                            \
    }

#define TILE_Q4_0(j, a, g, t, T) tile(K_Q4_0, j, a, g, t, T)
#define TILE_Q4_1(j, a, g, t, T) tile(K_Q4_1, j, a, g, t, T)
#define TILE_Q5_0(j, a, g, t, T) tile(K_Q5_0, j, a, g, t, T)
#define TILE_Q8_0(j, a, g, t, T) tile(K_Q8_0, j, a, g, t, T)
DEFINE_ROWS(x16_q4_0, TILE_Q4_0)
DEFINE_ROWS(x16_q4_1, TILE_Q4_1)
DEFINE_ROWS(x16_q5_0, TILE_Q5_0)
DEFINE_ROWS(x16_q8_0, TILE_Q8_0)
DEFINE_ROWS(x16_q4_k, tile_q4_k)
DEFINE_ROWS(x16_q6_k, tile_q6_k)

void rs_gemv_x16_vnni(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    switch (j->type & 0xFF) {
    case RS_TYPE_Q4_1: x16_q4_1(j, a, T, r0, r1); return;
    case RS_TYPE_Q5_0: x16_q5_0(j, a, T, r0, r1); return;
    case RS_TYPE_Q4_K: x16_q4_k(j, a, T, r0, r1); return;
    case RS_TYPE_Q6_K: x16_q6_k(j, a, T, r0, r1); return;
    case RS_TYPE_Q8_0: x16_q8_0(j, a, T, r0, r1); return;
    default: x16_q4_0(j, a, T, r0, r1); return;
    }
}

#endif
