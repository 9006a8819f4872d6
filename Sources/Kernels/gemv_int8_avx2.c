/* The int8 integer matrix-vector kernels (gemv_int8_body.h) with AVX2. */
#include "internal.h"

#if RS_X86
#define INT_TARGET RS_AVX2
#define INT_ENTRY rs_gemv_int8_avx2
#define DOT_U8S8(u, q) _mm256_madd_epi16(_mm256_maddubs_epi16(u, q), _mm256_set1_epi16(1))
#include "gemv_int8_body.h"
#endif
