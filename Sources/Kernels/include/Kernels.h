#ifndef RINGSIDE_KERNELS_H
#define RINGSIDE_KERNELS_H

/*
 * The engine's inner loops: quantized matrix products, paged attention, activations and the
 * worker pool that runs them on every core. Everything here is plain C with AVX-512 variants
 * chosen at run time, so one binary runs on any x86-64 (and other) machine.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ggml type ids, as stored in GGUF files. */
enum {
    RS_TYPE_F32 = 0, RS_TYPE_F16 = 1, RS_TYPE_Q4_0 = 2, RS_TYPE_Q4_1 = 3,
    RS_TYPE_Q5_0 = 6, RS_TYPE_Q5_1 = 7, RS_TYPE_Q8_0 = 8, RS_TYPE_Q8_1 = 9,
    RS_TYPE_Q4_K = 12, RS_TYPE_Q5_K = 13, RS_TYPE_Q6_K = 14, RS_TYPE_Q8_K = 15,
    RS_TYPE_BF16 = 30,
};

/* Added to a Q4_0, Q4_1, Q5_0, Q8_0, Q4_K or Q6_K type id: the weight was repacked by
 * rs_repack_x16, sixteen rows interleaved block by block for the integer kernels (x16.c says how
 * and why). rs_matmul takes such jobs (rows a multiple of 16); rs_dequantize_row_at reads their
 * rows. */
#define RS_TYPE_X16 0x100

/* 1 when a `rows` x `cols` weight of this stored type can be interleaved; rs_x16_pays also
 * needs the kernels that make it faster here (AVX-512 VNNI in use). */
int rs_x16_supported(int type, int64_t rows, int64_t cols);
int rs_x16_pays(int type, int64_t rows, int64_t cols);
/* Whether loaders interleave where it pays; on by default (the loaders ask, not the kernels). */
void rs_set_x16_repack(int on);
int rs_x16_repack(void);
/* Writes the interleaved copy of `rows` stored rows (same size as src) to dst. */
void rs_repack_x16(int type, const void *src, int64_t rows, int64_t cols, void *dst);
/* Row r of a weight `row_bytes` a row (stored or interleaved type), `n` values, dequantized. */
void rs_dequantize_row_at(int type, const void *w, int64_t row_bytes, int64_t r, float *dst, int64_t n);

/* 1 when rs_dequantize_row understands `type`. */
int rs_type_supported(int type);

/* Dequantizes `n` values (a multiple of the type's block size) exactly as ggml does. */
void rs_dequantize_row(int type, const void *src, float *dst, int64_t n);

/* Plain-loop dequantizers, the readable definition the fast paths are tested against. */
void rs_dequantize_row_ref(int type, const void *src, float *dst, int64_t n);

/* IEEE binary16 -> binary32, exact. */
float rs_fp16_to_fp32(uint16_t h);

/* binary32 -> binary16, rounded to nearest even (overflow to infinity, NaN kept a NaN). */
uint16_t rs_fp32_to_fp16(float f);

/* dst[i] = rs_fp32_to_fp16(src[i]), with F16C where the CPU has it (same bits). */
void rs_fp32_to_fp16_row(const float *src, uint16_t *dst, int64_t n);

/* ---- worker pool ---------------------------------------------------------------------- */

/* Starts the pool with `nthreads` threads in all (the caller counts as one); idempotent.
 * 0 means one per online CPU. Kernels below call it lazily. */
void rs_pool_start(int nthreads);
int rs_pool_size(void);

typedef void (*rs_task_fn)(void *ctx, int ith, int nth);
/* Runs fn(ctx, i, n) on the pool's threads and returns when all are done. fn must hand out its
 * work dynamically (an atomic counter): the caller always runs it (i = 0), but a worker that has
 * not joined by the time the caller returns from it is left out, and on an oversubscribed
 * machine the caller may run it alone as fn(ctx, 0, 1). */
void rs_parallel(rs_task_fn fn, void *ctx);
/* fn(ctx) runs once, on the calling thread, at its next kernel: in the next rs_parallel just
 * after the workers were told to start (so a thread it wakes that takes this core delays only
 * this thread's share of the region), or at the start of the next rs_run_serial, or at
 * rs_pool_run_deferred, whichever comes first (a second defer runs the first one at once).
 * fn must not issue kernels. */
typedef void (*rs_deferred_fn)(void *ctx);
void rs_pool_defer(rs_deferred_fn fn, void *ctx);
/* Runs the calling thread's deferred call now if it has not run yet. */
void rs_pool_run_deferred(void);
/* Runs fn(ctx, 0, 1) on the calling thread, one issuer at a time like rs_parallel. */
void rs_run_serial(rs_task_fn fn, void *ctx);

/* Names the calling thread for the kernel (top -H, perf sched, gdb); Linux keeps 15 bytes. The
 * pool's workers are "ringside-pool". */
void rs_name_thread(const char *name);

/* Running totals since the process started: how the kernels' work was dispatched. */
typedef struct {
    uint64_t regions;        /* rs_parallel calls that ran on the pool's threads */
    uint64_t serial_small;   /* kernels run on the caller because they were small (rs_run_serial) */
    uint64_t serial_backoff; /* rs_parallel calls run on the caller alone during a stall backoff */
    uint64_t stalls;         /* regions a worker finished far behind the issuer */
    uint64_t left_out;       /* workers left out of a region: not started when the issuer was done */
    uint64_t region_ns;      /* wall time of the pool's regions, issue to the last worker done */
    uint64_t wait_ns;        /* of which the issuer waited for the workers after its own share */
    uint64_t serial_ns;      /* wall time of the kernels run on the caller (small or backoff) */
} rs_pool_stats;
void rs_pool_stats_read(rs_pool_stats *out);

/* ---- matrix products ------------------------------------------------------------------ */

/* One weight matrix of a fused product: `rows` rows of `cols` values, `row_bytes` apart. */
typedef struct {
    int type;
    const void *w;
    int64_t row_bytes;
    int64_t rows;
    float *y;          /* y[t * ldy + r] */
    int64_t ldy;
    int accumulate;    /* 1: y += x W^T (a fused residual add), 0: y = x W^T */
} rs_matmul_job;

/* For every job: y[t, r] (+)= sum_k x[t, k] * W[r, k], t < n_tokens, k < cols.
 * Jobs share the input, so Q/K/V or gate/up run in one parallel region. Few tokens use a
 * fused dequantize-and-dot path; many tokens dequantize panels of rows and call sgemm. */
void rs_matmul(const rs_matmul_job *jobs, int njobs, const float *x, int64_t ldx, int64_t cols,
               int64_t n_tokens);

/* A gated feed-forward block: gate->y = act(x Wg^T) * (x Wu^T), then down->y (+)= gate->y Wd^T.
 * up->y is scratch; gate and up have the same rows, neither accumulates. The activation (and, for
 * the integer path, the down product's quantized input) is computed chunk by chunk inside the
 * gate/up region, so the issuing thread does no serial work between the two regions. Results
 * are those of rs_matmul, the activation and rs_matmul in sequence, bit for bit. */
enum { RS_GLU_SILU = 0, RS_GLU_GELU_TANH = 1 };
void rs_glu_ffn(const rs_matmul_job *gate, const rs_matmul_job *up, int act, const rs_matmul_job *down,
                const float *x, int64_t ldx, int64_t cols, int64_t n_tokens);

/* How the matrix-vector path (few tokens) takes its activations. INT8 and INT16 quantize them per
 * block of 32 (to int8 as llama.cpp does, or to int16) and run integer dot products: int8 packs
 * twice the products per instruction, int16 rounds 256 times finer; FP32 multiplies fp32
 * activations with dequantized weights, which matches an fp32 reference to 1e-3. */
enum { RS_ACTS_FP32 = 0, RS_ACTS_INT16 = 1, RS_ACTS_INT8 = 2 };

/* The calling thread's mode for rs_matmul; returns the previous one. Threads start at INT16. */
int rs_set_thread_activations(int mode);
int rs_thread_activations(void);

/* rs_matmul with an explicit activation mode instead of the thread's. */
void rs_matmul_ex(const rs_matmul_job *jobs, int njobs, const float *x, int64_t ldx, int64_t cols,
                  int64_t n_tokens, int acts);

/* 1 when the integer path computes this weight type at this width (else it uses fp32). */
int rs_int_supported(int type, int64_t cols);

/* Tests: the whole job through the integer kernels of `isa` with `levels` (32767: int16, 127:
 * int8), on the calling thread. Returns 0, or -1 if the type, width, levels or ISA is not
 * available here. */
int rs_gemv_int_path(const rs_matmul_job *j, const float *x, int64_t ldx, int64_t cols, int64_t T,
                     int isa, int levels);

/* Products of many tokens on the calling thread take bf16 panels (vdpbf16ps) instead of fp32
 * panels + sgemm where the CPU has AVX-512 BF16 (rs_bf16_panels_supported) and this is on; off
 * by default. Returns the previous setting. The forward pass does not set it itself: it names
 * its prompt rows (rs_set_thread_bf16_rows), and the products turn it on for those rows. bf16
 * moves logits by a few 1e-2. */
int rs_set_thread_bf16_panels(int on);
/* The calling thread's prompt rows for a batch of `rows` rows: `nranges` ascending, disjoint
 * [bounds[2i], bounds[2i+1]). Products (rs_matmul, rs_glu_ffn) over exactly `rows` rows then
 * take bf16 panels for those rows whatever their number (where the CPU has AVX-512 BF16) and
 * the path their own size picks for the others: a token's numbers do not depend on what else
 * is in its batch. 0 ranges: none. Ranges past the 16th take the others' path; returns how many
 * were kept. */
int rs_set_thread_bf16_rows(const int64_t *bounds, int nranges, int64_t rows);
int rs_bf16_panels_supported(void);
void rs_set_bf16_prompts(int on);
int rs_bf16_prompts(void);
/* The calling thread's own setting (tests): 1 on, 0 off, -1 the process's. Returns the previous. */
int rs_set_thread_bf16_prompts(int mode);

/* Which matrix-vector kernel a type takes now with `acts`: "int8-avx2", "fp32-avx512", ... */
const char *rs_gemv_kernel_name(int type, int acts);
/* The same for a step of 16 tokens (a batch of sequences, a wide verification): on AVX-512 VNNI
 * CPUs where it measured faster, int16 activations take the 512-bit token-pair kernel from six
 * tokens on. */
const char *rs_gemv_batch_kernel_name(int type, int acts);
/* Whether the calling thread's int16 batches take the 512-bit kernel: -1 as measured on this CPU
 * (the default; the first batch times both), 0 never, 1 always where the CPU has AVX-512 VNNI.
 * Tests; returns the previous setting. */
int rs_set_thread_int16_pairs(int mode);

/* Token counts up to this use the matrix-vector path: the first with fp32 activations (or weight
 * types without integer kernels), the second with integer activations. */
int rs_matmul_gemv_max_tokens(void);
void rs_matmul_set_gemv_max_tokens(int n);
int rs_matmul_int_gemv_max_tokens(void);
void rs_matmul_set_int_gemv_max_tokens(int n);
/* The same for interleaved weights (RS_TYPE_X16), whose kernels stay ahead of sgemm longer. */
int rs_matmul_x16_gemv_max_tokens(void);
void rs_matmul_set_x16_gemv_max_tokens(int n);

/* One weight of a grouped (Mixture-of-Experts) product: expert e's matrix is w[e], `rows`
 * rows `row_bytes` apart; every expert has the same type and shape. */
typedef struct {
    int type;
    const void *const *w;
    int64_t row_bytes;
    int64_t rows;
    float *y;          /* y[i * ldy + r] for activation row i, indexed like x */
    int64_t ldy;
    int accumulate;
} rs_grouped_job;

/* For each group g < ngroups and each job: the activation rows first[g] ..< first[g] + count[g]
 * times expert experts[g]'s matrix, all groups in one parallel region. */
void rs_grouped_matmul(const rs_grouped_job *jobs, int njobs, const int32_t *experts,
                       const int64_t *first, const int64_t *count, int64_t ngroups,
                       const float *x, int64_t ldx, int64_t cols);

/* 1 when rs_grouped_matmul computes this weight type at this width on this CPU. */
int rs_grouped_supported(int type, int64_t cols);

/* ---- attention ------------------------------------------------------------------------ */

typedef struct {
    const float *q;          /* q[t * ldq + h * head_dim + d] */
    int64_t ldq;
    float *out;              /* out[t * ldo + h * head_dim + d] */
    int64_t ldo;
    const void *k_cache;     /* k[slot * kv_stride + g * head_dim + d]: float, or IEEE half (kv_f16) */
    const void *v_cache;
    int64_t kv_stride;
    const int32_t *slots;        /* KV slot of every cached position, per sequence, concatenated */
    const int32_t *tok_slot_off; /* per query token: where its sequence's slots start */
    const int32_t *tok_kv_begin; /* per query token: first visible position (sliding window) */
    const int32_t *tok_kv_end;   /* per query token: one past the last visible position */
    int32_t n_tokens, n_head, n_kv, head_dim;
    float scale;
    float softcap;               /* 0: none; else scores = softcap * tanh(scores / softcap) */
    /* NULL, or per query token: positions tok_kv_end + i it sees as well, for each bit i set (a
     * token of a draft tree sees the prefix [begin, end) and its tree ancestors and itself). */
    const uint64_t *tok_tree_mask;
    /* 1: k_cache and v_cache hold IEEE binary16 (`rs_fp32_to_fp16`), read as fp32; half the
     * bytes of a decode step's KV traffic. */
    int32_t kv_f16;
} rs_attention_args;

/* Causal softmax attention over a paged KV cache, grouped-query, online softmax; with a tree
 * mask, each token's visible positions are its prefix plus the ones its mask names. */
void rs_attention(const rs_attention_args *args);

/* ---- elementwise ---------------------------------------------------------------------- */

/* out = silu(g) * u */
void rs_silu_mul(const float *g, const float *u, float *out, int64_t n);
/* out = gelu_tanh(g) * u  (the "gelu_pytorch_tanh" of Gemma) */
void rs_gelu_tanh_mul(const float *g, const float *u, float *out, int64_t n);
/* x[i] = exp(x[i] - max) ; returns the sum. Used by softmax in sampling. */
float rs_exp_sub_sum(float *x, int64_t n, float max);

/* Rows of x [rows, n] normalized in place: x * w / sqrt(mean(x^2) + eps); w may be NULL.
 * `add_one` adds 1 to the weight (Gemma stores w - 1). */
void rs_rmsnorm(float *x, int64_t rows, int64_t n, int64_t ld, const float *w, float eps, int add_one);

/* ---- the CPU and the path taken ------------------------------------------------------- */

/* What the CPU and the OS offer (CPUID, XCR0). The model name is kept for display only. */
typedef struct {
    char vendor[13];
    char brand[49];
    int os_avx, os_avx512;     /* the OS saves YMM / ZMM and opmask state (XCR0) */
    int avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16;
    int avxvnni;
    int amx;                   /* reported, never used: AMX faults without a permission request */
} rs_cpu_features;

enum { RS_ISA_SCALAR = 0, RS_ISA_AVX2 = 1, RS_ISA_AVX512 = 2 };

typedef struct {
    int isa;                   /* RS_ISA_*: the widest kernels the features allow */
    int vnni;                  /* integer dot-product instructions are available */
    const char *blas_core;     /* OPENBLAS_CORETYPE for these features, NULL: leave to OpenBLAS */
} rs_cpu_plan;

rs_cpu_features rs_cpu_detect(void);
/* Pure: the path for a feature set. Never looks at the model name. */
rs_cpu_plan rs_plan_for(const rs_cpu_features *f);
const char *rs_isa_name(int isa);
/* This machine's features and plan, detected once. */
const rs_cpu_features *rs_cpu_features_current(void);
const rs_cpu_plan *rs_cpu_plan_native(void);
/* The ISA the kernels use now: the native one unless lowered by rs_set_isa. */
int rs_isa(void);
/* Lowers the kernels to `isa` for the whole process (-1: back to native). Returns the ISA now
 * in use, or -1 if this CPU cannot run `isa`. Set it before the engine runs, not during. */
int rs_set_isa(int isa);
/* Lowers the kernels to `isa` on the calling thread only, and in the pool regions it issues
 * (-1: back to the process-wide ISA). Returns the thread's previous setting (-1: none), or -2 if
 * this CPU cannot run `isa`. Tests use it to run every path on one machine. */
int rs_set_thread_isa(int isa);
/* The calling thread's setting: -1 when it follows the process-wide ISA. */
int rs_thread_isa(void);
/* 1 when the AVX-512 paths are in use. */
int rs_have_avx512(void);

/* Loads OpenBLAS (once; setting OPENBLAS_CORETYPE from the plan first unless the user set it).
 * 1 if sgemm is available; without it prefill runs on the matrix-vector kernels. */
int rs_blas_available(void);
/* "OpenBLAS Zen (core chosen from CPU features)", or why it is not loaded. */
const char *rs_blas_description(void);

#ifdef __cplusplus
}
#endif
#endif
