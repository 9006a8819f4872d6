/*
 * A tiny fork-join pool. A decode step issues a few hundred parallel regions of 10-100 us each,
 * so waking threads through the OS every time (tens of microseconds per wake-up) would eat the
 * step. Workers spin on a generation counter for a while after each region and only then sleep
 * on a condition variable, so back-to-back regions cost well under a microsecond to dispatch
 * and an idle engine burns no CPU.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define RS_MAX_THREADS 64
/* How long a worker keeps spinning after its last region before it sleeps. */
#define RS_SPIN_NS 2000000LL
/* Spinning longer than this means whoever we wait for is probably off the CPU. */
#define RS_YIELD_NS 200000LL
/* A worker that finishes this long after the issuer is being starved of a core (the machine has
 * more runnable threads than cores); regions then run on the issuer alone for a while, since a
 * barrier per region under oversubscription costs a scheduler slice each time. */
#define RS_STALL_NS 1000000LL
#define RS_SERIAL_BACKOFF_NS 50000000LL

/* Guarded by issue_mutex. */
static int64_t serial_until = 0;

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int pool_threads = 0;
static int pool_requested = 0;

static _Atomic uint64_t generation = 0;
static _Atomic int pending = 0;
static _Atomic int sleepers = 0;
static rs_task_fn job_fn;
static void *job_ctx;
static int job_isa; /* the issuer's rs_thread_isa(), taken on by the workers for the region */
static pthread_mutex_t sleep_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;
/* Regions are issued by one thread at a time (the device thread); this makes that a rule. */
static pthread_mutex_t issue_mutex = PTHREAD_MUTEX_INITIALIZER;

static inline void cpu_relax(void) {
#if RS_X86
    _mm_pause();
#endif
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *worker_main(void *arg) {
    const int ith = (int)(intptr_t)arg;
    /* Not a load: the first region may be issued before this thread gets to run, and it
     * must still take part in it. Workers are created before any region is issued. */
    uint64_t seen = 0;
    for (;;) {
        int64_t spin_start = now_ns();
        uint64_t g;
        for (int i = 0;; i++) {
            g = atomic_load_explicit(&generation, memory_order_acquire);
            if (g != seen) break;
            cpu_relax();
            /* Give the core away now and then: when the machine has more runnable threads
             * than cores (another process, or the engine's host thread), a spinner that never
             * yields can keep the very thread it waits for off the CPU. */
            if ((i & 255) == 255 && now_ns() - spin_start > RS_YIELD_NS) sched_yield();
            if ((i & 1023) == 1023 && now_ns() - spin_start > RS_SPIN_NS) {
                pthread_mutex_lock(&sleep_mutex);
                atomic_fetch_add_explicit(&sleepers, 1, memory_order_seq_cst);
                while ((g = atomic_load_explicit(&generation, memory_order_seq_cst)) == seen)
                    pthread_cond_wait(&sleep_cond, &sleep_mutex);
                atomic_fetch_sub(&sleepers, 1);
                pthread_mutex_unlock(&sleep_mutex);
                break;
            }
        }
        seen = g;
        rs_set_thread_isa(job_isa);
        job_fn(job_ctx, ith, pool_threads);
        atomic_fetch_sub_explicit(&pending, 1, memory_order_release);
    }
    return NULL;
}

static void pool_init(void) {
    int n = pool_requested;
    if (n <= 0) {
        const char *env = getenv("RINGSIDE_THREADS");
        n = env ? atoi(env) : 0;
    }
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > RS_MAX_THREADS) n = RS_MAX_THREADS;
    pool_threads = n;
    for (int i = 1; i < n; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker_main, (void *)(intptr_t)i) != 0) {
            pool_threads = i; /* run with what we have */
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
    }
}

void rs_pool_start(int nthreads) {
    if (pool_threads == 0) pool_requested = nthreads;
    pthread_once(&pool_once, pool_init);
}

int rs_pool_size(void) {
    rs_pool_start(0);
    return pool_threads;
}

void rs_parallel(rs_task_fn fn, void *ctx) {
    rs_pool_start(0);
    if (pool_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&issue_mutex);
    if (serial_until != 0 && now_ns() < serial_until) {
        fn(ctx, 0, 1);
        pthread_mutex_unlock(&issue_mutex);
        return;
    }
    job_fn = fn;
    job_ctx = ctx;
    job_isa = rs_thread_isa();
    atomic_store_explicit(&pending, pool_threads - 1, memory_order_relaxed);
    /* Sequentially consistent on both sides (here and the worker's increment of `sleepers`
     * before it re-reads `generation`): with a mere release here, the load of `sleepers` may
     * be hoisted above the increment, both sides miss each other, and the worker sleeps
     * through the region while we spin on `pending` forever. */
    atomic_fetch_add_explicit(&generation, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&sleepers, memory_order_seq_cst) > 0) {
        pthread_mutex_lock(&sleep_mutex);
        pthread_cond_broadcast(&sleep_cond);
        pthread_mutex_unlock(&sleep_mutex);
    }
    fn(ctx, 0, pool_threads);
    const int64_t own_done = now_ns();
    int64_t wait_start = 0;
    for (int i = 0; atomic_load_explicit(&pending, memory_order_acquire) > 0; i++) {
        cpu_relax();
        if ((i & 255) == 255) {
            if (wait_start == 0) wait_start = now_ns();
            else if (now_ns() - wait_start > RS_YIELD_NS) sched_yield();
        }
    }
    if (now_ns() - own_done > RS_STALL_NS) serial_until = now_ns() + RS_SERIAL_BACKOFF_NS;
    pthread_mutex_unlock(&issue_mutex);
}

void rs_run_serial(rs_task_fn fn, void *ctx) {
    /* Still one issuer at a time: kernels call single-threaded OpenBLAS, whose buffer pool is
     * sized for the pool's threads, not for every thread that might run a model. */
    pthread_mutex_lock(&issue_mutex);
    fn(ctx, 0, 1);
    pthread_mutex_unlock(&issue_mutex);
}

/* ---- per-thread scratch --------------------------------------------------------------- */

typedef struct {
    float *buf;
    int64_t cap;
} scratch;

static _Thread_local scratch inner, outer;

static float *grow(scratch *s, int64_t floats) {
    if (floats > s->cap) {
        free(s->buf);
        int64_t cap = floats < 4096 ? 4096 : floats;
        s->buf = aligned_alloc(64, (size_t)((cap * 4 + 63) / 64 * 64));
        s->cap = s->buf ? cap : 0;
    }
    return s->buf;
}

float *rs_scratch(int64_t floats) { return grow(&inner, floats); }
float *rs_scratch_outer(int64_t floats) { return grow(&outer, floats); }
