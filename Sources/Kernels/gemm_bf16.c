/*
 * Prompts (batches of prompt tokens alone, when asked for) on CPUs with AVX-512 BF16 (Zen 4,
 * Sapphire Rapids): y = x W^T with a panel of W's rows dequantized and rounded to bf16, x rounded to bf16
 * once per product, and vdpbf16ps, which multiplies pairs of bf16 and adds both products into an
 * fp32 lane: 32 multiply-adds per instruction, twice an fp32 FMA's 16. Debian's OpenBLAS 0.3.21
 * has no sbgemm, hence our own micro-kernel.
 *
 * Rounding both operands to bf16 (8 significant bits) moves a product by a few parts in a
 * thousand of its magnitude (SmolLM2's first-token logits by up to 0.09); products accumulate in
 * fp32. That is enough to change a greedy continuation if a prompt's numbers depended on how it
 * was scheduled (a chunk alone or beside decode tokens, a few tokens after a cached prefix), so
 * the rows are chosen per token, not per batch: the forward pass names its prompt rows
 * (rs_set_thread_bf16_rows, matmul.c) and they take bf16 panels in any batch and at any count,
 * while decode, verification and generated tokens (a retracted request's recomputed output)
 * never do. On by default (`--no-bf16-prompts`, rs_set_bf16_prompts(0) turn it off), never
 * with fp32 activations (the path that reproduces an fp32 reference).
 *
 * Layouts: x as bf16 in its own order, so that uint32 p of a token's row is the pair (2p, 2p+1);
 * a panel as groups of 32 rows where pair p of the group is 32 uint32, rows 0-15 then 16-31, one
 * vector each. The micro-kernel keeps a 32-row x 12-token tile of y in 24 registers and per pair
 * loads two weight vectors and broadcasts one uint32 per token.
 */
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

#if RS_X86

#define RS_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma,f16c")))
#define GROUP_ROWS 32
#define TILE_TOKENS 12

typedef struct {
    uint32_t *buf;
    int64_t cap;
} pairs_buffer;

/* The issuing thread's packed activations (kept across the region that reads them) and each
 * thread's packed panel. Grown on demand and kept. */
static _Thread_local pairs_buffer acts_buf, panel_buf;

static uint32_t *grow(pairs_buffer *b, int64_t n) {
    if (n > b->cap) {
        free(b->buf);
        b->buf = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
        b->cap = b->buf ? n : 0;
    }
    return b->buf;
}

/* The process's choice (`--bf16-prompts`), a thread's override of it (-1: none), and whether
 * the calling thread's products take bf16 panels now (set by the forward pass per batch). */
static _Atomic int bf16_prompts = 1;
static _Thread_local int thread_bf16_prompts = -1;
static _Thread_local int thread_bf16_panels = 0;

void rs_set_bf16_prompts(int on) { atomic_store_explicit(&bf16_prompts, on != 0, memory_order_relaxed); }
int rs_set_thread_bf16_prompts(int mode) {
    const int old = thread_bf16_prompts;
    thread_bf16_prompts = mode < 0 ? -1 : mode != 0;
    return old;
}
int rs_bf16_prompts(void) {
    return thread_bf16_prompts >= 0 ? thread_bf16_prompts : atomic_load_explicit(&bf16_prompts, memory_order_relaxed);
}

int rs_set_thread_bf16_panels(int on) {
    const int old = thread_bf16_panels;
    thread_bf16_panels = on != 0;
    return old;
}

static int bf16_isa(int isa) { return isa >= RS_ISA_AVX512 && rs_cpu_features_current()->avx512bf16; }

int rs_bf16_panels_supported(void) { return bf16_isa(rs_isa()); }

int rs_gemm_bf16_available(int isa, int64_t cols) {
    return thread_bf16_panels && bf16_isa(isa) && cols > 0 && cols % 32 == 0;
}

/* n values (a multiple of 32) of src as bf16 in order, into dst (n / 2 pairs). */
RS_AVX512BF16 static void to_bf16(const float *src, uint32_t *dst, int64_t n) {
    for (int64_t k = 0; k < n; k += 32) {
        const __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + k + 16), _mm512_loadu_ps(src + k));
        _mm512_storeu_si512((void *)(dst + k / 2), (__m512i)h);
    }
}

const uint32_t *rs_pack_acts_bf16(const float *x, int64_t ldx, int64_t cols, int64_t T) {
    uint32_t *p = grow(&acts_buf, T * (cols / 2));
    if (!p) return NULL;
    for (int64_t t = 0; t < T; t++) to_bf16(x + t * ldx, p + t * (cols / 2), cols);
    return p;
}

/* y[t, r0 + r] (+)= sum over pairs of group g's rows and NT tokens' pairs. */
RS_AVX512BF16 __attribute__((always_inline)) static inline void tile(const uint32_t *wg, const uint32_t *xp,
                                                                      int64_t np, const int NT, float *y, int64_t ldy,
                                                                      int rows, int accumulate) {
    /* Fully unrolled loops over the tokens keep the 2 x NT accumulators in registers; left to
     * itself the compiler kept them on the stack, at half the speed of sgemm. */
    __m512 a0[TILE_TOKENS], a1[TILE_TOKENS];
#pragma clang loop unroll(full)
    for (int t = 0; t < NT; t++) a0[t] = a1[t] = _mm512_setzero_ps();
    for (int64_t p = 0; p < np; p++) {
        const __m512bh w0 = (__m512bh)_mm512_load_si512((const void *)(wg + p * GROUP_ROWS));
        const __m512bh w1 = (__m512bh)_mm512_load_si512((const void *)(wg + p * GROUP_ROWS + 16));
#pragma clang loop unroll(full)
        for (int t = 0; t < NT; t++) {
            const __m512bh xv = (__m512bh)_mm512_set1_epi32((int)xp[t * np + p]);
            a0[t] = _mm512_dpbf16_ps(a0[t], w0, xv);
            a1[t] = _mm512_dpbf16_ps(a1[t], w1, xv);
        }
    }
    const __mmask16 m0 = rows >= 16 ? 0xFFFF : (__mmask16)((1u << rows) - 1);
    const __mmask16 m1 = rows >= 32 ? 0xFFFF : rows > 16 ? (__mmask16)((1u << (rows - 16)) - 1) : 0;
#pragma clang loop unroll(full)
    for (int t = 0; t < NT; t++) {
        float *yt = y + t * ldy;
        if (accumulate) {
            a0[t] = _mm512_add_ps(a0[t], _mm512_maskz_loadu_ps(m0, yt));
            a1[t] = _mm512_add_ps(a1[t], _mm512_maskz_loadu_ps(m1, yt + 16));
        }
        _mm512_mask_storeu_ps(yt, m0, a0[t]);
        _mm512_mask_storeu_ps(yt + 16, m1, a1[t]);
    }
}

RS_AVX512BF16 static void tiles(const uint32_t *wg, const uint32_t *xp, int64_t np, int64_t nt, float *y, int64_t ldy,
                                int rows, int accumulate) {
    switch (nt) {
    case 12: tile(wg, xp, np, 12, y, ldy, rows, accumulate); return;
    case 11: tile(wg, xp, np, 11, y, ldy, rows, accumulate); return;
    case 10: tile(wg, xp, np, 10, y, ldy, rows, accumulate); return;
    case 9: tile(wg, xp, np, 9, y, ldy, rows, accumulate); return;
    case 8: tile(wg, xp, np, 8, y, ldy, rows, accumulate); return;
    case 7: tile(wg, xp, np, 7, y, ldy, rows, accumulate); return;
    case 6: tile(wg, xp, np, 6, y, ldy, rows, accumulate); return;
    case 5: tile(wg, xp, np, 5, y, ldy, rows, accumulate); return;
    case 4: tile(wg, xp, np, 4, y, ldy, rows, accumulate); return;
    case 3: tile(wg, xp, np, 3, y, ldy, rows, accumulate); return;
    case 2: tile(wg, xp, np, 2, y, ldy, rows, accumulate); return;
    default: tile(wg, xp, np, 1, y, ldy, rows, accumulate); return;
    }
}

RS_AVX512BF16 void rs_gemm_bf16_panel(const rs_matmul_job *j, const uint32_t *xp, int64_t cols, int64_t T, int64_t r0,
                                      int64_t r1) {
    const int64_t n = r1 - r0, np = cols / 2, groups = (n + GROUP_ROWS - 1) / GROUP_ROWS;
    float *rows = rs_scratch(2 * cols);
    uint32_t *panel = grow(&panel_buf, groups * np * GROUP_ROWS);
    if (!rows || !panel) return;
    uint32_t *row16 = (uint32_t *)(rows + cols);
    /* Dequantize a group's rows, round them to bf16 and interleave them pair by pair. */
    for (int64_t g = 0; g < groups; g++) {
        const int64_t gr = n - g * GROUP_ROWS < GROUP_ROWS ? n - g * GROUP_ROWS : GROUP_ROWS;
        uint32_t *wg = panel + g * np * GROUP_ROWS;
        for (int64_t r = 0; r < GROUP_ROWS; r++) {
            if (r < gr) {
                const int64_t row = r0 + g * GROUP_ROWS + r;
                float *f = rows;
                if (j->type == RS_TYPE_F32) f = (float *)((const uint8_t *)j->w + row * j->row_bytes);
                else rs_dequantize_row(j->type, (const uint8_t *)j->w + row * j->row_bytes, rows, cols);
                to_bf16(f, row16, cols);
                for (int64_t p = 0; p < np; p++) wg[p * GROUP_ROWS + r] = row16[p];
            } else {
                for (int64_t p = 0; p < np; p++) wg[p * GROUP_ROWS + r] = 0;
            }
        }
    }
    for (int64_t t0 = 0; t0 < T; t0 += TILE_TOKENS) {
        const int64_t nt = T - t0 < TILE_TOKENS ? T - t0 : TILE_TOKENS;
        for (int64_t g = 0; g < groups; g++) {
            const int rows_here = (int)(n - g * GROUP_ROWS < GROUP_ROWS ? n - g * GROUP_ROWS : GROUP_ROWS);
            tiles(panel + g * np * GROUP_ROWS, xp + t0 * np, np, nt, j->y + t0 * j->ldy + r0 + g * GROUP_ROWS, j->ldy,
                  rows_here, j->accumulate);
        }
    }
}

#else

void rs_set_bf16_prompts(int on) { (void)on; }
int rs_set_thread_bf16_prompts(int mode) {
    (void)mode;
    return -1;
}
int rs_bf16_prompts(void) { return 0; }
int rs_set_thread_bf16_panels(int on) {
    (void)on;
    return 0;
}
int rs_bf16_panels_supported(void) { return 0; }
int rs_gemm_bf16_available(int isa, int64_t cols) {
    (void)isa;
    (void)cols;
    return 0;
}
const uint32_t *rs_pack_acts_bf16(const float *x, int64_t ldx, int64_t cols, int64_t T) {
    (void)x; (void)ldx; (void)cols; (void)T;
    return NULL;
}
void rs_gemm_bf16_panel(const rs_matmul_job *j, const uint32_t *xp, int64_t cols, int64_t T, int64_t r0, int64_t r1) {
    (void)j; (void)xp; (void)cols; (void)T; (void)r0; (void)r1;
}

#endif
