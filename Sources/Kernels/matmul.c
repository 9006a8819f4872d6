/*
 * y = x W^T with W kept in its stored block format.
 *
 * Few tokens (decode): a matrix-vector product that dequantizes each block of W into registers
 * once and multiplies it with up to four activation rows, so the weights stream from memory once
 * per step. Many tokens (prefill): each thread dequantizes a panel of rows into fp32 scratch that
 * stays in L2 and hands it to single-threaded OpenBLAS sgemm. Rows are handed out in chunks from
 * an atomic counter, so a core slowed by a neighbour simply takes fewer chunks.
 */
#include <stdatomic.h>
#include <string.h>

#include "decode_avx512.h"
#include "internal.h"

#define MAX_JOBS 8
#define GEMM_PANEL_ROWS 64
/* Matrix-vector chunks are long runs of rows: the weights stream from DRAM, and the hardware
 * prefetcher only reaches full speed on a long sequential run (16-row chunks handed out
 * alternately ran at half the bandwidth of two contiguous halves). A few chunks per thread
 * still let a thread slowed by a noisy neighbour give work away. */
#define GEMV_CHUNKS_PER_THREAD 2
/* Big products (the LM head) get more chunks, down to runs of this many rows, up to 8 per
 * thread: a worker that started late or lost its core for a moment then leaves a shorter tail. */
#define GEMV_LONG_RUN_ROWS 2048

static int gemv_max_tokens = 8;
/* The integer kernels decode a weight block once per 8 tokens and beat dequantized panels +
 * sgemm up to about 32 tokens (AMD EPYC Zen 3, one thread, SmolLM2's products: at 16 tokens
 * about 67 ms of CPU time against 90, at 32 about 131 against 145); a batch of 16 sequences
 * decodes through them. */
static int int_gemv_max_tokens = 16;
/* Interleaved weights (x16.c) beat dequantized panels + sgemm at every width measured up to 128
 * tokens (AMD EPYC Zen 4, SmolLM2, `microbench --step-widths` with --gemv-max-tokens 16 and 256:
 * 24 tokens 2.2x, 64 tokens 1.5x, 128 tokens 1.2-1.3x): wide verifications and batches of
 * drafts stay on them. Prompt rows take bf16 panels at any count where the CPU has AVX-512 BF16. */
static int x16_gemv_max_tokens = 128;

int rs_matmul_gemv_max_tokens(void) { return gemv_max_tokens; }
void rs_matmul_set_gemv_max_tokens(int n) { gemv_max_tokens = n < 1 ? 1 : n; }
int rs_matmul_int_gemv_max_tokens(void) { return int_gemv_max_tokens; }
void rs_matmul_set_int_gemv_max_tokens(int n) { int_gemv_max_tokens = n < 1 ? 1 : n; }
int rs_matmul_x16_gemv_max_tokens(void) { return x16_gemv_max_tokens; }
void rs_matmul_set_x16_gemv_max_tokens(int n) { x16_gemv_max_tokens = n < 1 ? 1 : n; }

/* Which integer kernels these jobs would run (RS_ACTS_FOR_*; 0: none). */
static int int_readers(const rs_matmul_job *jobs, int njobs, int64_t cols) {
    int r = 0;
    for (int i = 0; i < njobs; i++)
        if (rs_int_supported(jobs[i].type, cols)) r |= jobs[i].type & RS_TYPE_X16 ? RS_ACTS_FOR_X16 : RS_ACTS_FOR_STORED;
    return r;
}

/* The widest product the integer matrix-vector kernels take for jobs with these readers: the
 * interleaved kernels' limit when they are the only ones. */
static int64_t int_gemv_limit(int readers) {
    return readers == RS_ACTS_FOR_X16 ? x16_gemv_max_tokens : int_gemv_max_tokens;
}

typedef struct {
    const rs_matmul_job *jobs;
    int njobs;
    const float *x;
    int64_t ldx, cols, n_tokens;
    int64_t chunk_rows;
    int64_t chunk_end[MAX_JOBS]; /* cumulative chunk counts per job */
    int gemv;                    /* matrix-vector kernels, not panels + sgemm */
    int int_acts;                /* the matrix-vector path reads qa for the types it supports */
    int isa;
    rs_qacts qa;
    const uint32_t *xb;          /* the panel path's activations as bf16 pairs, or NULL: sgemm */
    _Atomic int64_t next;
} matmul_ctx;

static inline void store(const rs_matmul_job *j, int64_t t, int64_t r, float v) {
    float *p = j->y + t * j->ldy + r;
    *p = j->accumulate ? *p + v : v;
}

/* ---- matrix-vector: generic (any type, via a dequantized row) --------------------------- */

static void gemv_rows_generic(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols,
                              int64_t T, int64_t r0, int64_t r1) {
    float *row = rs_scratch(cols);
    for (int64_t r = r0; r < r1; r++) {
        rs_dequantize_row(j->type, (const uint8_t *)j->w + r * j->row_bytes, row, cols);
        for (int64_t t = 0; t < T; t++) {
            const float *xt = x + t * ldx;
            float s = 0;
            for (int64_t k = 0; k < cols; k++) s += row[k] * xt[k];
            store(j, t, r, s);
        }
    }
}

#if RS_X86

/* T is a compile-time constant at every call site, so the accumulators live in registers.
 * Two blocks per iteration into four accumulators per token: one accumulator would chain every
 * FMA on the previous one and cap the loop at one block per 8 cycles (FMA latency 4). */
#define DEFINE_GEMV_FUSED(TYPE, NAME)                                                             \
    RS_AVX512 __attribute__((always_inline)) static inline void NAME##_tile(                      \
        const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, const int T, int64_t r0, \
        int64_t r1) {                                                                             \
        const int64_t nb = cols / 32, block_bytes = j->row_bytes / nb;                            \
        const int64_t ahead = T == 1 ? PREFETCH_AHEAD_ONE : PREFETCH_AHEAD;                       \
        for (int64_t r = r0; r < r1; r++) {                                                       \
            const uint8_t *row = (const uint8_t *)j->w + r * j->row_bytes;                        \
            __m512 a0[4], a1[4], a2[4], a3[4];                                                    \
            for (int t = 0; t < T; t++)                                                           \
                a0[t] = a1[t] = a2[t] = a3[t] = _mm512_setzero_ps();                              \
            int64_t b = 0;                                                                        \
            for (; b + 1 < nb; b += 2) {                                                          \
                __m512 w0, w1, w2, w3;                                                            \
                _mm_prefetch((const char *)row + b * block_bytes + ahead, _MM_HINT_T0);           \
                if (block_bytes >= 64)                                                            \
                    _mm_prefetch((const char *)row + (b + 1) * block_bytes + ahead, _MM_HINT_T0); \
                DECODE_BLOCK(TYPE, row, b, w0, w1);                                               \
                DECODE_BLOCK(TYPE, row, b + 1, w2, w3);                                           \
                for (int t = 0; t < T; t++) {                                                     \
                    const float *xt = x + t * ldx + b * 32;                                       \
                    a0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xt), a0[t]);                      \
                    a1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xt + 16), a1[t]);                 \
                    a2[t] = _mm512_fmadd_ps(w2, _mm512_loadu_ps(xt + 32), a2[t]);                 \
                    a3[t] = _mm512_fmadd_ps(w3, _mm512_loadu_ps(xt + 48), a3[t]);                 \
                }                                                                                 \
            }                                                                                     \
            if (b < nb) {                                                                         \
                __m512 w0, w1;                                                                    \
                DECODE_BLOCK(TYPE, row, b, w0, w1);                                               \
                for (int t = 0; t < T; t++) {                                                     \
                    const float *xt = x + t * ldx + b * 32;                                       \
                    a0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xt), a0[t]);                      \
                    a1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xt + 16), a1[t]);                 \
                }                                                                                 \
            }                                                                                     \
            for (int t = 0; t < T; t++)                                                           \
                store(j, t, r,                                                                    \
                      _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0[t], a1[t]),            \
                                                         _mm512_add_ps(a2[t], a3[t]))));         \
        }                                                                                         \
    }                                                                                             \
    RS_AVX512 static void NAME(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, \
                               int64_t T, int64_t r0, int64_t r1) {                               \
        int64_t t = 0;                                                                            \
        for (; t + 4 <= T; t += 4) {                                                              \
            rs_matmul_job shifted = *j;                                                           \
            shifted.y = j->y + t * j->ldy;                                                        \
            NAME##_tile(&shifted, x + t * ldx, ldx, cols, 4, r0, r1);                             \
        }                                                                                         \
        rs_matmul_job shifted = *j;                                                               \
        shifted.y = j->y + t * j->ldy;                                                            \
        switch (T - t) {                                                                          \
        case 3: NAME##_tile(&shifted, x + t * ldx, ldx, cols, 3, r0, r1); break;                  \
        case 2: NAME##_tile(&shifted, x + t * ldx, ldx, cols, 2, r0, r1); break;                  \
        case 1: NAME##_tile(&shifted, x + t * ldx, ldx, cols, 1, r0, r1); break;                  \
        default: break;                                                                           \
        }                                                                                         \
    }

DEFINE_GEMV_FUSED(RS_TYPE_Q4_1, gemv_q4_1)
DEFINE_GEMV_FUSED(RS_TYPE_Q4_0, gemv_q4_0)
DEFINE_GEMV_FUSED(RS_TYPE_Q5_0, gemv_q5_0)
DEFINE_GEMV_FUSED(RS_TYPE_Q4_K, gemv_q4_k)
DEFINE_GEMV_FUSED(RS_TYPE_Q5_K, gemv_q5_k)
DEFINE_GEMV_FUSED(RS_TYPE_Q6_K, gemv_q6_k)
DEFINE_GEMV_FUSED(RS_TYPE_Q8_0, gemv_q8_0)
DEFINE_GEMV_FUSED(RS_TYPE_F16, gemv_f16)
DEFINE_GEMV_FUSED(RS_TYPE_BF16, gemv_bf16)
DEFINE_GEMV_FUSED(RS_TYPE_F32, gemv_f32)

/* Other types: dequantize the row into L1 scratch, then the same register-blocked dot. */
RS_AVX512 static void gemv_rows_dequant(const rs_matmul_job *j, const float *x, int64_t ldx,
                                        int64_t cols, int64_t T, int64_t r0, int64_t r1) {
    float *row = rs_scratch(cols);
    rs_matmul_job f32 = *j;
    f32.type = RS_TYPE_F32;
    f32.w = row;
    f32.row_bytes = 0;
    for (int64_t r = r0; r < r1; r++) {
        rs_dequantize_row_avx512(j->type, (const uint8_t *)j->w + r * j->row_bytes, row, cols);
        f32.y = j->y + r;
        gemv_f32(&f32, x, ldx, cols, T, 0, 1);
    }
}

/* One token against BF16 or F16 rows: each 8 weights widened in registers and multiplied at
 * once. Round trips through an L1 buffer cost more uops than the product here (a MoE expert's
 * decode step: bf16 rows, one token). */
RS_AVX2 static void gemv_half_t1_avx2(const rs_matmul_job *j, const float *x, int64_t cols, int64_t r0, int64_t r1) {
    const int bf = j->type == RS_TYPE_BF16;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *src = (const uint8_t *)j->w + r * j->row_bytes;
#define RS_HALF8(k) (bf ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + 2 * (k)))), 16)) \
                        : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + 2 * (k)))))
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int64_t i = 0;
        for (; i + 32 <= cols; i += 32) {
            a0 = _mm256_fmadd_ps(RS_HALF8(i), _mm256_loadu_ps(x + i), a0);
            a1 = _mm256_fmadd_ps(RS_HALF8(i + 8), _mm256_loadu_ps(x + i + 8), a1);
            a2 = _mm256_fmadd_ps(RS_HALF8(i + 16), _mm256_loadu_ps(x + i + 16), a2);
            a3 = _mm256_fmadd_ps(RS_HALF8(i + 24), _mm256_loadu_ps(x + i + 24), a3);
        }
        for (; i + 8 <= cols; i += 8) a0 = _mm256_fmadd_ps(RS_HALF8(i), _mm256_loadu_ps(x + i), a0);
#undef RS_HALF8
        const __m256 s8 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        h = _mm_add_ss(h, _mm_movehdup_ps(h));
        float s = _mm_cvtss_f32(h);
        for (; i < cols; i++) {
            float w;
            if (bf) {
                const uint32_t bits = (uint32_t)(src[2 * i] | (src[2 * i + 1] << 8)) << 16;
                memcpy(&w, &bits, 4);
            } else {
                w = rs_fp16_to_fp32((uint16_t)(src[2 * i] | (src[2 * i + 1] << 8)));
            }
            s += w * x[i];
        }
        store(j, 0, r, s);
    }
}

/* fp32 activations without AVX-512: each row converted (F16, BF16) or dequantized into L1, then
 * an 8-lane dot per token with four accumulators. */
RS_AVX2 static void gemv_rows_avx2(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T,
                                   int64_t r0, int64_t r1) {
    if (T == 1 && (j->type == RS_TYPE_BF16 || j->type == RS_TYPE_F16)) {
        gemv_half_t1_avx2(j, x, cols, r0, r1);
        return;
    }
    float *buf = rs_scratch(cols);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *src = (const uint8_t *)j->w + r * j->row_bytes;
        const float *w = buf;
        int64_t k = 0;
        if (j->type == RS_TYPE_F32) {
            w = (const float *)src;
        } else if (j->type == RS_TYPE_F16) {
            for (; k + 8 <= cols; k += 8)
                _mm256_storeu_ps(buf + k, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + 2 * k))));
            for (; k < cols; k++) buf[k] = rs_fp16_to_fp32((uint16_t)(src[2 * k] | (src[2 * k + 1] << 8)));
        } else if (j->type == RS_TYPE_BF16) {
            for (; k + 8 <= cols; k += 8)
                _mm256_storeu_ps(buf + k, _mm256_castsi256_ps(_mm256_slli_epi32(
                                              _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + 2 * k))), 16)));
            for (; k < cols; k++) {
                const uint32_t bits = (uint32_t)(src[2 * k] | (src[2 * k + 1] << 8)) << 16;
                memcpy(buf + k, &bits, 4);
            }
        } else {
            rs_dequantize_row_avx2(j->type, src, buf, cols);
        }
        for (int64_t t = 0; t < T; t++) {
            const float *xt = x + t * ldx;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            int64_t i = 0;
            for (; i + 32 <= cols; i += 32) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(xt + i), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(xt + i + 8), a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(xt + i + 16), a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(xt + i + 24), a3);
            }
            for (; i + 8 <= cols; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(xt + i), a0);
            const __m256 s8 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
            h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            h = _mm_add_ss(h, _mm_movehdup_ps(h));
            float s = _mm_cvtss_f32(h);
            for (; i < cols; i++) s += w[i] * xt[i];
            store(j, t, r, s);
        }
    }
}

#endif /* RS_X86 */

static void gemv_rows_isa(int isa, const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T,
                          int64_t r0, int64_t r1) {
#if RS_X86
    if (isa >= RS_ISA_AVX512 && cols % 32 == 0) {
        switch (j->type) {
        case RS_TYPE_Q4_1: gemv_q4_1(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_Q4_0: gemv_q4_0(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_Q5_0: gemv_q5_0(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_Q4_K: gemv_q4_k(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_Q5_K: gemv_q5_k(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_Q6_K: gemv_q6_k(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_Q8_0: gemv_q8_0(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_F16: gemv_f16(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_BF16: gemv_bf16(j, x, ldx, cols, T, r0, r1); return;
        case RS_TYPE_F32: gemv_f32(j, x, ldx, cols, T, r0, r1); return;
        default: gemv_rows_dequant(j, x, ldx, cols, T, r0, r1); return;
        }
    }
    if (isa >= RS_ISA_AVX2) {
        gemv_rows_avx2(j, x, ldx, cols, T, r0, r1);
        return;
    }
#endif
    (void)isa;
    gemv_rows_generic(j, x, ldx, cols, T, r0, r1);
}

void rs_gemv_rows(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T,
                  int64_t r0, int64_t r1) {
    gemv_rows_isa(rs_isa(), j, x, ldx, cols, T, r0, r1);
}

/* ---- matrix-matrix: dequantized panels + sgemm ------------------------------------------ */

void rs_gemm_panel(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T, int64_t r0,
                   int64_t r1) {
    const int64_t n = r1 - r0;
    const float *panel;
    if (j->type == RS_TYPE_F32) {
        panel = (const float *)((const uint8_t *)j->w + r0 * j->row_bytes);
    } else {
        float *buf = rs_scratch(n * cols);
        for (int64_t r = 0; r < n; r++)
            rs_dequantize_row(j->type, (const uint8_t *)j->w + (r0 + r) * j->row_bytes, buf + r * cols, cols);
        panel = buf;
    }
    const int64_t ldw = j->type == RS_TYPE_F32 ? j->row_bytes / 4 : cols;
    rs_sgemm_nt((int)T, (int)n, (int)cols, x, (int)ldx, panel, (int)ldw, j->accumulate ? 1.0f : 0.0f, j->y + r0,
                (int)j->ldy);
}

/* ---- matrix-vector: integer activations ------------------------------------------------- */

int rs_int_supported(int type, int64_t cols) {
    if (type & RS_TYPE_X16) return rs_x16_supported(type & 0xFF, 16, cols);
    switch (type) {
    case RS_TYPE_Q4_0: case RS_TYPE_Q4_1: case RS_TYPE_Q5_0: case RS_TYPE_Q8_0:
        return cols > 0 && cols % 32 == 0;
    case RS_TYPE_Q4_K: case RS_TYPE_Q5_K: case RS_TYPE_Q6_K:
        return cols > 0 && cols % 256 == 0;
    default:
        return 0;
    }
}

int rs_int_vnni(int isa) { return isa >= RS_ISA_AVX512 && rs_cpu_features_current()->avx512vnni; }

static void gemv_int_rows(int isa, const rs_matmul_job *j, const rs_qacts *a, int64_t T, int64_t r0,
                          int64_t r1) {
#if RS_X86
    if (j->type & RS_TYPE_X16) {
        if (rs_int_vnni(isa)) rs_gemv_x16_vnni(j, a, T, r0, r1);
        else if (isa >= RS_ISA_AVX2) rs_gemv_x16_avx2(j, a, T, r0, r1);
        else rs_gemv_x16_scalar(j, a, T, r0, r1);
        return;
    }
    if (rs_int_vnni(isa)) {
        if (a->q8) rs_gemv_int8_vnni(j, a, T, r0, r1);
        else if (a->q16p) rs_gemv_int16_zmm(j, a, T, r0, r1);
        else rs_gemv_int_vnni(j, a, T, r0, r1);
        return;
    }
    if (isa >= RS_ISA_AVX2) {
        if (a->q8) rs_gemv_int8_avx2(j, a, T, r0, r1);
        else rs_gemv_int_avx2(j, a, T, r0, r1);
        return;
    }
#endif
    (void)isa;
    if (j->type & RS_TYPE_X16) rs_gemv_x16_scalar(j, a, T, r0, r1);
    else rs_gemv_int_scalar(j, a, T, r0, r1);
}

int rs_gemv_int_path(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T,
                     int isa, int levels) {
    if (!rs_int_supported(j->type, cols) || isa < 0 || isa > rs_cpu_plan_native()->isa || T <= 0) return -1;
    if (levels != 127 && levels != 32767) return -1;
    const rs_qacts a = rs_quantize_acts(x, ldx, cols, T, levels, isa, int_readers(j, 1, cols));
    if (!a.d) return -1;
    gemv_int_rows(isa, j, &a, T, 0, j->rows);
    return 0;
}

const char *rs_gemv_kernel_name(int type, int acts) {
    const int isa = rs_isa();
    if (acts != RS_ACTS_FP32 && rs_int_supported(type, 256)) {
        /* [interleaved][int8][path] */
        static const char *names[2][2][3] = {
            {{"int16-scalar", "int16-avx2", "int16-avx512vnni"}, {"int8-scalar", "int8-avx2", "int8-avx512vnni"}},
            {{"int16-x16-scalar", "int16-x16-avx2", "int16-x16-avx512vnni"},
             {"int8-x16-scalar", "int8-x16-avx2", "int8-x16-avx512vnni"}}};
        const int k = rs_int_vnni(isa) ? 2 : isa >= RS_ISA_AVX2 ? 1 : 0;
        return names[(type & RS_TYPE_X16) != 0][acts == RS_ACTS_INT8][k];
    }
    return isa >= RS_ISA_AVX512 ? "fp32-avx512" : isa >= RS_ISA_AVX2 ? "fp32-avx2" : "fp32-scalar";
}

const char *rs_gemv_batch_kernel_name(int type, int acts) {
    if (acts == RS_ACTS_INT16 && !(type & RS_TYPE_X16) && rs_int_supported(type, 256) && rs_int16_pairs(rs_isa(), 16, 32767))
        return "int16-avx512vnni-zmm";
    return rs_gemv_kernel_name(type, acts);
}

/* Rows [r0, r1) of one job, by the path the product takes. Interleaved weights (RS_TYPE_X16) go
 * to the other paths as a copy of their rows in the stored layout (fp32 activations, prompts). */
static void product_rows(const matmul_ctx *c, const rs_matmul_job *j, int64_t r0, int64_t r1) {
    if (c->gemv && c->int_acts && rs_int_supported(j->type, c->cols)) {
        gemv_int_rows(c->isa, j, &c->qa, c->n_tokens, r0, r1);
        return;
    }
    if (j->type & RS_TYPE_X16) {
        rs_matmul_job s = *j;
        s.type = j->type & 0xFF;
        s.w = rs_job_stored_rows(j, r0, r1 - r0);
        s.rows = r1 - r0;
        s.y = j->y + r0;
        if (s.w) product_rows(c, &s, 0, r1 - r0); /* else out of memory */
        return;
    }
    if (c->gemv)
        rs_gemv_rows(j, c->x, c->ldx, c->cols, c->n_tokens, r0, r1);
    else if (c->xb)
        rs_gemm_bf16_panel(j, c->xb, c->cols, c->n_tokens, r0, r1);
    else
        rs_gemm_panel(j, c->x, c->ldx, c->cols, c->n_tokens, r0, r1);
}

static void matmul_task(void *p, int ith, int nth) {
    (void)ith;
    (void)nth;
    matmul_ctx *c = (matmul_ctx *)p;
    const int64_t total = c->chunk_end[c->njobs - 1];
    for (;;) {
        const int64_t k = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
        if (k >= total) break;
        int jn = 0;
        while (k >= c->chunk_end[jn]) jn++;
        const int64_t first = jn == 0 ? 0 : c->chunk_end[jn - 1];
        const rs_matmul_job *j = &c->jobs[jn];
        const int64_t r0 = (k - first) * c->chunk_rows;
        const int64_t r1 = r0 + c->chunk_rows < j->rows ? r0 + c->chunk_rows : j->rows;
        product_rows(c, j, r0, r1);
    }
}

void rs_matmul(const rs_matmul_job *jobs, int njobs, const float *x, int64_t ldx, int64_t cols,
               int64_t n_tokens) {
    rs_matmul_ex(jobs, njobs, x, ldx, cols, n_tokens, rs_thread_activations());
}

/* ---- prompt rows in bf16 ------------------------------------------------------------------ */

/* The calling thread's batch plan (rs_set_thread_bf16_rows): products over exactly `plan_rows`
 * rows split at the ranges, which take bf16 panels whatever their size, and the rest the path
 * their own size picks. So a prompt token is computed the same way in any batch, and a decode
 * token never in bf16. `force_panels` holds for a range's products. */
#define MAX_PLAN_RANGES 16
static _Thread_local int64_t plan_bounds[2 * MAX_PLAN_RANGES];
static _Thread_local int plan_ranges = 0, plan_busy = 0, force_panels = 0;
static _Thread_local int64_t plan_rows = 0;

int rs_set_thread_bf16_rows(const int64_t *bounds, int nranges, int64_t rows) {
    if (nranges < 0) nranges = 0;
    if (nranges > MAX_PLAN_RANGES) nranges = MAX_PLAN_RANGES;
    for (int i = 0; i < 2 * nranges; i++) plan_bounds[i] = bounds[i];
    plan_ranges = nranges;
    plan_rows = rows;
    return nranges;
}

static int plan_applies(int64_t n_tokens, int njobs) {
    return plan_ranges > 0 && !plan_busy && n_tokens == plan_rows && njobs <= MAX_JOBS;
}

/* One product (glu: gate, up, down and the activation) to split by the plan. */
typedef struct {
    const rs_matmul_job *jobs;
    int njobs;
    int glu;
    const float *x;
    int64_t ldx, cols;
    int mode; /* matmul: activations; glu: the activation function */
} split_ctx;

static void matmul_pre(const rs_matmul_job *jobs, int njobs, const float *x, int64_t ldx, int64_t cols,
                       int64_t n_tokens, int acts, const rs_qacts *pre);

static void run_part(const split_ctx *s, int64_t a, int64_t b, int bf16) {
    if (b <= a) return;
    rs_matmul_job j[MAX_JOBS];
    for (int i = 0; i < s->njobs; i++) {
        j[i] = s->jobs[i];
        j[i].y += a * j[i].ldy;
    }
    const int was = rs_set_thread_bf16_panels(bf16);
    force_panels = bf16;
    if (s->glu) rs_glu_ffn(&j[0], &j[1], s->mode, &j[2], s->x + a * s->ldx, s->ldx, s->cols, b - a);
    else matmul_pre(j, s->njobs, s->x + a * s->ldx, s->ldx, s->cols, b - a, s->mode, NULL);
    force_panels = 0;
    rs_set_thread_bf16_panels(was);
}

static void run_split(const split_ctx *s, int64_t n) {
    plan_busy = 1;
    int64_t at = 0;
    for (int r = 0; r < plan_ranges; r++) {
        const int64_t a = plan_bounds[2 * r], b = plan_bounds[2 * r + 1];
        run_part(s, at, a, 0);
        run_part(s, a, b, 1);
        at = b;
    }
    run_part(s, at, n, 0);
    plan_busy = 0;
}

/* Everything but the chunking: the path, and the activations quantized once on the issuing
 * thread (every task reads the same blocks), unless `pre` brings them already quantized. */
static void matmul_setup(matmul_ctx *c, const rs_matmul_job *jobs, int njobs, const float *x, int64_t ldx,
                         int64_t cols, int64_t n_tokens, int acts, const rs_qacts *pre) {
    c->jobs = jobs;
    c->njobs = njobs;
    c->x = x;
    c->ldx = ldx;
    c->cols = cols;
    c->n_tokens = n_tokens;
    c->isa = rs_isa();
    c->int_acts = 0;
    /* Without OpenBLAS every product is a matrix-vector one: slower prefill, same results. */
    const int readers = acts != RS_ACTS_FP32 ? int_readers(jobs, njobs, cols) : 0;
    /* bf16 panels where the calling thread turned them on (a batch's prompt rows, run_part),
     * never with fp32 activations (they reproduce an fp32 reference). */
    const int bf16 = acts != RS_ACTS_FP32 && rs_gemm_bf16_available(c->isa, cols);
    c->xb = NULL;
    c->gemv = (!(bf16 && force_panels) && n_tokens <= (readers ? int_gemv_limit(readers) : gemv_max_tokens)) ||
              (!rs_blas_available() && !bf16);
    if (!c->gemv && bf16) c->xb = rs_pack_acts_bf16(x, ldx, cols, n_tokens);
    if (!c->gemv && !c->xb && !rs_blas_available()) c->gemv = 1; /* no memory for the pairs, no BLAS */
    if (c->gemv && readers) {
        c->int_acts = 1;
        c->qa = pre ? *pre : rs_quantize_acts(x, ldx, cols, n_tokens, acts == RS_ACTS_INT8 ? 127 : 32767, c->isa, readers);
        if (!c->qa.d) c->int_acts = 0; /* no memory for the integers: fp32 it is */
    }
    atomic_init(&c->next, 0);
}

/* rs_matmul_ex, with the activations already quantized when `pre` is not NULL (the levels of
 * `acts`; used only if the product takes the integer matrix-vector path). */
static void matmul_pre(const rs_matmul_job *jobs, int njobs, const float *x, int64_t ldx, int64_t cols,
                       int64_t n_tokens, int acts, const rs_qacts *pre) {
    if (njobs <= 0 || n_tokens <= 0) return;
    if (njobs > MAX_JOBS) {
        matmul_pre(jobs, MAX_JOBS, x, ldx, cols, n_tokens, acts, pre);
        matmul_pre(jobs + MAX_JOBS, njobs - MAX_JOBS, x, ldx, cols, n_tokens, acts, pre);
        return;
    }
    matmul_ctx c;
    matmul_setup(&c, jobs, njobs, x, ldx, cols, n_tokens, acts, pre);
    int64_t total_rows = 0;
    for (int i = 0; i < njobs; i++) total_rows += jobs[i].rows;
    if (c.gemv) {
        const int64_t nth = rs_pool_size();
        int64_t chunks = total_rows / GEMV_LONG_RUN_ROWS;
        if (chunks < nth * GEMV_CHUNKS_PER_THREAD) chunks = nth * GEMV_CHUNKS_PER_THREAD;
        if (chunks > nth * 8) chunks = nth * 8;
        c.chunk_rows = ((total_rows + chunks - 1) / chunks + 15) / 16 * 16;
    } else {
        c.chunk_rows = GEMM_PANEL_ROWS;
    }
    int64_t acc = 0;
    for (int i = 0; i < njobs; i++) {
        acc += (jobs[i].rows + c.chunk_rows - 1) / c.chunk_rows;
        c.chunk_end[i] = acc;
    }
    /* A product this small costs less than waking the pool (tiny models, small experts). */
    if (total_rows * cols * n_tokens < RS_SERIAL_WORK) rs_run_serial(matmul_task, &c);
    else rs_parallel(matmul_task, &c);
}

void rs_matmul_ex(const rs_matmul_job *jobs, int njobs, const float *x, int64_t ldx, int64_t cols,
                  int64_t n_tokens, int acts) {
    if (plan_applies(n_tokens, njobs)) {
        split_ctx s = {jobs, njobs, 0, x, ldx, cols, acts};
        run_split(&s, n_tokens);
        return;
    }
    matmul_pre(jobs, njobs, x, ldx, cols, n_tokens, acts, NULL);
}

/* ---- gated feed-forward ------------------------------------------------------------------ */

typedef struct {
    matmul_ctx m; /* jobs[0] gate, jobs[1] up: the same rows, chunked alike */
    int act;
    rs_qacts next; /* act(gate) * up quantized for the down product; next.d NULL: not wanted */
} glu_ctx;

static void glu_task(void *p, int ith, int nth) {
    (void)ith;
    (void)nth;
    glu_ctx *c = (glu_ctx *)p;
    matmul_ctx *m = &c->m;
    const rs_matmul_job *g = &m->jobs[0], *u = &m->jobs[1];
    const int64_t chunks = (g->rows + m->chunk_rows - 1) / m->chunk_rows;
    for (;;) {
        const int64_t k = atomic_fetch_add_explicit(&m->next, 1, memory_order_relaxed);
        if (k >= chunks) break;
        const int64_t r0 = k * m->chunk_rows;
        const int64_t r1 = r0 + m->chunk_rows < g->rows ? r0 + m->chunk_rows : g->rows;
        product_rows(m, g, r0, r1);
        product_rows(m, u, r0, r1);
        for (int64_t t = 0; t < m->n_tokens; t++) {
            float *gt = g->y + t * g->ldy + r0;
            const float *ut = u->y + t * u->ldy + r0;
            if (c->act == RS_GLU_GELU_TANH) rs_gelu_tanh_mul(gt, ut, gt, r1 - r0);
            else rs_silu_mul(gt, ut, gt, r1 - r0);
        }
        /* Chunks are whole blocks of 32 columns of the down product's input. */
        if (c->next.d) rs_quantize_acts_blocks(g->y, g->ldy, &c->next, r0 / 32, (r1 + 31) / 32, m->isa);
    }
}

void rs_glu_ffn(const rs_matmul_job *gate, const rs_matmul_job *up, int act, const rs_matmul_job *down,
                const float *x, int64_t ldx, int64_t cols, int64_t n_tokens) {
    if (n_tokens <= 0) return;
    const int acts = rs_thread_activations();
    if (plan_applies(n_tokens, 3)) {
        const rs_matmul_job gud[3] = {*gate, *up, *down};
        split_ctx s = {gud, 3, 1, x, ldx, cols, act};
        run_split(&s, n_tokens);
        return;
    }
    const int64_t f = gate->rows;
    if (up->rows != f || gate->accumulate || up->accumulate || f % 32 != 0 || f * n_tokens * cols < RS_SERIAL_WORK) {
        /* The plain sequence: both products, the activation over all of it, the down product. */
        const rs_matmul_job gu[2] = {*gate, *up};
        rs_matmul_ex(gu, 2, x, ldx, cols, n_tokens, acts);
        for (int64_t t = 0; t < n_tokens; t++) {
            float *gt = gate->y + t * gate->ldy;
            const float *ut = up->y + t * up->ldy;
            if (act == RS_GLU_GELU_TANH) rs_gelu_tanh_mul(gt, ut, gt, f);
            else rs_silu_mul(gt, ut, gt, f);
        }
        rs_matmul_ex(down, 1, gate->y, gate->ldy, f, n_tokens, acts);
        return;
    }
    const rs_matmul_job gu[2] = {*gate, *up};
    glu_ctx c;
    matmul_setup(&c.m, gu, 2, x, ldx, cols, n_tokens, acts, NULL);
    c.act = act;
    c.next.d = NULL;
    /* The down product takes the integer matrix-vector path: quantize its input here, chunk by
     * chunk, instead of on the issuing thread between the two regions. */
    const int down_readers = acts != RS_ACTS_FP32 ? int_readers(down, 1, f) : 0;
    const int down_int = down_readers && n_tokens <= int_gemv_limit(down_readers) &&
                         !(c.m.xb && force_panels);
    if (down_int) c.next = rs_reserve_next_acts(f, n_tokens, acts == RS_ACTS_INT8 ? 127 : 32767, c.m.isa, down_readers);
    if (c.m.gemv) {
        const int64_t chunks = (int64_t)rs_pool_size() * GEMV_CHUNKS_PER_THREAD;
        c.m.chunk_rows = ((f + chunks - 1) / chunks + 31) / 32 * 32;
    } else {
        c.m.chunk_rows = GEMM_PANEL_ROWS;
    }
    rs_parallel(glu_task, &c);
    matmul_pre(down, 1, gate->y, gate->ldy, f, n_tokens, acts, c.next.d ? &c.next : NULL);
}
