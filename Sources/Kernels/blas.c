/*
 * OpenBLAS, opened at run time rather than linked.
 *
 * OpenBLAS picks its kernels in its library constructor, from a table of CPU models; Debian's
 * 0.3.21 does not know recent Xeons and falls back to SSE3 kernels (4x slower sgemm). Its
 * OPENBLAS_CORETYPE variable overrides that, but only if it is set before the library loads,
 * which a linked library does before main. So the engine sets it from the CPU's feature bits
 * (rs_plan_for) and then dlopens the library. A value the user set is left alone.
 */
#define _GNU_SOURCE /* pthread_getname_np */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int);
typedef char *(*corename_fn)(void);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm;
static corename_fn corename;
static char status[256] = "not loaded";
static int core_set_by_us;

static void load(void) {
    const rs_cpu_plan *p = rs_cpu_plan_native();
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (user == NULL && p->blas_core != NULL) {
        setenv("OPENBLAS_CORETYPE", p->blas_core, 0);
        core_set_by_us = 1;
    }
    static const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    void *h = NULL;
    /* OpenBLAS starts its own threads as it loads; they inherit the loading thread's name, so
     * they take one of their own for the time of the load (top -H, perf, gdb). */
    char name[16] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    rs_name_thread("ringside-blas");
    for (size_t i = 0; i < sizeof names / sizeof *names && h == NULL; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    rs_name_thread(name);
    if (h == NULL) {
        snprintf(status, sizeof status, "OpenBLAS not found (%s); prefill uses the matrix-vector kernels",
                 dlerror());
        fprintf(stderr, "ringside: %s. Install it (Debian: apt-get install libopenblas0) for fast prefill.\n",
                status);
        return;
    }
    sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
    set_threads_fn set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    corename = (corename_fn)dlsym(h, "openblas_get_corename");
    if (sgemm == NULL) {
        snprintf(status, sizeof status, "the OpenBLAS library has no cblas_sgemm");
        fprintf(stderr, "ringside: %s; prefill uses the matrix-vector kernels\n", status);
        return;
    }
    /* Our pool owns the cores; OpenBLAS runs inside its threads, one thread each. */
    if (set_threads) set_threads(1);
    const char *core = corename ? corename() : "unknown";
    snprintf(status, sizeof status, "OpenBLAS %s (%s)", core ? core : "unknown",
             core_set_by_us ? "core chosen from CPU features" : user ? "OPENBLAS_CORETYPE set by the user"
                                                                     : "core detected by OpenBLAS");
}

int rs_blas_available(void) {
    pthread_once(&once, load);
    return sgemm != NULL;
}

const char *rs_blas_description(void) {
    pthread_once(&once, load);
    return status;
}

void rs_sgemm_nt(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float beta, float *c,
                 int ldc) {
    /* CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112 (cblas.h). */
    sgemm(101, 111, 112, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}
