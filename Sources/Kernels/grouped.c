/*
 * Grouped matrix products for Mixture-of-Experts layers: every expert multiplies its own block of
 * activation rows by its own weights, and all experts run in one parallel region (the CPU
 * counterpart of a grouped GEMM such as megablox GMM).
 *
 * An expert sees few rows per step: 256 tokens routed top-8 over 256 experts is 8 rows each.
 * That is too few for sgemm, whose packing and dequantized copy of the weights cost more than
 * the product, and too many for a matrix-vector pass per row, which would stream the weights
 * once per row. The tile below keeps 4 weight rows x 4 activation rows of accumulators in
 * registers: each block of weights is decoded once for 4 activation rows, and each activation
 * vector is loaded once for 4 weight rows, so the loop is bound by the multiply-adds.
 *
 * Below AVX-512 the tile is not built; each expert's rows go through the kernels a dense product
 * of that many tokens takes (the integer or fp32 matrix-vector kernels, or dequantized panels and
 * sgemm for a large group), still with all of a step's experts in one parallel region: at a
 * decode step's 8 experts of 3 small matrices each, a region per matrix costs more in wake-ups
 * and serial tails than the products themselves.
 */
#include <stdatomic.h>

#include "decode_avx512.h"
#include "internal.h"

#define MAX_JOBS 4
/* Weight rows per work item: 256 bf16 rows of 2048 are a 1 MB sequential run. With many experts
 * active there are items enough to balance the threads; with few (decode), 64-row items measured
 * no faster. */
#define CHUNK_ROWS 256
/* Activation rows kept hot in L2 while a chunk of weights is swept over them. */
#define M_BLOCK 32
/* One or two rows stream the weights from memory at full speed through the matrix-vector
 * kernel, whose single sequential pass over each row the prefetcher follows best; the 4-row
 * tile reads four rows at once and measured 20 % slower there. */
#define GEMV_MAX_ROWS 2

typedef struct {
    const rs_grouped_job *jobs;
    int njobs;
    const int32_t *experts;
    const int64_t *first, *count;
    int64_t ngroups;
    const float *x;
    int64_t ldx, cols;
    int isa;
    int int_acts; /* below AVX-512: qa holds every row of x quantized, for the integer kernels */
    rs_qacts qa;
    int64_t chunk_end[MAX_JOBS]; /* cumulative chunks per group over the jobs */
    _Atomic int64_t next;
} grouped_ctx;

int rs_grouped_supported(int type, int64_t cols) {
#if RS_X86
    if (rs_isa() < RS_ISA_AVX2 || cols % 32 != 0) return 0;
    switch (type) {
    case RS_TYPE_BF16: case RS_TYPE_F16: case RS_TYPE_F32:
    case RS_TYPE_Q8_0: case RS_TYPE_Q5_0: case RS_TYPE_Q4_0: case RS_TYPE_Q4_1: return 1;
    case RS_TYPE_Q4_K: case RS_TYPE_Q5_K: case RS_TYPE_Q6_K: return cols % 256 == 0;
    default: return 0;
    }
#else
    (void)type;
    (void)cols;
    return 0;
#endif
}

#if RS_X86

/* Four horizontal sums at once: lane i of the result is the sum of v[i]. */
RS_AVX512 static inline __m128 sum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m256 a8 = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
    const __m256 b8 = _mm256_add_ps(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
    const __m256 c8 = _mm256_add_ps(_mm512_castps512_ps256(c), _mm512_extractf32x8_ps(c, 1));
    const __m256 d8 = _mm256_add_ps(_mm512_castps512_ps256(d), _mm512_extractf32x8_ps(d, 1));
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a8, b8), _mm256_hadd_ps(c8, d8));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

/* bf16 weights are decoded in pairs: one 32-bit lane holds weights k (low half) and k+1 (high
 * half), so a shift and a mask give the even and the odd weights of a block as fp32 without the
 * widening shuffle that the in-order decode needs. The activations are packed to match
 * (pack_pairs): per block of 32, the 16 even values and then the 16 odd ones. */
#define DECODE_GROUPED(TYPE, row, b, w0, w1)                                                      \
    do {                                                                                          \
        if ((TYPE) == RS_TYPE_BF16) {                                                             \
            const __m512i raw = _mm512_loadu_si512((const void *)((row) + (b) * 64));            \
            w0 = _mm512_castsi512_ps(_mm512_slli_epi32(raw, 16));                                 \
            w1 = _mm512_castsi512_ps(_mm512_and_si512(raw, _mm512_set1_epi32((int)0xFFFF0000u))); \
        } else {                                                                                  \
            DECODE_BLOCK(TYPE, row, b, w0, w1);                                                   \
        }                                                                                         \
    } while (0)

/* rows x cols activations into the even/odd order of DECODE_GROUPED, cols apart. */
RS_AVX512 static void pack_pairs(const float *x, int64_t ldx, int64_t rows, int64_t cols, float *dst) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t k = 0; k < cols; k += 32) {
            const __m512 lo = _mm512_loadu_ps(x + r * ldx + k), hi = _mm512_loadu_ps(x + r * ldx + k + 16);
            _mm512_storeu_ps(dst + r * cols + k, _mm512_permutex2var_ps(lo, even, hi));
            _mm512_storeu_ps(dst + r * cols + k + 16, _mm512_permutex2var_ps(lo, odd, hi));
        }
    }
}

/* y[m][n0 + a] for A weight rows (from w, row_bytes apart) times B activation rows. A and B are
 * compile-time constants at every call site, so the accumulators stay in registers. */
#define DEFINE_GROUPED_TILE(TYPE, NAME)                                                           \
    RS_AVX512 __attribute__((always_inline)) static inline void NAME(                             \
        const uint8_t *w, int64_t row_bytes, const float *x, int64_t ldx, int64_t nb, const int A, \
        const int B, float *y, int64_t ldy, int accumulate, const uint8_t *next) {                \
        __m512 s[4][4];                                                                           \
        for (int a = 0; a < 4; a++)                                                               \
            for (int m = 0; m < B; m++) s[a][m] = _mm512_setzero_ps();                            \
        const int64_t block_bytes = row_bytes / nb;                                               \
        for (int64_t b = 0; b < nb; b++) {                                                        \
            __m512 x0[4], x1[4];                                                                  \
            if (next)                                                                             \
                for (int a = 0; a < 4; a++)                                                       \
                    _mm_prefetch((const char *)(next + a * row_bytes + b * block_bytes), _MM_HINT_T1); \
            for (int m = 0; m < B; m++) {                                                         \
                x0[m] = _mm512_loadu_ps(x + m * ldx + b * 32);                                    \
                x1[m] = _mm512_loadu_ps(x + m * ldx + b * 32 + 16);                               \
            }                                                                                     \
            for (int a = 0; a < A; a++) {                                                         \
                __m512 w0, w1;                                                                    \
                DECODE_GROUPED(TYPE, w + a * row_bytes, b, w0, w1);                               \
                for (int m = 0; m < B; m++)                                                       \
                    s[a][m] = _mm512_fmadd_ps(w1, x1[m], _mm512_fmadd_ps(w0, x0[m], s[a][m]));    \
            }                                                                                     \
        }                                                                                         \
        const __mmask8 keep = (__mmask8)((1u << A) - 1);                                          \
        for (int m = 0; m < B; m++) {                                                             \
            __m128 v = sum4(s[0][m], s[1][m], s[2][m], s[3][m]);                                  \
            float *out = y + m * ldy;                                                             \
            if (accumulate) v = _mm_add_ps(v, _mm_maskz_loadu_ps(keep, out));                     \
            _mm_mask_storeu_ps(out, keep, v);                                                     \
        }                                                                                         \
    }

/* Weight rows [r0, r1) of one expert against its M activation rows. */
#define DEFINE_GROUPED_RANGE(TYPE, NAME)                                                          \
    DEFINE_GROUPED_TILE(TYPE, NAME##_tile)                                                        \
    RS_AVX512 static void NAME(const rs_grouped_job *j, const uint8_t *w, const float *x_in,     \
                               int64_t ldx_in, int64_t cols, int64_t M, float *y_in, int64_t r0,  \
                               int64_t r1) {                                                      \
        const int64_t nb = cols / 32, rb = j->row_bytes;                                          \
        const int acc = j->accumulate;                                                            \
        for (int64_t mb0 = 0; mb0 < M; mb0 += M_BLOCK) {                                          \
            const int64_t rows = mb0 + M_BLOCK < M ? M_BLOCK : M - mb0;                           \
            const float *x = x_in + mb0 * ldx_in;                                                 \
            int64_t ldx = ldx_in;                                                                 \
            if ((TYPE) == RS_TYPE_BF16) {                                                         \
                float *packed = rs_scratch(rows * cols);                                          \
                pack_pairs(x, ldx, rows, cols, packed);                                           \
                x = packed;                                                                       \
                ldx = cols;                                                                       \
            }                                                                                     \
            float *y = y_in + mb0 * j->ldy;                                                       \
            const int64_t mb = 0, me = rows;                                                      \
            for (int64_t n = r0; n < r1;) {                                                       \
                const int A = r1 - n >= 4 ? 4 : 1;                                                \
                const uint8_t *wn = w + n * rb;                                                   \
                /* The next 4 weight rows stream into L2 while the first activation tile of    \
                 * these runs: four rows read at once defeat the hardware prefetcher. */          \
                const uint8_t *pf = n + 2 * A <= r1 ? wn + A * rb : NULL;                         \
                int64_t m = mb;                                                                   \
                if (A == 4) {                                                                     \
                    for (; m + 4 <= me; m += 4)                                                   \
                        NAME##_tile(wn, rb, x + m * ldx, ldx, nb, 4, 4, y + m * j->ldy + n, j->ldy, acc, m == mb ? pf : NULL); \
                    switch (me - m) {                                                             \
                    case 3: NAME##_tile(wn, rb, x + m * ldx, ldx, nb, 4, 3, y + m * j->ldy + n, j->ldy, acc, m == mb ? pf : NULL); break; \
                    case 2: NAME##_tile(wn, rb, x + m * ldx, ldx, nb, 4, 2, y + m * j->ldy + n, j->ldy, acc, m == mb ? pf : NULL); break; \
                    case 1: NAME##_tile(wn, rb, x + m * ldx, ldx, nb, 4, 1, y + m * j->ldy + n, j->ldy, acc, m == mb ? pf : NULL); break; \
                    default: break;                                                               \
                    }                                                                             \
                } else {                                                                          \
                    for (; m + 4 <= me; m += 4)                                                   \
                        NAME##_tile(wn, rb, x + m * ldx, ldx, nb, 1, 4, y + m * j->ldy + n, j->ldy, acc, NULL); \
                    for (; m < me; m++)                                                           \
                        NAME##_tile(wn, rb, x + m * ldx, ldx, nb, 1, 1, y + m * j->ldy + n, j->ldy, acc, NULL); \
                }                                                                                 \
                n += A;                                                                           \
            }                                                                                     \
        }                                                                                         \
    }

DEFINE_GROUPED_RANGE(RS_TYPE_BF16, grouped_bf16)
DEFINE_GROUPED_RANGE(RS_TYPE_F16, grouped_f16)
DEFINE_GROUPED_RANGE(RS_TYPE_F32, grouped_f32)
DEFINE_GROUPED_RANGE(RS_TYPE_Q8_0, grouped_q8_0)
DEFINE_GROUPED_RANGE(RS_TYPE_Q5_0, grouped_q5_0)
DEFINE_GROUPED_RANGE(RS_TYPE_Q4_K, grouped_q4_k)
DEFINE_GROUPED_RANGE(RS_TYPE_Q5_K, grouped_q5_k)
DEFINE_GROUPED_RANGE(RS_TYPE_Q6_K, grouped_q6_k)
DEFINE_GROUPED_RANGE(RS_TYPE_Q4_0, grouped_q4_0)
DEFINE_GROUPED_RANGE(RS_TYPE_Q4_1, grouped_q4_1)

/* Weight rows [r0, r1) of one expert against its M rows of x (from row f), below AVX-512. */
static void rows_below_avx512(const grouped_ctx *c, const rs_grouped_job *j, const uint8_t *w, int64_t f,
                              int64_t M, int64_t r0, int64_t r1) {
    const rs_matmul_job mj = {j->type, w, j->row_bytes, j->rows, j->y + f * j->ldy, j->ldy, j->accumulate};
    const float *x = c->x + f * c->ldx;
    const int integer = c->int_acts && rs_int_supported(j->type, c->cols);
    if (integer && M <= rs_matmul_int_gemv_max_tokens()) {
        /* Rows f ..< f + M of the quantized rows: the per-block floats stay strided by qa.T. */
        rs_qacts v = c->qa;
        if (v.q16) v.q16 += f * c->cols;
        if (v.q8) v.q8 += f * c->cols;
        v.q16p = NULL; /* pairs start at even rows only */
        v.d += f;
        v.qsum += f;
        v.qlo += f;
        v.qhi += f;
        if (v.q8) rs_gemv_int8_avx2(&mj, &v, M, r0, r1);
        else rs_gemv_int_avx2(&mj, &v, M, r0, r1);
    } else if (M > (integer ? rs_matmul_int_gemv_max_tokens() : rs_matmul_gemv_max_tokens()) && rs_blas_available()) {
        rs_gemm_panel(&mj, x, c->ldx, c->cols, M, r0, r1);
    } else {
        rs_gemv_rows(&mj, x, c->ldx, c->cols, M, r0, r1);
    }
}

static void grouped_task(void *p, int ith, int nth) {
    (void)ith;
    (void)nth;
    grouped_ctx *c = (grouped_ctx *)p;
    const int64_t per_group = c->chunk_end[c->njobs - 1];
    const int64_t total = per_group * c->ngroups;
    for (;;) {
        const int64_t k = atomic_fetch_add_explicit(&c->next, 1, memory_order_relaxed);
        if (k >= total) break;
        const int64_t g = k / per_group, i = k % per_group;
        int jn = 0;
        while (i >= c->chunk_end[jn]) jn++;
        const rs_grouped_job *j = &c->jobs[jn];
        const int64_t r0 = (i - (jn == 0 ? 0 : c->chunk_end[jn - 1])) * CHUNK_ROWS;
        const int64_t r1 = r0 + CHUNK_ROWS < j->rows ? r0 + CHUNK_ROWS : j->rows;
        const int64_t f = c->first[g], M = c->count[g];
        const uint8_t *w = (const uint8_t *)j->w[c->experts[g]];
        const float *x = c->x + f * c->ldx;
        float *y = j->y + f * j->ldy;
        if (c->isa < RS_ISA_AVX512) {
            rows_below_avx512(c, j, w, f, M, r0, r1);
            continue;
        }
        if (M <= GEMV_MAX_ROWS) {
            const rs_matmul_job mj = {j->type, w, j->row_bytes, j->rows, y, j->ldy, j->accumulate};
            rs_gemv_rows(&mj, x, c->ldx, c->cols, M, r0, r1);
            continue;
        }
        switch (j->type) {
        case RS_TYPE_BF16: grouped_bf16(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_F16: grouped_f16(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_F32: grouped_f32(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_Q8_0: grouped_q8_0(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_Q5_0: grouped_q5_0(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_Q4_K: grouped_q4_k(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_Q5_K: grouped_q5_k(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_Q6_K: grouped_q6_k(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_Q4_0: grouped_q4_0(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        case RS_TYPE_Q4_1: grouped_q4_1(j, w, x, c->ldx, c->cols, M, y, r0, r1); break;
        default: break;
        }
    }
}

#endif /* RS_X86 */

void rs_grouped_matmul(const rs_grouped_job *jobs, int njobs, const int32_t *experts,
                       const int64_t *first, const int64_t *count, int64_t ngroups, const float *x,
                       int64_t ldx, int64_t cols) {
#if RS_X86
    if (njobs <= 0 || ngroups <= 0) return;
    if (njobs > MAX_JOBS) {
        rs_grouped_matmul(jobs, MAX_JOBS, experts, first, count, ngroups, x, ldx, cols);
        rs_grouped_matmul(jobs + MAX_JOBS, njobs - MAX_JOBS, experts, first, count, ngroups, x, ldx, cols);
        return;
    }
    grouped_ctx c;
    c.jobs = jobs;
    c.njobs = njobs;
    c.experts = experts;
    c.first = first;
    c.count = count;
    c.ngroups = ngroups;
    c.x = x;
    c.ldx = ldx;
    c.cols = cols;
    c.isa = rs_isa();
    c.int_acts = 0;
    /* Quantized once on the issuing thread, as a dense product does: every chunk reads them. */
    const int acts = rs_thread_activations();
    if (c.isa == RS_ISA_AVX2 && acts != RS_ACTS_FP32) {
        int int_types = 0;
        for (int i = 0; i < njobs; i++) int_types |= rs_int_supported(jobs[i].type, cols);
        int64_t end = 0;
        for (int64_t g = 0; g < ngroups; g++)
            if (first[g] + count[g] > end) end = first[g] + count[g];
        if (int_types) {
            c.qa = rs_quantize_acts(x, ldx, cols, end, acts == RS_ACTS_INT8 ? 127 : 32767, c.isa, RS_ACTS_FOR_STORED);
            c.int_acts = c.qa.d != NULL;
        }
    }
    int64_t chunks = 0, rows = 0, work = 0;
    for (int i = 0; i < njobs; i++) {
        chunks += (jobs[i].rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        c.chunk_end[i] = chunks;
        rows += jobs[i].rows;
    }
    for (int64_t g = 0; g < ngroups; g++) work += count[g] * rows * cols;
    atomic_init(&c.next, 0);
    if (work < RS_SERIAL_WORK) rs_run_serial(grouped_task, &c);
    else rs_parallel(grouped_task, &c);
#else
    (void)jobs; (void)njobs; (void)experts; (void)first; (void)count; (void)ngroups; (void)x;
    (void)ldx; (void)cols;
#endif
}
