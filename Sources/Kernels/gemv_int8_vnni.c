/* The int8 integer matrix-vector kernels (gemv_int8_body.h) with AVX-512 VNNI: vpdpbusd, one
 * instruction for vpmaddubsw + vpmaddwd. */
#include "internal.h"

#if RS_X86
#define INT_TARGET RS_AVX512_VNNI
#define INT_ENTRY rs_gemv_int8_vnni
#define DOT_U8S8(u, q) _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, q)
#include "gemv_int8_body.h"
#endif
