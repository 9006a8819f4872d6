/*
 * Which kernels to run, decided from the CPU's own feature bits (CPUID, and XCR0 for the
 * register state the OS actually saves), never from its model name: the project's machines
 * include CPUs whose name is a generic "Intel(R) Xeon(R) Processor", and OpenBLAS 0.3.21 falls
 * back to SSE3 kernels on them. `rs_plan_for` is a pure function of the features so that tests
 * can hand it any CPU.
 */
#include <stdatomic.h>
#include <string.h>

#include "internal.h"

#if RS_X86
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

rs_cpu_features rs_cpu_detect(void) {
    rs_cpu_features f;
    memset(&f, 0, sizeof f);
#if RS_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
    const unsigned max_leaf = a;
    memcpy(f.vendor + 0, &b, 4);
    memcpy(f.vendor + 4, &d, 4);
    memcpy(f.vendor + 8, &c, 4);
    __get_cpuid(1, &a, &b, &c, &d);
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    f.fma = (c >> 12) & 1;
    f.f16c = (c >> 29) & 1;
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    /* XMM+YMM state saved by the OS; for AVX-512 also opmask, ZMM0-15 upper halves, ZMM16-31. */
    f.os_avx = avx && (xcr0 & 0x6) == 0x6;
    f.os_avx512 = f.os_avx && (xcr0 & 0xE0) == 0xE0;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = (b >> 5) & 1;
        f.avx512f = (b >> 16) & 1;
        f.avx512dq = (b >> 17) & 1;
        f.avx512bw = (b >> 30) & 1;
        f.avx512vl = (b >> 31) & 1;
        f.avx512vnni = (c >> 11) & 1;
        f.amx = (d >> 24) & 1;
        const unsigned sub = a;
        if (sub >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            f.avxvnni = (a >> 4) & 1;
            f.avx512bf16 = (a >> 5) & 1;
        }
    }
    __get_cpuid(0x80000000, &a, &b, &c, &d);
    if (a >= 0x80000004) {
        unsigned w[12];
        for (unsigned leaf = 0; leaf < 3; leaf++)
            __get_cpuid(0x80000002 + leaf, &w[4 * leaf], &w[4 * leaf + 1], &w[4 * leaf + 2], &w[4 * leaf + 3]);
        memcpy(f.brand, w, 48);
        f.brand[48] = 0;
    }
#endif
    return f;
}

rs_cpu_plan rs_plan_for(const rs_cpu_features *f) {
    rs_cpu_plan p;
    memset(&p, 0, sizeof p);
    const int avx2 = f->os_avx && f->avx2 && f->fma && f->f16c;
    const int avx512 = avx2 && f->os_avx512 && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq;
    p.isa = avx512 ? RS_ISA_AVX512 : avx2 ? RS_ISA_AVX2 : RS_ISA_SCALAR;
    p.vnni = (avx512 && f->avx512vnni) || (avx2 && f->avxvnni);
    /* OpenBLAS's core types name kernel sets, chosen here by the instructions they need.
     * Cooperlake's sgemm is SkylakeX's plus bf16 routines, so it only needs avx512_bf16. AMD
     * and Intel AVX2 kernels are the same code under two names; Zen keeps AMD's tuning. */
    if (avx512) p.blas_core = f->avx512bf16 ? "COOPERLAKE" : "SKYLAKEX";
    else if (avx2) p.blas_core = strcmp(f->vendor, "AuthenticAMD") == 0 ? "ZEN" : "HASWELL";
    else p.blas_core = NULL;
    return p;
}

const char *rs_isa_name(int isa) {
    switch (isa) {
    case RS_ISA_AVX512: return "avx512";
    case RS_ISA_AVX2: return "avx2";
    default: return "scalar";
    }
}

/* The detected plan, read on every kernel call: computed once, then only loaded. */
static rs_cpu_features detected;
static rs_cpu_plan native;
static _Atomic int active_isa = -1;

static void ensure_detected(void) {
    static _Atomic int done = 0;
    if (atomic_load_explicit(&done, memory_order_acquire)) return;
    /* Idempotent and pure: two racing first calls compute the same values. */
    rs_cpu_features f = rs_cpu_detect();
    rs_cpu_plan p = rs_plan_for(&f);
    detected = f;
    native = p;
    int expected = -1;
    atomic_compare_exchange_strong(&active_isa, &expected, p.isa);
    atomic_store_explicit(&done, 1, memory_order_release);
}

const rs_cpu_features *rs_cpu_features_current(void) {
    ensure_detected();
    return &detected;
}

const rs_cpu_plan *rs_cpu_plan_native(void) {
    ensure_detected();
    return &native;
}

/* A narrower ISA for one thread and the pool regions it issues (tests force each path with it
 * while other threads run natively); -1: none. */
static _Thread_local int thread_isa = -1;

int rs_isa(void) {
    if (thread_isa >= 0) return thread_isa;
    int isa = atomic_load_explicit(&active_isa, memory_order_relaxed);
    if (isa >= 0) return isa;
    ensure_detected();
    return atomic_load_explicit(&active_isa, memory_order_relaxed);
}

int rs_set_isa(int isa) {
    ensure_detected();
    if (isa < 0) isa = native.isa;
    if (isa > native.isa) return -1;
    atomic_store_explicit(&active_isa, isa, memory_order_relaxed);
    return isa;
}

int rs_set_thread_isa(int isa) {
    ensure_detected();
    if (isa > native.isa) return -2;
    const int previous = thread_isa;
    thread_isa = isa < 0 ? -1 : isa;
    return previous;
}

int rs_thread_isa(void) { return thread_isa; }

int rs_have_avx512(void) { return rs_isa() >= RS_ISA_AVX512; }
