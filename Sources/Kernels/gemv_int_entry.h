/*
 * The entry point of an integer matrix-vector kernel family, included at the end of
 * gemv_int16_body.h and gemv_int8_body.h, which define tile(type, j, a, t0, T, r0, r1) for rows
 * [r0, r1) and tokens t0 ..< t0 + T (T <= 8). Tokens go in tiles of eight and one tile of the
 * rest, with the weight type and T compile-time constants in every call, so that each tile's
 * accumulators stay in registers.
 */

#ifndef TILED_DEFINED
#define DEFINE_TILED(TYPE, NAME)                                                                   \
    INT_TARGET static void NAME(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0,  \
                                int64_t r1) {                                                       \
        int64_t t = 0;                                                                              \
        for (; t + 8 <= T; t += 8) tile(TYPE, j, a, t, 8, r0, r1);                                  \
        switch (T - t) {                                                                            \
        case 7: tile(TYPE, j, a, t, 7, r0, r1); break;                                              \
        case 6: tile(TYPE, j, a, t, 6, r0, r1); break;                                              \
        case 5: tile(TYPE, j, a, t, 5, r0, r1); break;                                              \
        case 4: tile(TYPE, j, a, t, 4, r0, r1); break;                                              \
        case 3: tile(TYPE, j, a, t, 3, r0, r1); break;                                              \
        case 2: tile(TYPE, j, a, t, 2, r0, r1); break;                                              \
        case 1: tile(TYPE, j, a, t, 1, r0, r1); break;                                              \
        default: break;                                                                             \
        }                                                                                           \
    }
#endif

DEFINE_TILED(RS_TYPE_Q4_0, tiled_q4_0)
DEFINE_TILED(RS_TYPE_Q4_1, tiled_q4_1)
DEFINE_TILED(RS_TYPE_Q5_0, tiled_q5_0)
DEFINE_TILED(RS_TYPE_Q8_0, tiled_q8_0)
DEFINE_TILED(RS_TYPE_Q4_K, tiled_q4_k)
DEFINE_TILED(RS_TYPE_Q5_K, tiled_q5_k)
DEFINE_TILED(RS_TYPE_Q6_K, tiled_q6_k)

void INT_ENTRY(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1) {
    switch (j->type) {
    case RS_TYPE_Q4_0: tiled_q4_0(j, a, T, r0, r1); return;
    case RS_TYPE_Q4_1: tiled_q4_1(j, a, T, r0, r1); return;
    case RS_TYPE_Q5_0: tiled_q5_0(j, a, T, r0, r1); return;
    case RS_TYPE_Q8_0: tiled_q8_0(j, a, T, r0, r1); return;
    case RS_TYPE_Q4_K: tiled_q4_k(j, a, T, r0, r1); return;
    case RS_TYPE_Q5_K: tiled_q5_k(j, a, T, r0, r1); return;
    case RS_TYPE_Q6_K: tiled_q6_k(j, a, T, r0, r1); return;
    default: rs_gemv_int_scalar(j, a, T, r0, r1); return;
    }
}
