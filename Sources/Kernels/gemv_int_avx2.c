/* The int16 integer matrix-vector kernels (gemv_int16_body.h) with AVX2: vpmaddwd per half. */
#include "internal.h"

#if RS_X86
#define INT_TARGET RS_AVX2
#define INT_ENTRY rs_gemv_int_avx2
#define PAIR_SUM(lo, q0, hi, q1) _mm256_add_epi32(_mm256_madd_epi16(lo, q0), _mm256_madd_epi16(hi, q1))
#include "gemv_int16_body.h"
#endif
