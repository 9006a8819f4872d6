/* The int16 integer matrix-vector kernels (gemv_int16_body.h) with AVX-512 VNNI: vpdpwssd adds
 * the second half's products to the first's in one instruction. Exactly the AVX2 kernels'
 * integers; on Zen 4 steps of 4-16 tokens (speculative verification, batches) 7 % faster, one
 * token no faster (the FMA chains bound it). */
#include "internal.h"

#if RS_X86
#define INT_TARGET RS_AVX512_VNNI
#define INT_ENTRY rs_gemv_int_vnni
#define PAIR_SUM(lo, q0, hi, q1) _mm256_dpwssd_epi32(_mm256_madd_epi16(lo, q0), hi, q1)
#include "gemv_int16_body.h"
#endif
