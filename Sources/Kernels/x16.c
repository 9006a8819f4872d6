/*
 * Weights interleaved sixteen rows at a time for the integer kernels (llama.cpp repacks Q4_0 the
 * same way for its AVX-512 and ARM kernels).
 *
 * In the stored layout a block's 32 products with a token end in eight int32 lanes that need
 * a conversion and a scaled add per block per token before the next block (its scale differs):
 * two of the four vector operations a block costs each token. Here one vector lane is one row:
 * 16 rows' block b are stored together, so a vpdpbusd with four activation bytes broadcast adds
 * four products to each of 16 rows at once, the block's whole sum ends in the row's own lane, and
 * one conversion and one FMA scale 16 rows. A token then costs about 1.3 vector operations per
 * row-block instead of 4, which is what a step of several tokens (speculative verification, a
 * batch of streams) pays per token.
 *
 * Layout of block b of rows 16g ..< 16g + 16 (the size of the 16 stored blocks, at
 * (g * nb + b) * 16 * block_bytes): the 16 scales d (fp16), for Q4_1 the 16 mins m (fp16), then
 * the quants in groups of 64 bytes: group k holds, for row r at bytes 4r ..< 4r + 4, the stored
 * bytes qs[4k ..< 4k + 4] of that row. Q4_0 and Q4_1 have four groups, whose low nibbles are
 * values 4k ..< 4k + 4 and high nibbles values 16 + 4k ..< 16 + 4k + 4, so one 64-byte load
 * gives two vectors of four values per row (Q5_0 the same, its fifth bits added from a word a
 * row, spread_bits); Q8_0 has eight groups, values 4k ..< 4k + 4. Q4_K interleaves its blocks of
 * 256: the 2-byte fields of its 16-byte head (d, dmin, the packed 6-bit scales and mins) 16 rows
 * together, then 32 groups of 64 bytes, group 8p + k holding qs[32p + 4k ..< 32p + 4k + 4] of
 * each row: the low nibbles are values 4k ..< 4k + 4 of sub-block 2p, the high ones of 2p + 1.
 * Q6_K: the 16 rows' d, then the 2-byte fields of their 16 int8 scales (field j: block j's two),
 * then 48 groups of 64 bytes, its 128 bytes of low bits (groups 0-31) and 64 of high bits
 * (32-47) in the stored order.
 *
 * Activations are int16 (rs_qacts): v = 256 hi + lo with hi signed and lo in 0 ..< 256, both
 * bytes (rs_qacts.hl). vpdpbusd multiplies unsigned by signed bytes: the nibbles (0-15) with the
 * hi bytes, and the lo bytes with the nibbles; (sum hi << 8) + sum lo is the exact int16 product
 * sum. Q8_0's signed weights meet the hi bytes as w + 128 (unsigned), and the sum starts at
 * -128 sum(hi) (rs_qacts.hisum) to take the 128s back out. Every token's numbers go through the
 * same operations in the same order whatever the number of tokens beside it: a token's result
 * does not depend on its batch.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rs_x16_supported(int type, int64_t rows, int64_t cols) {
    const int simple = type == RS_TYPE_Q4_0 || type == RS_TYPE_Q4_1 || type == RS_TYPE_Q5_0 || type == RS_TYPE_Q8_0;
    return (simple || type == RS_TYPE_Q4_K || type == RS_TYPE_Q6_K) && rows > 0 && rows % 16 == 0 && cols > 0 &&
           cols % (simple ? 32 : 256) == 0;
}

static _Atomic int repack_on = 1;
void rs_set_x16_repack(int on) { repack_on = on != 0; }
int rs_x16_repack(void) { return repack_on; }

int rs_x16_pays(int type, int64_t rows, int64_t cols) {
    return rs_x16_supported(type, rows, cols) && rs_int_vnni(rs_isa());
}

/* A stored block: `sb` bytes of fp16 scale (and Q4_1's min; Q5_0's 32 high bits), then the
 * quants, four bytes to a group; the interleaved block of 16 rows keeps the scales first (the 16
 * rows' values of each 2-byte field together, Q5_0's high bits 4 bytes a row), then each group
 * of the 16 rows together (64 bytes). */
static int block_bytes(int base) {
    switch (base) {
    case RS_TYPE_Q6_K: return 210;
    case RS_TYPE_Q4_K: return 144;
    case RS_TYPE_Q8_0: return 34;
    case RS_TYPE_Q5_0: return 22;
    case RS_TYPE_Q4_1: return 20;
    default: return 18;
    }
}
static int scale_bytes(int base) {
    return base == RS_TYPE_Q4_K ? 16 : base == RS_TYPE_Q5_0 ? 6 : base == RS_TYPE_Q4_1 ? 4 : 2;
}
/* The K-quants' blocks hold 256 values: eight blocks of 32 in the kernels' sense. */
static int block_values(int base) { return base == RS_TYPE_Q4_K || base == RS_TYPE_Q6_K ? 256 : 32; }

/* Q5_0's high bits rearranged so that the kernels reach a group's bits with one shift: bit
 * 8c + i of the word is the high bit of value 4i + c (stored: bit 4i + c). */
static uint32_t spread_bits(uint32_t qh) {
    uint32_t w = 0;
    for (int e = 0; e < 32; e++) w |= ((qh >> e) & 1u) << (8 * (e % 4) + e / 4);
    return w;
}
/* The inverse, on every prompt's panels: byte c of the word holds the bits c, c + 4, ..., c + 28
 * of the stored word, spread from a byte by a table. */
static uint32_t every_fourth[256];
static void every_fourth_init(void) {
    for (int v = 0; v < 256; v++) {
        uint32_t x = 0;
        for (int i = 0; i < 8; i++) x |= ((uint32_t)(v >> i) & 1u) << (4 * i);
        every_fourth[v] = x;
    }
}
static uint32_t gather_bits(uint32_t w) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, every_fourth_init);
    return every_fourth[w & 0xFF] | every_fourth[(w >> 8) & 0xFF] << 1 | every_fourth[(w >> 16) & 0xFF] << 2 |
           every_fourth[w >> 24] << 3;
}

/* Where a block's quants start, stored and interleaved, and how many groups of 4 bytes a row. */
static int stored_quants(int base) { return base == RS_TYPE_Q6_K ? 0 : scale_bytes(base); }
static int x16_quants(int base) { return base == RS_TYPE_Q6_K ? 288 : 16 * scale_bytes(base); }
static int quant_groups(int base) { return base == RS_TYPE_Q6_K ? 48 : (block_bytes(base) - scale_bytes(base)) / 4; }

/* The head (scales, mins, Q5_0's fifth bits) between row `lane`'s stored block (blk) and the
 * interleaved block of its 16 rows (in). Q6_K stores its head last (16 scales, d): here d first,
 * then the scales' 2-byte fields. */
static inline void move_head(int base, uint8_t *blk, uint8_t *in, int lane, int to_stored) {
#define MOVE(X, Y, N) memcpy(to_stored ? (Y) : (X), to_stored ? (X) : (Y), N)
    if (base == RS_TYPE_Q6_K) {
        MOVE(in + 2 * lane, blk + 208, 2);
        for (int h = 0; h < 8; h++) MOVE(in + 32 + 32 * h + 2 * lane, blk + 192 + 2 * h, 2);
        return;
    }
    for (int h = 0; h < (base == RS_TYPE_Q5_0 ? 2 : scale_bytes(base)); h += 2) MOVE(in + 16 * h + 2 * lane, blk + h, 2);
#undef MOVE
    if (base == RS_TYPE_Q5_0) {
        uint32_t v;
        if (to_stored) {
            memcpy(&v, in + 32 + 4 * lane, 4);
            v = gather_bits(v);
            memcpy(blk + 2, &v, 4);
        } else {
            memcpy(&v, blk + 2, 4);
            v = spread_bits(v);
            memcpy(in + 32 + 4 * lane, &v, 4);
        }
    }
}

/* A whole block of one row, head and quants. */
static inline void move_block(int base, uint8_t *blk, uint8_t *in, int lane, int to_stored) {
    move_head(base, blk, in, lane, to_stored);
    const int qs = stored_quants(base), qx = x16_quants(base);
    for (int k = 0; k < quant_groups(base); k++) {
        uint8_t *x = in + qx + 64 * k + 4 * lane, *y = blk + qs + 4 * k;
        memcpy(to_stored ? y : x, to_stored ? x : y, 4);
    }
}

#if RS_X86
/* The quants of four groups between the 16 rows' stored blocks (row r at rows + r * row_bytes,
 * 16 bytes) and the interleaved block (four groups of 64 bytes): a 4 x 4 transpose of 4-byte words
 * in each 128-bit lane, its own inverse, so one routine serves both ways. */
RS_AVX512 static void transpose_quads(uint8_t *x16, uint8_t *rows, int64_t row_bytes, int to_stored) {
    __m512i z[4];
    if (to_stored) {
        for (int k = 0; k < 4; k++) z[k] = _mm512_loadu_si512(x16 + 64 * k);
    } else {
        /* z[j]'s 128-bit lane l is row 4l + j. */
        for (int j = 0; j < 4; j++) {
            __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(rows + j * row_bytes)));
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(rows + (4 + j) * row_bytes)), 1);
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(rows + (8 + j) * row_bytes)), 2);
            z[j] = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(rows + (12 + j) * row_bytes)), 3);
        }
    }
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    const __m512i u[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2), _mm512_unpacklo_epi64(t1, t3),
                          _mm512_unpackhi_epi64(t1, t3)};
    if (!to_stored) {
        for (int k = 0; k < 4; k++) _mm512_storeu_si512(x16 + 64 * k, u[k]);
        return;
    }
    /* u[j]'s 128-bit lane l is row 4l + j. */
    for (int j = 0; j < 4; j++) {
        _mm_storeu_si128((__m128i *)(rows + (0 + j) * row_bytes), _mm512_extracti32x4_epi32(u[j], 0));
        _mm_storeu_si128((__m128i *)(rows + (4 + j) * row_bytes), _mm512_extracti32x4_epi32(u[j], 1));
        _mm_storeu_si128((__m128i *)(rows + (8 + j) * row_bytes), _mm512_extracti32x4_epi32(u[j], 2));
        _mm_storeu_si128((__m128i *)(rows + (12 + j) * row_bytes), _mm512_extracti32x4_epi32(u[j], 3));
    }
}
#endif

/* Block b of 16 rows in either direction: `first` is the first row's stored block, rows
 * `row_bytes` apart; `in` the interleaved block. With AVX-512 the quants move four groups at a
 * time (every prompt's panels read them back: a few % of Gemma 3's prefill went to moving them
 * one row at a time, and about half of its load time). */
static void move_rows(int base, uint8_t *first, int64_t row_bytes, uint8_t *in, int to_stored) {
    for (int r = 0; r < 16; r++) move_head(base, first + r * row_bytes, in, r, to_stored);
#if RS_X86
    if (rs_cpu_plan_native()->isa >= RS_ISA_AVX512) {
        const int qs = stored_quants(base), qx = x16_quants(base);
        for (int k0 = 0; k0 < quant_groups(base); k0 += 4)
            transpose_quads(in + qx + 64 * k0, first + qs + 4 * k0, row_bytes, to_stored);
        return;
    }
#endif
    const int qs = stored_quants(base), qx = x16_quants(base);
    for (int r = 0; r < 16; r++)
        for (int k = 0; k < quant_groups(base); k++) {
            uint8_t *x = in + qx + 64 * k + 4 * r, *y = first + r * row_bytes + qs + 4 * k;
            memcpy(to_stored ? y : x, to_stored ? x : y, 4);
        }
}

void rs_repack_x16(int type, const void *src, int64_t rows, int64_t cols, void *dst) {
    const int bb = block_bytes(type);
    const int64_t nb = cols / block_values(type), row_bytes = nb * bb;
    for (int64_t g = 0; g < rows / 16; g++)
        for (int64_t b = 0; b < nb; b++)
            move_rows(type, (uint8_t *)src + g * 16 * row_bytes + b * bb, row_bytes, (uint8_t *)dst + (g * nb + b) * 16 * bb, 0);
}

static void unpack_x16(int type, const void *w, int64_t row_bytes, int64_t r0, int64_t n, uint8_t *out) {
    const int base = type & 0xFF, bb = block_bytes(base);
    const int64_t nb = row_bytes / bb;
    for (int64_t g = r0 / 16; g < (r0 + n) / 16; g++)
        for (int64_t b = 0; b < nb; b++)
            move_rows(base, out + (g * 16 - r0) * row_bytes + b * bb, row_bytes, (uint8_t *)w + (g * nb + b) * 16 * bb, 1);
}

void rs_dequantize_row_at(int type, const void *w, int64_t row_bytes, int64_t r, float *dst, int64_t n) {
    if (!(type & RS_TYPE_X16)) {
        rs_dequantize_row(type, (const uint8_t *)w + r * row_bytes, dst, n);
        return;
    }
    const int base = type & 0xFF, bb = block_bytes(base), vb = block_values(base);
    const int64_t nb = n / vb;
    uint8_t blk[210];
    for (int64_t b = 0; b < nb; b++) {
        move_block(base, blk, (uint8_t *)w + ((r / 16) * nb + b) * 16 * bb, (int)(r % 16), 1);
        rs_dequantize_row(base, blk, dst + vb * b, vb);
    }
}

/* Q4_K's 6-bit scale and min of sub-block j (ggml's get_scale_min_k4). */
static void scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* The definition the vector kernels follow operation for operation: per block of 32 values the
 * exact integer sum s = sum w v (v = 256 hi + lo), then acc = fma(s, scale * d_x, acc) and, for
 * the types with an offset (Q4_1's min, Q4_0's -8 d, Q5_0's -16 d, Q4_K's -dmin m),
 * acc = fma(offset, qsum, acc). */
void rs_gemv_x16_scalar(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    const int base = j->type & 0xFF, bb = block_bytes(base), sb = scale_bytes(base), per = block_values(base) / 32;
    const int64_t nb = a->cols / 32;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t g = r / 16;
        const int lane = (int)(r % 16);
        for (int64_t t = 0; t < T; t++) {
            float acc = 0;
            uint8_t blk[210];
            for (int64_t b = 0; b < nb; b++) {
                const int sub = (int)(b % per);
                if (sub == 0) move_block(base, blk, (uint8_t *)j->w + (g * (nb / per) + b / per) * 16 * bb, lane, 1);
                const int64_t i = b * a->T + t;
                if (base == RS_TYPE_Q6_K) {
                    /* Block sub = 4n + s: values 128n + 32s + l; two scales, for l < 16 and l >= 16. */
                    const int n = sub / 4, q = sub % 4;
                    const uint8_t *hl = a->hl + (t * nb + b) * 64;
                    int32_t half[2] = {0, 0};
                    for (int e = 0; e < 32; e++) {
                        const int w = ((blk[64 * n + 32 * (q & 1) + e] >> (4 * (q >> 1))) & 0xF) |
                                      (((blk[128 + 32 * n + e] >> (2 * q)) & 3) << 4);
                        half[e / 16] += w * ((int8_t)hl[e] * 256 + hl[32 + e]);
                    }
                    const float d6 = rs_fp16_to_fp32((uint16_t)(blk[208] | (blk[209] << 8)));
                    const float da = d6 * (float)(int8_t)blk[192 + 8 * n + 2 * q], db = d6 * (float)(int8_t)blk[193 + 8 * n + 2 * q];
                    acc = __builtin_fmaf((float)half[0], da * a->d[i], acc);
                    acc = __builtin_fmaf((float)half[1], db * a->d[i], acc);
                    acc = __builtin_fmaf(da * -32.0f, a->qlo[i], acc);
                    acc = __builtin_fmaf(db * -32.0f, a->qhi[i], acc);
                    continue;
                }
                float dw = rs_fp16_to_fp32((uint16_t)(blk[0] | (blk[1] << 8))), off = 0;
                const uint8_t *hl = a->hl + (t * nb + b) * 64;
                int32_t s = 0;
                for (int e = 0; e < 32; e++) {
                    int w;
                    if (base == RS_TYPE_Q4_K) w = (blk[16 + 32 * (sub / 2) + e] >> (4 * (sub % 2))) & 0xF;
                    else if (base == RS_TYPE_Q8_0) w = (int8_t)blk[2 + e];
                    else w = e < 16 ? blk[sb + e] & 0xF : blk[sb + e - 16] >> 4;
                    if (base == RS_TYPE_Q5_0) w |= (int)((blk[2 + e / 8] >> (e % 8)) & 1) << 4;
                    s += w * ((int8_t)hl[e] * 256 + hl[32 + e]);
                }
                if (base == RS_TYPE_Q4_K) {
                    int sc, m;
                    scale_min_k4(sub, blk + 4, &sc, &m);
                    off = -(rs_fp16_to_fp32((uint16_t)(blk[2] | (blk[3] << 8))) * (float)m);
                    dw = dw * (float)sc;
                } else if (base == RS_TYPE_Q4_1) {
                    off = rs_fp16_to_fp32((uint16_t)(blk[2] | (blk[3] << 8)));
                } else {
                    off = dw * (base == RS_TYPE_Q5_0 ? -16.0f : -8.0f);
                }
                acc = __builtin_fmaf((float)s, dw * a->d[i], acc);
                if (base != RS_TYPE_Q8_0) acc = __builtin_fmaf(off, a->qsum[i], acc);
            }
            float *p = j->y + t * j->ldy + r;
            *p = j->accumulate ? *p + acc : acc;
        }
    }
}

const uint8_t *rs_job_stored_rows(const rs_matmul_job *j, int64_t r0, int64_t n) {
    if (!(j->type & RS_TYPE_X16)) return (const uint8_t *)j->w + r0 * j->row_bytes;
    static _Thread_local uint8_t *buf = NULL;
    static _Thread_local int64_t cap = 0;
    const int64_t bytes = n * j->row_bytes;
    if (bytes > cap) {
        free(buf);
        buf = (uint8_t *)malloc((size_t)bytes);
        cap = buf ? bytes : 0;
        if (!buf) return NULL;
    }
    unpack_x16(j->type, j->w, j->row_bytes, r0, n, buf);
    return buf;
}
