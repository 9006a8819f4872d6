/*
 * The integer matrix-vector product in plain C: the readable definition the SIMD kernels
 * follow, and the path of CPUs without AVX2.
 *
 * Every supported type is, per block of 32 values, small integers w[k] with
 *     value[k] = scale0 * w[k] + offset   (k < 16)      value[k] = scale1 * w[k] + offset  (k >= 16)
 * so a block's contribution is scale0 * dx * sum(w q)[0,16) + scale1 * dx * sum(w q)[16,32)
 * + offset * dx * sum(q), with the integer sums exact: W . (dx q). Only Q6_K has two scales per
 * 32 values. Activations are int16 or int8 (rs_qacts).
 */
#include <string.h>

#include "internal.h"

static float f16(const uint8_t *p) { return rs_fp16_to_fp32((uint16_t)(p[0] | (p[1] << 8))); }

static void k4_scale_min(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

/* Block b of a row as integers and scales; same layouts as quant_ref.c. */
static void block_ints(int type, const uint8_t *row, int64_t b, int8_t w[32], float *s0, float *s1,
                       float *off) {
    *off = 0;
    switch (type) {
    case RS_TYPE_Q4_0: {
        const uint8_t *bp = row + b * 18;
        for (int k = 0; k < 16; k++) {
            w[k] = (int8_t)((bp[2 + k] & 0xF) - 8);
            w[k + 16] = (int8_t)((bp[2 + k] >> 4) - 8);
        }
        *s0 = *s1 = f16(bp);
        return;
    }
    case RS_TYPE_Q4_1: {
        const uint8_t *bp = row + b * 20;
        for (int k = 0; k < 16; k++) {
            w[k] = (int8_t)(bp[4 + k] & 0xF);
            w[k + 16] = (int8_t)(bp[4 + k] >> 4);
        }
        *s0 = *s1 = f16(bp);
        *off = f16(bp + 2);
        return;
    }
    case RS_TYPE_Q5_0: {
        const uint8_t *bp = row + b * 22;
        uint32_t qh;
        memcpy(&qh, bp + 2, 4);
        for (int k = 0; k < 16; k++) {
            w[k] = (int8_t)(((bp[6 + k] & 0xF) | (((qh >> k) & 1) << 4)) - 16);
            w[k + 16] = (int8_t)(((bp[6 + k] >> 4) | (((qh >> (k + 16)) & 1) << 4)) - 16);
        }
        *s0 = *s1 = f16(bp);
        return;
    }
    case RS_TYPE_Q8_0: {
        const uint8_t *bp = row + b * 34;
        memcpy(w, bp + 2, 32);
        *s0 = *s1 = f16(bp);
        return;
    }
    case RS_TYPE_Q4_K:
    case RS_TYPE_Q5_K: {
        const int five = type == RS_TYPE_Q5_K;
        const uint8_t *bp = row + (b >> 3) * (five ? 176 : 144);
        const int j = (int)(b & 7);
        int sc, m;
        k4_scale_min(j, bp + 4, &sc, &m);
        const uint8_t *q = bp + (five ? 48 : 16) + 32 * (j >> 1);
        for (int k = 0; k < 32; k++) {
            int v = (j & 1) ? q[k] >> 4 : q[k] & 0xF;
            if (five) v |= ((bp[16 + k] >> j) & 1) << 4;
            w[k] = (int8_t)v;
        }
        *s0 = *s1 = f16(bp) * (float)sc;
        *off = -(f16(bp + 2) * (float)m);
        return;
    }
    case RS_TYPE_Q6_K: {
        const uint8_t *bp = row + (b >> 3) * 210;
        const int n = (int)((b & 7) >> 2), k4 = (int)(b & 3);
        const uint8_t *ql = bp + 64 * n + 32 * (k4 & 1), *qh = bp + 128 + 32 * n;
        const int8_t *sc = (const int8_t *)(bp + 192) + 8 * n + 2 * k4;
        for (int k = 0; k < 32; k++) {
            const int lo = k4 >= 2 ? ql[k] >> 4 : ql[k] & 0xF;
            w[k] = (int8_t)((lo | (((qh[k] >> (2 * k4)) & 3) << 4)) - 32);
        }
        const float d = f16(bp + 208);
        *s0 = d * (float)sc[0];
        *s1 = d * (float)sc[1];
        return;
    }
    default:
        memset(w, 0, 32);
        *s0 = *s1 = 0;
    }
}

void rs_gemv_int_scalar(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    const int64_t nb = a->cols / 32;
    int8_t w[32];
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = (const uint8_t *)j->w + r * j->row_bytes;
        float acc[8] = {0};
        for (int64_t t0 = 0; t0 < T; t0 += 8) {
            const int64_t tn = T - t0 < 8 ? T - t0 : 8;
            memset(acc, 0, sizeof acc);
            for (int64_t b = 0; b < nb; b++) {
                float s0, s1, off;
                block_ints(j->type, row, b, w, &s0, &s1, &off);
                for (int64_t t = 0; t < tn; t++) {
                    const int64_t at = (t0 + t) * a->cols + b * 32;
                    int32_t lo = 0, hi = 0;
                    if (a->q16) {
                        for (int k = 0; k < 16; k++) lo += (int32_t)w[k] * a->q16[at + k];
                        for (int k = 16; k < 32; k++) hi += (int32_t)w[k] * a->q16[at + k];
                    } else {
                        for (int k = 0; k < 16; k++) lo += (int32_t)w[k] * a->q8[at + k];
                        for (int k = 16; k < 32; k++) hi += (int32_t)w[k] * a->q8[at + k];
                    }
                    const float dx = a->d[b * a->T + t0 + t];
                    acc[t] += (float)lo * (s0 * dx) + (float)hi * (s1 * dx) + off * a->qsum[b * a->T + t0 + t];
                }
            }
            for (int64_t t = 0; t < tn; t++) {
                float *p = j->y + (t0 + t) * j->ldy + r;
                *p = j->accumulate ? *p + acc[t] : acc[t];
            }
        }
    }
}
