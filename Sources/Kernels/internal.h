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
/* AVX-512 VNNI's dot products on 256-bit vectors (EVEX encoded, hence avx512vl). */
#define RS_AVX512_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
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

/* Rows [r0, r1) of y = x W^T for T tokens: the rows dequantized into a panel, then sgemm
 * (matmul.c; only when rs_blas_available()). */
void rs_gemm_panel(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T, int64_t r0,
                   int64_t r1);

/* Many tokens through bf16 dot products (gemm_bf16.c): taken when the calling thread turned bf16
 * panels on, on AVX-512 BF16 CPUs at `isa` AVX-512, for widths that are a multiple of 32.
 * rs_pack_acts_bf16 rounds T rows of x to bf16 into the calling thread's buffer (valid until its
 * next call; NULL without memory), which rs_gemm_bf16_panel then reads for rows [r0, r1) of
 * y = x W^T on any thread. */
int rs_gemm_bf16_available(int isa, int64_t cols);
const uint32_t *rs_pack_acts_bf16(const float *x, int64_t ldx, int64_t cols, int64_t T);
void rs_gemm_bf16_panel(const rs_matmul_job *j, const uint32_t *xp, int64_t cols, int64_t T, int64_t r0, int64_t r1);

/* Software prefetch distance in bytes of a row, for the matrix-vector kernels. The
 * weights stream from DRAM once per step, and the hardware prefetcher alone left a thread at
 * 12-14 GB/s on the Gemma 3 head (Q8_0, AMD EPYC Zen 3); 2-4 KB ahead gave 15-25 % more, with
 * two threads too (25 GB/s together, the machine's bandwidth). The distance that pays is one of
 * time: one token consumes a row fastest, and on Sapphire Rapids 8 KB beat 2 KB there (the Gemma 3
 * head alone 7.2-8.5 -> 6.4-7.8 ms on two threads, decode of both test models about 5 % faster;
 * 12-16 KB was slower again), while steps of several tokens, which read a row 2-8x slower, kept
 * 2 KB (8 KB looked a few percent slower at 8 tokens). Past the row it fetches the next one,
 * which is read next; prefetches never fault. */
#define PREFETCH_AHEAD 2048
#define PREFETCH_AHEAD_ONE 8192

/* Activations quantized for the integer matrix-vector kernels: per token and per block of 32
 * values, integers q[32] with x ~= d * q, either int16 (q16, levels 32767) or int8 (q8, levels
 * 127), and the block's quantized sums: qsum = d * sum(q) and, for Q6_K's two scales per block,
 * qlo and qhi over values 0-15 and 16-31. The kernels compute W . (d q) exactly as
 * llama.cpp does: a weight's offset (Q4_1's min, the K-quants' mins) and its bias (the -8 of
 * Q4_0, -16 of Q5_0, -32 of Q6_K) multiply the quantized sum, so the error of a product is
 * sum_k w_k e_k, the smallest rounding x to d q allows. (Multiplying offsets by the exact sum
 * instead leaves sum_k (w_k - offset) e_k: with 8-bit levels about twice the error.)
 * Token t's integers start at t * cols; the per-block floats are stored block-major, token t of
 * block b at b * T + t, so that a kernel reads one block's values for up to 8 tokens with one
 * vector load (each array has 16 readable floats past its end). */
typedef struct {
    const int16_t *q16;
    const int8_t *q8;
    const float *d;
    const float *qsum;
    const float *qlo, *qhi; /* d * sum of values 0-15, of values 16-31 */
    int64_t cols, T;
    /* The int16 integers again with tokens in pairs, for the 512-bit kernel (gemv_int16_zmm.c),
     * which multiplies a weight block with two tokens per instruction: for pair p (tokens 2p and
     * 2p + 1) and block b, 64 values at (p * cols / 32 + b) * 64: token 2p's values 0-15, token
     * 2p + 1's values 0-15, then both tokens' values 16-31; an odd T's last partner is zeros.
     * NULL where that kernel does not run (rs_int16_pairs). */
    const int16_t *q16p;
    /* The integers again as two bytes each, v = 256 hi + lo, for the interleaved kernels
     * (x16.c): token t's block b at (t * cols / 32 + b) * 64, the 32 hi bytes (signed) then the
     * 32 lo bytes (0-255), in the order of the block's values. NULL where they do not run. */
    const uint8_t *hl;
    const int32_t *hisum; /* per token and block, (t * cols / 32 + b): the sum of the 32 hi bytes */
} rs_qacts;

/* Rows [r0, r0 + n) of a job's weights in the stored layout: the job's own bytes, or for an
 * interleaved type (RS_TYPE_X16; r0 and n multiples of 16) a copy in the calling thread's buffer,
 * valid until its next call (NULL without memory). */
const uint8_t *rs_job_stored_rows(const rs_matmul_job *j, int64_t r0, int64_t n);

/* CLOCK_MONOTONIC in nanoseconds (pool.c). */
int64_t rs_now_ns(void);

/* 1 when int16 activations of T tokens go to the 512-bit kernel on `isa`, which then needs
 * rs_qacts.q16p: six or more tokens on a CPU with AVX-512 VNNI where that kernel measured
 * faster (zmm_choice.c). */
int rs_int16_pairs(int isa, int64_t T, int levels);

/* Which kernels will read quantized activations, so that only their layouts are written: the
 * stored layout's (q16p, the 512-bit token pairs, where rs_int16_pairs says) and the interleaved
 * ones' (hl and hisum). */
enum { RS_ACTS_FOR_STORED = 1, RS_ACTS_FOR_X16 = 2 };

/* Quantizes T rows of x into the calling thread's buffer (valid until its next call) with
 * `levels` = 32767 (int16, q16) or 127 (int8, q8), for the kernels `readers` names. */
rs_qacts rs_quantize_acts(const float *x, int64_t ldx, int64_t cols, int64_t T, int levels, int isa, int readers);
/* An empty layout in a second buffer of the calling thread (valid until its next call), for a
 * region's tasks to fill block by block with rs_quantize_acts_blocks. */
rs_qacts rs_reserve_next_acts(int64_t cols, int64_t T, int levels, int isa, int readers);
/* Quantizes blocks [b0, b1) of every token of x into a's layout (the levels a was made with). */
void rs_quantize_acts_blocks(const float *x, int64_t ldx, const rs_qacts *a, int64_t b0, int64_t b1, int isa);

/* Rows [r0, r1) of y = x W^T for T tokens from quantized activations (gemv_int_*.c,
 * gemv_int8_*.c); the VNNI kernels only where rs_int_vnni() says so. */
void rs_gemv_int_scalar(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
#if RS_X86
void rs_gemv_int_avx2(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
void rs_gemv_int8_avx2(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
void rs_gemv_int_vnni(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
void rs_gemv_int8_vnni(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
void rs_gemv_int16_zmm(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
#endif
/* Rows [r0, r1) (multiples of 16) of an interleaved type (RS_TYPE_X16) from a->hl. */
void rs_gemv_x16_scalar(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
#if RS_X86
void rs_gemv_x16_avx2(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
void rs_gemv_x16_vnni(const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0, int64_t r1);
#endif
/* 1 when the integer kernels of `isa` are the AVX-512 VNNI ones: isa is AVX-512 and the CPU has
 * AVX-512 VNNI. */
int rs_int_vnni(int isa);

/* Where KV head g's row of `slot` starts in the K or V array `base` (fp32 or half). */
static inline const void *rs_kv_row(const rs_attention_args *a, const void *base, int32_t slot, int g) {
    const int64_t i = (int64_t)slot * a->kv_stride + (int64_t)g * a->head_dim;
    return a->kv_f16 ? (const void *)((const uint16_t *)base + i) : (const void *)((const float *)base + i);
}

#if RS_X86
RS_AVX2 __m256 rs_exp256(__m256 x);
/* The K and V rows of the next block of keys into L2 (attention.c), for both attention kernels. */
void rs_prefetch_kv_block(const rs_attention_args *a, const int32_t *slots, int g, int j0, int end);
RS_AVX2 void rs_attend_avx2(const rs_attention_args *a, int t, int g, int begin, int end, float *acc, float *m,
                            float *l);
RS_AVX512 void rs_dequantize_row_avx512(int type, const void *src, float *dst, int64_t n);
RS_AVX2 void rs_dequantize_row_avx2(int type, const void *src, float *dst, int64_t n);
RS_AVX512 __m512 rs_exp512(__m512 x);
#endif

#endif
