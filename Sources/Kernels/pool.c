/*
 * A tiny fork-join pool. A decode step issues over a hundred parallel regions of 10-500 us
 * each, so waking threads through the OS every time would eat the step: workers spin on a
 * generation counter for a short while after each region, and the issuer spins on the count of
 * workers still busy, before either sleeps on a futex.
 *
 * Sleeping soon is what keeps the pool fast on a busy machine. When another process holds the
 * core of a worker that is inside a region, spinning on the other core (or sched_yield, which
 * only looks at its own core's queue) leaves that worker waiting for its scheduler slice, a
 * millisecond or more; a sleeping issuer leaves its core idle, and the kernel moves the waiting
 * worker (or the other process) onto it at once. The same holds the other way round for workers
 * waiting on an issuer that was preempted. Tasks hand out their work from an atomic counter,
 * so a worker that wakes late only takes less of it, and one that has not joined the region by
 * the time the issuer is done with the work is left out of it altogether: the issuer never
 * waits for a thread that has not started.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "internal.h"

#define RS_MAX_THREADS 64

/* How long a worker spins for the next region before it sleeps: longer than the serial work the
 * issuer does between the regions of a step (norms, RoPE, small attention), short enough that a
 * worker waiting for a preempted issuer gives its core away. */
#define WORKER_SPIN_NS 200000LL
/* How long the issuer, done with its share, spins for the workers before it sleeps: longer than
 * a worker on its core trails the issuer in most regions; past it, the issuer's core is better
 * left to a worker that lost its own. */
#define ISSUER_SPIN_NS 100000LL
/* A worker that finishes a region more than this long after the issuer, and later than the
 * issuer's own share took, was off its core mid-task: the machine has more runnable threads
 * than cores. Regions then run on the issuer alone for a while: 2 ms after a lone stall (a
 * neighbour's time slice), doubling up to 64 ms while stalls come back within a few steps of
 * each other (oversubscribed: a barrier per region would cost a scheduler slice each time). */
#define STALL_NS 1000000LL
#define BACKOFF_MIN_NS 2000000LL
#define BACKOFF_MAX_NS 64000000LL
#define CALM_REGIONS 512

/* Guarded by issue_mutex. */
static int64_t serial_until = 0;
static int64_t backoff_ns = 0;
static int calm_regions = 0; /* regions run on the pool since the last stall */

/* What the pool did, for `ringside microbench` (relaxed: each counter is a tally, not a message). */
static _Atomic uint64_t st_regions, st_serial_small, st_serial_backoff, st_stalls, st_left_out;
static _Atomic uint64_t st_region_ns, st_wait_ns, st_serial_ns;

static inline void tally(_Atomic uint64_t *c, uint64_t v) { atomic_fetch_add_explicit(c, v, memory_order_relaxed); }

/* rs_pool_defer's call, per issuing thread. */
static _Thread_local rs_deferred_fn deferred_fn;
static _Thread_local void *deferred_ctx;

void rs_pool_defer(rs_deferred_fn fn, void *ctx) {
    rs_pool_run_deferred();
    deferred_fn = fn;
    deferred_ctx = ctx;
}

void rs_pool_run_deferred(void) {
    rs_deferred_fn fn = deferred_fn;
    if (!fn) return;
    deferred_fn = NULL;
    fn(deferred_ctx);
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int pool_threads = 0;
static int pool_requested = 0;

/* 32-bit words: they are futexes. */
static _Atomic uint32_t generation = 0;
/* Workers inside the region or still free to join it. */
static _Atomic uint32_t pending = 0;
/* Places in the region not yet taken by a worker; the issuer takes back the rest when done. */
static _Atomic int seats = 0;
static _Atomic int sleepers = 0;
static _Atomic int issuer_asleep = 0;
static rs_task_fn job_fn;
static void *job_ctx;
static int job_isa; /* the issuer's rs_thread_isa(), taken on by the workers for the region */
/* Regions are issued by one thread at a time (the device thread); this makes that a rule. */
static pthread_mutex_t issue_mutex = PTHREAD_MUTEX_INITIALIZER;

static inline void cpu_relax(void) {
#if RS_X86
    _mm_pause();
#endif
}

int64_t rs_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#ifdef __linux__
/* Sleeps unless *word has changed from `value` (spurious returns are fine: callers re-check). */
static void sleep_while(_Atomic uint32_t *word, uint32_t value) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}
static void wake_all(_Atomic uint32_t *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}
#else
/* Elsewhere one condition variable serves both words; every sleeper re-checks its own. */
static pthread_mutex_t sleep_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;
static void sleep_while(_Atomic uint32_t *word, uint32_t value) {
    pthread_mutex_lock(&sleep_mutex);
    while (atomic_load(word) == value) pthread_cond_wait(&sleep_cond, &sleep_mutex);
    pthread_mutex_unlock(&sleep_mutex);
}
static void wake_all(_Atomic uint32_t *word) {
    (void)word;
    pthread_mutex_lock(&sleep_mutex);
    pthread_cond_broadcast(&sleep_cond);
    pthread_mutex_unlock(&sleep_mutex);
}
#endif

void rs_name_thread(const char *name) {
    char n[16];
    snprintf(n, sizeof n, "%s", name);
    pthread_setname_np(pthread_self(), n);
}

static void *worker_main(void *arg) {
    const int ith = (int)(intptr_t)arg;
    rs_name_thread("ringside-pool");
    /* Not a load: the first region may be issued before this thread gets to run, and it
     * must still take part in it. Workers are created before any region is issued. */
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        int64_t spin_start = 0;
        for (int i = 1;; i++) {
            g = atomic_load_explicit(&generation, memory_order_acquire);
            if (g != seen) break;
            cpu_relax();
            if ((i & 127) == 0) {
                const int64_t t = rs_now_ns();
                if (spin_start == 0) {
                    spin_start = t;
                } else if (t - spin_start > WORKER_SPIN_NS) {
                    /* Sequentially consistent with the issuer's increment of `generation` and
                     * its load of `sleepers`: one of the two sees the other, so a region is
                     * never issued past a worker about to sleep. */
                    atomic_fetch_add_explicit(&sleepers, 1, memory_order_seq_cst);
                    while ((g = atomic_load_explicit(&generation, memory_order_seq_cst)) == seen)
                        sleep_while(&generation, seen);
                    atomic_fetch_sub_explicit(&sleepers, 1, memory_order_relaxed);
                    break;
                }
            }
        }
        seen = g;
        int s = atomic_load_explicit(&seats, memory_order_acquire);
        while (s > 0 && !atomic_compare_exchange_weak_explicit(&seats, &s, s - 1, memory_order_acq_rel,
                                                               memory_order_acquire)) {
        }
        if (s <= 0) continue; /* the issuer finished the region without us */
        rs_set_thread_isa(job_isa);
        job_fn(job_ctx, ith, pool_threads);
        /* The same pairing with the issuer's `issuer_asleep` and its load of `pending`. */
        if (atomic_fetch_sub_explicit(&pending, 1, memory_order_seq_cst) == 1 &&
            atomic_load_explicit(&issuer_asleep, memory_order_seq_cst))
            wake_all(&pending);
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
        rs_pool_run_deferred();
        const int64_t start = rs_now_ns();
        fn(ctx, 0, 1);
        tally(&st_regions, 1);
        tally(&st_region_ns, (uint64_t)(rs_now_ns() - start));
        return;
    }
    pthread_mutex_lock(&issue_mutex);
    const int64_t start = rs_now_ns();
    if (serial_until != 0 && start < serial_until) {
        rs_pool_run_deferred();
        fn(ctx, 0, 1);
        tally(&st_serial_backoff, 1);
        tally(&st_serial_ns, (uint64_t)(rs_now_ns() - start));
        pthread_mutex_unlock(&issue_mutex);
        return;
    }
    job_fn = fn;
    job_ctx = ctx;
    job_isa = rs_thread_isa();
    atomic_store_explicit(&pending, (uint32_t)(pool_threads - 1), memory_order_relaxed);
    /* Release: a worker that takes a seat reads this region's job, even if it saw an older generation. */
    atomic_store_explicit(&seats, pool_threads - 1, memory_order_release);
    atomic_fetch_add_explicit(&generation, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&sleepers, memory_order_seq_cst) > 0) wake_all(&generation);
    /* Here, with the workers on the region's work, a thread this call wakes that takes the
     * issuer's core costs the region only the issuer's share. */
    rs_pool_run_deferred();
    fn(ctx, 0, pool_threads);
    const int64_t own_done = rs_now_ns();
    const int late = atomic_exchange_explicit(&seats, 0, memory_order_acq_rel);
    if (late > 0) {
        atomic_fetch_sub_explicit(&pending, (uint32_t)late, memory_order_seq_cst);
        tally(&st_left_out, (uint64_t)late);
    }
    for (int i = 1; atomic_load_explicit(&pending, memory_order_acquire) > 0; i++) {
        cpu_relax();
        if ((i & 127) == 0 && rs_now_ns() - own_done > ISSUER_SPIN_NS) {
            atomic_store_explicit(&issuer_asleep, 1, memory_order_seq_cst);
            uint32_t p;
            while ((p = atomic_load_explicit(&pending, memory_order_seq_cst)) != 0) sleep_while(&pending, p);
            atomic_store_explicit(&issuer_asleep, 0, memory_order_relaxed);
            break;
        }
    }
    const int64_t end = rs_now_ns();
    if (end - own_done > STALL_NS && end - own_done > own_done - start) {
        backoff_ns = calm_regions < CALM_REGIONS && backoff_ns > 0 ? backoff_ns * 2 : BACKOFF_MIN_NS;
        if (backoff_ns > BACKOFF_MAX_NS) backoff_ns = BACKOFF_MAX_NS;
        serial_until = end + backoff_ns;
        calm_regions = 0;
        tally(&st_stalls, 1);
    } else if (calm_regions < CALM_REGIONS) {
        calm_regions++;
    }
    tally(&st_regions, 1);
    tally(&st_region_ns, (uint64_t)(end - start));
    tally(&st_wait_ns, (uint64_t)(end - own_done));
    pthread_mutex_unlock(&issue_mutex);
}

void rs_run_serial(rs_task_fn fn, void *ctx) {
    /* Still one issuer at a time: kernels call single-threaded OpenBLAS, whose buffer pool is
     * sized for the pool's threads, not for every thread that might run a model. */
    pthread_mutex_lock(&issue_mutex);
    rs_pool_run_deferred();
    const int64_t start = rs_now_ns();
    fn(ctx, 0, 1);
    tally(&st_serial_small, 1);
    tally(&st_serial_ns, (uint64_t)(rs_now_ns() - start));
    pthread_mutex_unlock(&issue_mutex);
}

void rs_pool_stats_read(rs_pool_stats *out) {
    out->regions = atomic_load_explicit(&st_regions, memory_order_relaxed);
    out->serial_small = atomic_load_explicit(&st_serial_small, memory_order_relaxed);
    out->serial_backoff = atomic_load_explicit(&st_serial_backoff, memory_order_relaxed);
    out->stalls = atomic_load_explicit(&st_stalls, memory_order_relaxed);
    out->left_out = atomic_load_explicit(&st_left_out, memory_order_relaxed);
    out->region_ns = atomic_load_explicit(&st_region_ns, memory_order_relaxed);
    out->wait_ns = atomic_load_explicit(&st_wait_ns, memory_order_relaxed);
    out->serial_ns = atomic_load_explicit(&st_serial_ns, memory_order_relaxed);
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
