/*
 * Whether int16 batches take the 512-bit token-pair kernel (gemv_int16_zmm.c) or the ymm one.
 *
 * Both give the same results to the bit, so the choice is one of speed only, and it depends on
 * how the CPU runs 512-bit instructions: Sapphire Rapids at the rate of 256-bit ones (the zmm
 * kernel 1.1-1.6x faster from six tokens on), Zen 4 in two 256-bit passes (the zmm kernel then
 * does about a quarter more vector work per token than the ymm one). CPUID does not say which,
 * so the first batch measures both kernels once, on a small matrix in L2 (about a millisecond),
 * and keeps the faster; tests can force either.
 */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

/* The calling thread's override (tests): -1 none, 0 never, 1 always. */
static _Thread_local int forced = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int measured_pays;

#if RS_X86
/* 512 rows of 1024 Q4_0 values (288 KB) against 8 tokens: a batch's shape, in L2. */
static void measure(void) {
    enum { ROWS = 512, COLS = 1024, T = 8, NB = COLS / 32, BLOCK = 18 };
    uint8_t *w = malloc((size_t)ROWS * NB * BLOCK);
    int16_t *q16 = aligned_alloc(64, (size_t)T * COLS * 2), *q16p = aligned_alloc(64, (size_t)T * COLS * 2);
    float *f = malloc(sizeof(float) * (size_t)(4 * (T * NB + 16)));
    float *y = malloc(sizeof(float) * (size_t)T * ROWS);
    if (!w || !q16 || !q16p || !f || !y) goto done;
    uint32_t r = 12345;
    for (int64_t i = 0; i < (int64_t)ROWS * NB * BLOCK; i++) w[i] = (uint8_t)((r = r * 1664525u + 1013904223u) >> 24);
    for (int64_t b = 0; b < (int64_t)ROWS * NB; b++) { w[b * BLOCK] = 0; w[b * BLOCK + 1] = 0x20; } /* scale 2^-7 */
    for (int64_t i = 0; i < (int64_t)T * COLS; i++) q16[i] = q16p[i] = (int16_t)((r = r * 1664525u + 1013904223u) >> 20);
    for (int64_t i = 0; i < 4 * (T * NB + 16); i++) f[i] = 1.0f / 4096;
    const int64_t nf = T * NB + 16;
    const rs_qacts plain = {q16, NULL, f, f + nf, f + 2 * nf, f + 3 * nf, COLS, T, NULL};
    rs_qacts pairs = plain;
    pairs.q16p = q16p;
    const rs_matmul_job j = {RS_TYPE_Q4_0, w, NB * BLOCK, ROWS, y, ROWS, 0};
    int64_t best_ymm = INT64_MAX, best_zmm = INT64_MAX;
    for (int rep = 0; rep < 5; rep++) {
        int64_t t0 = rs_now_ns();
        rs_gemv_int_vnni(&j, &plain, T, 0, ROWS);
        int64_t t1 = rs_now_ns();
        rs_gemv_int16_zmm(&j, &pairs, T, 0, ROWS);
        int64_t t2 = rs_now_ns();
        if (t1 - t0 < best_ymm) best_ymm = t1 - t0;
        if (t2 - t1 < best_zmm) best_zmm = t2 - t1;
    }
    measured_pays = best_zmm < best_ymm;
done:
    free(w);
    free(q16);
    free(q16p);
    free(f);
    free(y);
}
#else
static void measure(void) { measured_pays = 0; }
#endif

int rs_set_thread_int16_pairs(int mode) {
    const int old = forced;
    forced = mode < 0 ? -1 : mode > 0;
    return old;
}

/* From six tokens on: below that the ymm kernel was as fast or faster (Sapphire Rapids, one
 * thread, L2: 3 tokens 0.84-1.03x, 4-5 tokens 0.82-1.15x, 6 tokens 1.14-1.29x, 16: 1.4-1.6x). */
int rs_int16_pairs(int isa, int64_t T, int levels) {
    if (levels <= 127 || T < 6 || !rs_int_vnni(isa)) return 0;
    if (forced >= 0) return forced;
    pthread_once(&once, measure);
    return measured_pays;
}
