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
 * 256 bytes of nibbles in four groups of 64: group k holds, for row r at bytes 4r ..< 4r + 4, the
 * stored bytes qs[4k ..< 4k + 4] of that row, whose low nibbles are values 4k ..< 4k + 4 and
 * high nibbles values 16 + 4k ..< 16 + 4k + 4. So one 64-byte load gives two vectors of four
 * values per row: the low and the high nibbles.
 *
 * Activations are int16 (rs_qacts): v = 256 hi + lo with hi signed and lo in 0 ..< 256, both
 * bytes (rs_qacts.hl). vpdpbusd multiplies unsigned by signed bytes: the nibbles (0-15) with the
 * hi bytes, and the lo bytes with the nibbles; (sum hi << 8) + sum lo is the exact int16 product
 * sum. Every token's numbers go through the same operations in the same order whatever the
 * number of tokens beside it: a token's result does not depend on its batch.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int rs_x16_supported(int type, int64_t rows, int64_t cols) {
    return (type == RS_TYPE_Q4_0 || type == RS_TYPE_Q4_1) && rows > 0 && rows % 16 == 0 && cols > 0 &&
           cols % 32 == 0;
}

static _Atomic int repack_on = 1;
void rs_set_x16_repack(int on) { repack_on = on != 0; }
int rs_x16_repack(void) { return repack_on; }

int rs_x16_pays(int type, int64_t rows, int64_t cols) {
    return repack_on && rs_x16_supported(type, rows, cols) && rs_int_vnni(rs_isa());
}

/* Bytes of a stored block and where its nibbles start. */
static int block_bytes(int base) { return base == RS_TYPE_Q4_1 ? 20 : 18; }
static int scale_bytes(int base) { return base == RS_TYPE_Q4_1 ? 4 : 2; }

void rs_repack_x16(int type, const void *src, int64_t rows, int64_t cols, void *dst) {
    const int bb = block_bytes(type), sb = scale_bytes(type);
    const int64_t nb = cols / 32, row_bytes = nb * bb;
    for (int64_t g = 0; g < rows / 16; g++)
        for (int64_t b = 0; b < nb; b++) {
            uint8_t *out = (uint8_t *)dst + (g * nb + b) * 16 * bb;
            for (int r = 0; r < 16; r++) {
                const uint8_t *blk = (const uint8_t *)src + (g * 16 + r) * row_bytes + b * bb;
                memcpy(out + 2 * r, blk, 2);
                if (sb == 4) memcpy(out + 32 + 2 * r, blk + 2, 2);
                for (int k = 0; k < 4; k++) memcpy(out + 16 * sb + 64 * k + 4 * r, blk + sb + 4 * k, 4);
            }
        }
}

/* Block b of row r in the stored layout again. */
static void unpack_block(int base, const uint8_t *w, int64_t nb, int64_t r, int64_t b, uint8_t *blk) {
    const int bb = block_bytes(base), sb = scale_bytes(base), lane = (int)(r % 16);
    const uint8_t *in = w + ((r / 16) * nb + b) * 16 * bb;
    memcpy(blk, in + 2 * lane, 2);
    if (sb == 4) memcpy(blk + 2, in + 32 + 2 * lane, 2);
    for (int k = 0; k < 4; k++) memcpy(blk + sb + 4 * k, in + 16 * sb + 64 * k + 4 * lane, 4);
}

void rs_dequantize_row_at(int type, const void *w, int64_t row_bytes, int64_t r, float *dst, int64_t n) {
    if (!(type & RS_TYPE_X16)) {
        rs_dequantize_row(type, (const uint8_t *)w + r * row_bytes, dst, n);
        return;
    }
    const int base = type & 0xFF;
    uint8_t blk[20];
    for (int64_t b = 0; b < n / 32; b++) {
        unpack_block(base, (const uint8_t *)w, n / 32, r, b, blk);
        rs_dequantize_row(base, blk, dst + 32 * b, 32);
    }
}

/* The definition the vector kernels follow operation for operation. */
void rs_gemv_x16_scalar(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    const int base = j->type & 0xFF, bb = block_bytes(base), sb = scale_bytes(base);
    const int64_t nb = a->cols / 32;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t g = r / 16;
        const int lane = (int)(r % 16);
        for (int64_t t = 0; t < T; t++) {
            float acc = 0;
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *in = (const uint8_t *)j->w + (g * nb + b) * 16 * bb;
                const float dw = rs_fp16_to_fp32((uint16_t)(in[2 * lane] | (in[2 * lane + 1] << 8)));
                const float mw = sb == 4 ? rs_fp16_to_fp32((uint16_t)(in[32 + 2 * lane] | (in[33 + 2 * lane] << 8)))
                                         : dw * -8.0f;
                const uint8_t *hl = a->hl + (t * nb + b) * 64;
                int32_t hi = 0, lo = 0;
                for (int k = 0; k < 4; k++)
                    for (int c = 0; c < 4; c++) {
                        const uint8_t q = in[16 * sb + 64 * k + 4 * lane + c];
                        const int e = 4 * k + c;
                        hi += (q & 0xF) * (int8_t)hl[e] + (q >> 4) * (int8_t)hl[e + 16];
                        lo += (q & 0xF) * hl[32 + e] + (q >> 4) * hl[32 + e + 16];
                    }
                const int32_t s = (int32_t)((uint32_t)hi << 8) + lo;
                const int64_t i = b * a->T + t;
                acc = __builtin_fmaf((float)s, dw * a->d[i], acc);
                acc = __builtin_fmaf(mw, a->qsum[i], acc);
            }
            float *p = j->y + t * j->ldy + r;
            *p = j->accumulate ? *p + acc : acc;
        }
    }
}

void rs_unpack_x16(int type, const void *w, int64_t row_bytes, int64_t r0, int64_t n, uint8_t *out) {
    const int base = type & 0xFF, bb = block_bytes(base), sb = scale_bytes(base);
    const int64_t nb = row_bytes / bb;
    for (int64_t g = r0 / 16; g < (r0 + n) / 16; g++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *in = (const uint8_t *)w + (g * nb + b) * 16 * bb;
            for (int r = 0; r < 16; r++) {
                uint8_t *blk = out + (g * 16 + r - r0) * row_bytes + b * bb;
                memcpy(blk, in + 2 * r, 2);
                if (sb == 4) memcpy(blk + 2, in + 32 + 2 * r, 2);
                for (int k = 0; k < 4; k++) memcpy(blk + sb + 4 * k, in + 16 * sb + 64 * k + 4 * r, 4);
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
