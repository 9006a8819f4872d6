#ifndef RINGSIDE_KERNELS_INTERNAL_H
#define RINGSIDE_KERNELS_INTERNAL_H

/* Multiply-adds below which a kernel runs on the calling thread: waking the pool costs more. */
#define RS_SERIAL_WORK (1LL << 17)

#include "Kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define RS_X86 1
#define RS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define RS_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define RS_X86 0
#endif

int64_t rs_block_values(int type);
int64_t rs_block_bytes(int type);

/* Per-thread scratch that grows on demand and is kept: the decode loop allocates nothing. */
float *rs_scratch(int64_t floats);
/* A second per-thread buffer for the thread that issues a region and keeps results across it
 * (tasks running on that same thread use rs_scratch). */
float *rs_scratch_outer(int64_t floats);

/* C = A B^T (+ beta C), row-major, single-threaded OpenBLAS (blas.c); only after
 * rs_blas_available() said yes. */
void rs_sgemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float beta, float *c,
                 int ldc);

/* Rows [r0, r1) of y = x W^T for T tokens through the matrix-vector kernels (matmul.c). */
void rs_gemv_rows(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T,
                  int64_t r0, int64_t r1);

/* Activations quantized for the integer matrix-vector kernels: per token and per block of 32
 * values, int16 q[32] with x ~= d * q, and s = the exact fp32 sum of the block (for the
 * per-block offsets of Q4_1 and the K-quants). Token t's blocks start at q + t * cols and
 * d/s + t * (cols / 32). */
typedef struct {
    const int16_t *q;
    const float *d;
    const float *s;
    int64_t cols;
} rs_qacts;

/* Quantizes T rows of x into the calling thread's buffer (valid until its next call) with
 * `levels` = 32767 (int16) or 127 (8-bit levels, kept to measure what 8 bits cost). */
rs_qacts rs_quantize_acts(const float *x, int64_t ldx, int64_t cols, int64_t T, int levels, int isa);

/* Rows [r0, r1) of y = x W^T for T tokens from quantized activations (gemv_int_*.c). */
void rs_gemv_int_scalar(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
#if RS_X86
void rs_gemv_int_avx2(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
#endif

#if RS_X86
RS_AVX2 __m256 rs_exp256(__m256 x);
RS_AVX2 void rs_attend_avx2(const rs_attention_args *a, int t, int g, int begin, int end, float *acc, float *m,
                            float *l);
RS_AVX512 void rs_dequantize_row_avx512(int type, const void *src, float *dst, int64_t n);
RS_AVX2 void rs_dequantize_row_avx2(int type, const void *src, float *dst, int64_t n);
RS_AVX512 __m512 rs_exp512(__m512 x);
#endif

#endif
