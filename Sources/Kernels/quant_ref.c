/*
 * Plain-loop dequantizers, one per ggml block type, written from the block layouts in
 * ggml-common.h / ggml-quants.c. They are the definition: the SIMD paths must agree with them
 * bit for bit, and the tests pin them to values dumped by ggml's own Python reader.
 */
#include <string.h>

#include "internal.h"

float rs_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F;
    uint32_t man = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalize */
            int e = -1;
            do { e++; man <<= 1; } while ((man & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000 | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static float rdf16(const uint8_t *p) { return rs_fp16_to_fp32(rd16(p)); }

static void deq_q4_0(const uint8_t *b, float *y) {
    const float d = rdf16(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((qs[j] & 0x0F) - 8) * d;
        y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
}

static void deq_q4_1(const uint8_t *b, float *y) {
    const float d = rdf16(b), m = rdf16(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)(qs[j] & 0x0F) * d + m;
        y[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
}

static void deq_q5_0(const uint8_t *b, float *y) {
    const float d = rdf16(b);
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        const uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
        const uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
        const int32_t x0 = ((qs[j] & 0x0F) | xh0) - 16;
        const int32_t x1 = ((qs[j] >> 4) | xh1) - 16;
        y[j] = (float)x0 * d;
        y[j + 16] = (float)x1 * d;
    }
}

static void deq_q5_1(const uint8_t *b, float *y) {
    const float d = rdf16(b), m = rdf16(b + 2);
    uint32_t qh;
    memcpy(&qh, b + 4, 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        const uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
        const uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
        const int32_t x0 = (qs[j] & 0x0F) | xh0;
        const int32_t x1 = (qs[j] >> 4) | xh1;
        y[j] = (float)x0 * d + m;
        y[j + 16] = (float)x1 * d + m;
    }
}

static void deq_q8_0(const uint8_t *b, float *y) {
    const float d = rdf16(b);
    const int8_t *qs = (const int8_t *)(b + 2);
    for (int j = 0; j < 32; j++) y[j] = (float)qs[j] * d;
}

static void deq_q8_1(const uint8_t *b, float *y) {
    const float d = rdf16(b);
    const int8_t *qs = (const int8_t *)(b + 4);
    for (int j = 0; j < 32; j++) y[j] = (float)qs[j] * d;
}

static void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

static void deq_q4_k(const uint8_t *b, float *y) {
    const float d = rdf16(b), dmin = rdf16(b + 2);
    const uint8_t *scales = b + 4;
    const uint8_t *q = b + 16;
    int is = 0;
    for (int j = 0; j < 256; j += 64) {
        uint8_t sc, m;
        get_scale_min_k4(is + 0, scales, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        get_scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

static void deq_q5_k(const uint8_t *b, float *y) {
    const float d = rdf16(b), dmin = rdf16(b + 2);
    const uint8_t *scales = b + 4;
    const uint8_t *qh = b + 16;
    const uint8_t *ql = b + 48;
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 256; j += 64) {
        uint8_t sc, m;
        get_scale_min_k4(is + 0, scales, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        get_scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 <<= 2;
        u2 <<= 2;
    }
}

static void deq_q6_k(const uint8_t *b, float *y) {
    const uint8_t *ql = b;
    const uint8_t *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    const float d = rdf16(b + 208);
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int8_t q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int8_t q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int8_t q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int8_t q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * sc[is + 0] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

static void deq_q8_k(const uint8_t *b, float *y) {
    float d;
    memcpy(&d, b, 4);
    const int8_t *qs = (const int8_t *)(b + 4);
    for (int j = 0; j < 256; j++) y[j] = d * qs[j];
}

int rs_type_supported(int type) { return rs_block_bytes(type) > 0; }

int64_t rs_block_values(int type) {
    switch (type) {
    case RS_TYPE_F32: case RS_TYPE_F16: case RS_TYPE_BF16: return 1;
    case RS_TYPE_Q4_0: case RS_TYPE_Q4_1: case RS_TYPE_Q5_0: case RS_TYPE_Q5_1:
    case RS_TYPE_Q8_0: case RS_TYPE_Q8_1: return 32;
    case RS_TYPE_Q4_K: case RS_TYPE_Q5_K: case RS_TYPE_Q6_K: case RS_TYPE_Q8_K: return 256;
    default: return 0;
    }
}

int64_t rs_block_bytes(int type) {
    switch (type) {
    case RS_TYPE_F32: return 4;
    case RS_TYPE_F16: case RS_TYPE_BF16: return 2;
    case RS_TYPE_Q4_0: return 18;
    case RS_TYPE_Q4_1: return 20;
    case RS_TYPE_Q5_0: return 22;
    case RS_TYPE_Q5_1: return 24;
    case RS_TYPE_Q8_0: return 34;
    case RS_TYPE_Q8_1: return 36;
    case RS_TYPE_Q4_K: return 144;
    case RS_TYPE_Q5_K: return 176;
    case RS_TYPE_Q6_K: return 210;
    case RS_TYPE_Q8_K: return 292;
    default: return 0;
    }
}

void rs_dequantize_row_ref(int type, const void *src, float *dst, int64_t n) {
    const uint8_t *s = (const uint8_t *)src;
    switch (type) {
    case RS_TYPE_F32: memcpy(dst, src, (size_t)n * 4); return;
    case RS_TYPE_F16: for (int64_t i = 0; i < n; i++) dst[i] = rdf16(s + 2 * i); return;
    case RS_TYPE_BF16: for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_fp32(rd16(s + 2 * i)); return;
    default: break;
    }
    void (*blk)(const uint8_t *, float *) = NULL;
    switch (type) {
    case RS_TYPE_Q4_0: blk = deq_q4_0; break;
    case RS_TYPE_Q4_1: blk = deq_q4_1; break;
    case RS_TYPE_Q5_0: blk = deq_q5_0; break;
    case RS_TYPE_Q5_1: blk = deq_q5_1; break;
    case RS_TYPE_Q8_0: blk = deq_q8_0; break;
    case RS_TYPE_Q8_1: blk = deq_q8_1; break;
    case RS_TYPE_Q4_K: blk = deq_q4_k; break;
    case RS_TYPE_Q5_K: blk = deq_q5_k; break;
    case RS_TYPE_Q6_K: blk = deq_q6_k; break;
    case RS_TYPE_Q8_K: blk = deq_q8_k; break;
    default: return;
    }
    const int64_t qk = rs_block_values(type), bb = rs_block_bytes(type);
    for (int64_t i = 0; i < n / qk; i++) blk(s + i * bb, dst + i * qk);
}
