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
 * Layout of block b of rows 16g ..< 16g + 16 (the same bytes as the 16 stored blocks, at
 * (g * nb + b) * 16 * block_bytes): the 16 scales d (fp16), for Q4_1 the 16 mins m (fp16), then
 * the quants in groups of 64 bytes: group k holds, for row r at bytes 4r ..< 4r + 4, the stored
 * bytes qs[4k ..< 4k + 4] of that row. Q4_0 and Q4_1 have four groups, whose low nibbles are
 * values 4k ..< 4k + 4 and high nibbles values 16 + 4k ..< 16 + 4k + 4, so one 64-byte load
 * gives two vectors of four values per row; Q8_0 has eight, values 4k ..< 4k + 4.
 *
 * Activations are int16 (rs_qacts): v = 256 hi + lo with hi signed and lo in 0 ..< 256, both
 * bytes (rs_qacts.hl). vpdpbusd multiplies unsigned by signed bytes: the nibbles (0-15) with the
 * hi bytes, and the lo bytes with the nibbles; (sum hi << 8) + sum lo is the exact int16 product
 * sum. Q8_0's signed weights meet the hi bytes as w + 128 (unsigned), and the sum starts at
 * -128 sum(hi) (rs_qacts.hisum) to take the 128s back out. Every token's numbers go through the same operations in the same order whatever the
 * number of tokens beside it: a token's result does not depend on its batch.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rs_x16_supported(int type, int64_t rows, int64_t cols) {
    return (type == RS_TYPE_Q4_0 || type == RS_TYPE_Q4_1 || type == RS_TYPE_Q8_0) && rows > 0 && rows % 16 == 0 &&
           cols > 0 && cols % 32 == 0;
}

static _Atomic int repack_on = 1;
void rs_set_x16_repack(int on) { repack_on = on != 0; }
int rs_x16_repack(void) { return repack_on; }

int rs_x16_pays(int type, int64_t rows, int64_t cols) {
    return rs_x16_supported(type, rows, cols) && rs_int_vnni(rs_isa());
}

/* A stored block: `sb` bytes of fp16 scale (and Q4_1's min), then the quants, four bytes to a
 * group; the interleaved block of 16 rows keeps the scales first, then each group of the 16
 * rows together (64 bytes). */
static int block_bytes(int base) { return base == RS_TYPE_Q8_0 ? 34 : base == RS_TYPE_Q4_1 ? 20 : 18; }
static int scale_bytes(int base) { return base == RS_TYPE_Q4_1 ? 4 : 2; }

/* Between row r's stored block (blk) and the interleaved block of its 16 rows (in). */
static inline void move_block(int base, uint8_t *blk, uint8_t *in, int lane, int to_stored) {
    const int bb = block_bytes(base), sb = scale_bytes(base);
    for (int h = 0; h < sb; h += 2) {
        uint8_t *x = in + 16 * h + 2 * lane, *y = blk + h;
        memcpy(to_stored ? y : x, to_stored ? x : y, 2);
    }
    for (int k = 0; k < (bb - sb) / 4; k++) {
        uint8_t *x = in + 16 * sb + 64 * k + 4 * lane, *y = blk + sb + 4 * k;
        memcpy(to_stored ? y : x, to_stored ? x : y, 4);
    }
}

void rs_repack_x16(int type, const void *src, int64_t rows, int64_t cols, void *dst) {
    const int bb = block_bytes(type);
    const int64_t nb = cols / 32, row_bytes = nb * bb;
    for (int64_t g = 0; g < rows / 16; g++)
        for (int64_t b = 0; b < nb; b++)
            for (int r = 0; r < 16; r++)
                move_block(type, (uint8_t *)src + (g * 16 + r) * row_bytes + b * bb,
                           (uint8_t *)dst + (g * nb + b) * 16 * bb, r, 0);
}

void rs_unpack_x16(int type, const void *w, int64_t row_bytes, int64_t r0, int64_t n, uint8_t *out) {
    const int base = type & 0xFF, bb = block_bytes(base);
    const int64_t nb = row_bytes / bb;
    for (int64_t g = r0 / 16; g < (r0 + n) / 16; g++)
        for (int64_t b = 0; b < nb; b++)
            for (int r = 0; r < 16; r++)
                move_block(base, out + (g * 16 + r - r0) * row_bytes + b * bb, (uint8_t *)w + (g * nb + b) * 16 * bb, r, 1);
}

void rs_dequantize_row_at(int type, const void *w, int64_t row_bytes, int64_t r, float *dst, int64_t n) {
    if (!(type & RS_TYPE_X16)) {
        rs_dequantize_row(type, (const uint8_t *)w + r * row_bytes, dst, n);
        return;
    }
    const int base = type & 0xFF, bb = block_bytes(base);
    const int64_t nb = n / 32;
    uint8_t blk[34];
    for (int64_t b = 0; b < nb; b++) {
        move_block(base, blk, (uint8_t *)w + ((r / 16) * nb + b) * 16 * bb, (int)(r % 16), 1);
        rs_dequantize_row(base, blk, dst + 32 * b, 32);
    }
}

/* The definition the vector kernels follow operation for operation: per block the exact
 * integer sum s = sum w v over the block's values (v = 256 hi + lo), then
 * acc = fma(s, d_w * d_x, acc) and, for the types with an offset (Q4_1's min, Q4_0's -8 d),
 * acc = fma(offset, qsum, acc). */
void rs_gemv_x16_scalar(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    const int base = j->type & 0xFF, bb = block_bytes(base), sb = scale_bytes(base);
    const int64_t nb = a->cols / 32;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t g = r / 16;
        const int lane = (int)(r % 16);
        for (int64_t t = 0; t < T; t++) {
            float acc = 0;
            for (int64_t b = 0; b < nb; b++) {
                uint8_t blk[34];
                move_block(base, blk, (uint8_t *)j->w + (g * nb + b) * 16 * bb, lane, 1);
                const float dw = rs_fp16_to_fp32((uint16_t)(blk[0] | (blk[1] << 8)));
                const uint8_t *hl = a->hl + (t * nb + b) * 64;
                int32_t s = 0;
                for (int e = 0; e < 32; e++) {
                    const int w = base == RS_TYPE_Q8_0 ? (int8_t)blk[2 + e]
                                  : e < 16          ? blk[sb + e] & 0xF
                                                    : blk[sb + e - 16] >> 4;
                    s += w * ((int8_t)hl[e] * 256 + hl[32 + e]);
                }
                const int64_t i = b * a->T + t;
                acc = __builtin_fmaf((float)s, dw * a->d[i], acc);
                if (base == RS_TYPE_Q8_0) continue;
                const float off = base == RS_TYPE_Q4_1 ? rs_fp16_to_fp32((uint16_t)(blk[2] | (blk[3] << 8))) : dw * -8.0f;
                acc = __builtin_fmaf(off, a->qsum[i], acc);
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
    rs_unpack_x16(j->type, j->w, j->row_bytes, r0, n, buf);
    return buf;
}
