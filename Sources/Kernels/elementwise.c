/*
 * Activations and norms. The exponential is a vectorized Cody-Waite reduction with a degree-6
 * polynomial (relative error about 2e-7), because libm's expf called per element dominated
 * SiLU and softmax time.
 */
#include <math.h>

#include "internal.h"

#if RS_X86
RS_AVX512 __m512 rs_exp512(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.7f)), _mm512_set1_ps(-104.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187045e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* The same reduction and polynomial in 8 lanes; 2^n is built in the exponent bits (AVX2 has no
 * scalef). n is clamped so the exponent stays a normal number. */
RS_AVX2 __m256 rs_exp256(__m256 x) {
    /* Below about -87.3 the result is subnormal: flushed to 0 (and -inf gives 0, not a tiny number). */
    const __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(-87.3f), _CMP_GE_OQ);
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.7f)), _mm256_set1_ps(-87.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187045e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* n in [-126, 128]: 2^n as (n + 127) << 23, split in two factors so n = 128 stays finite. */
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256 f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    const __m256 f2 = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
    return _mm256_and_ps(keep, _mm256_mul_ps(_mm256_mul_ps(p, f1), f2));
}

RS_AVX2 static void silu_mul_avx2(const float *g, const float *u, float *out, int64_t n) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 sig = _mm256_div_ps(one, _mm256_add_ps(one, rs_exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(x, sig), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

RS_AVX2 static void gelu_tanh_mul_avx2(const float *g, const float *u, float *out, int64_t n) {
    int64_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    const __m256 c = _mm256_set1_ps(0.7978845608028654f), k = _mm256_set1_ps(0.044715f);
    for (; i + 8 <= n; i += 8) {
        const __m256 x = _mm256_loadu_ps(g + i);
        const __m256 inner = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_mul_ps(k, x), _mm256_mul_ps(x, x), x));
        const __m256 th = _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(rs_exp256(_mm256_mul_ps(two, inner)), one)));
        const __m256 y = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(one, th));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(y, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) {
        const float x = g[i];
        out[i] = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x))) * u[i];
    }
}

RS_AVX2 static float exp_sub_sum_avx2(float *x, int64_t n, float max) {
    int64_t i = 0;
    __m256 sum = _mm256_setzero_ps();
    const __m256 m = _mm256_set1_ps(max);
    for (; i + 8 <= n; i += 8) {
        const __m256 e = rs_exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float s = _mm_cvtss_f32(h);
    for (; i < n; i++) { x[i] = expf(x[i] - max); s += x[i]; }
    return s;
}

RS_AVX512 static void silu_mul_avx512(const float *g, const float *u, float *out, int64_t n) {
    int64_t i = 0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, rs_exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_mul_ps(x, sig), _mm512_loadu_ps(u + i)));
    }
    for (; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

RS_AVX512 static void gelu_tanh_mul_avx512(const float *g, const float *u, float *out, int64_t n) {
    int64_t i = 0;
    const __m512 one = _mm512_set1_ps(1.0f), two = _mm512_set1_ps(2.0f);
    const __m512 c = _mm512_set1_ps(0.7978845608028654f), k = _mm512_set1_ps(0.044715f);
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 inner = _mm512_mul_ps(c, _mm512_fmadd_ps(_mm512_mul_ps(k, x), _mm512_mul_ps(x, x), x));
        /* tanh(z) = 1 - 2 / (exp(2z) + 1) */
        const __m512 th = _mm512_sub_ps(one, _mm512_div_ps(two, _mm512_add_ps(rs_exp512(_mm512_mul_ps(two, inner)), one)));
        const __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(one, th));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(y, _mm512_loadu_ps(u + i)));
    }
    for (; i < n; i++) {
        const float x = g[i];
        out[i] = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x))) * u[i];
    }
}

RS_AVX512 static float exp_sub_sum_avx512(float *x, int64_t n, float max) {
    int64_t i = 0;
    __m512 sum = _mm512_setzero_ps();
    const __m512 m = _mm512_set1_ps(max);
    for (; i + 16 <= n; i += 16) {
        const __m512 e = rs_exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), m));
        _mm512_storeu_ps(x + i, e);
        sum = _mm512_add_ps(sum, e);
    }
    float s = _mm512_reduce_add_ps(sum);
    for (; i < n; i++) { x[i] = expf(x[i] - max); s += x[i]; }
    return s;
}
#endif

void rs_silu_mul(const float *g, const float *u, float *out, int64_t n) {
#if RS_X86
    if (rs_have_avx512()) { silu_mul_avx512(g, u, out, n); return; }
    if (rs_isa() >= RS_ISA_AVX2) { silu_mul_avx2(g, u, out, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void rs_gelu_tanh_mul(const float *g, const float *u, float *out, int64_t n) {
#if RS_X86
    if (rs_have_avx512()) { gelu_tanh_mul_avx512(g, u, out, n); return; }
    if (rs_isa() >= RS_ISA_AVX2) { gelu_tanh_mul_avx2(g, u, out, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        out[i] = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x))) * u[i];
    }
}

float rs_exp_sub_sum(float *x, int64_t n, float max) {
#if RS_X86
    if (rs_have_avx512()) return exp_sub_sum_avx512(x, n, max);
    if (rs_isa() >= RS_ISA_AVX2) return exp_sub_sum_avx2(x, n, max);
#endif
    float s = 0;
    for (int64_t i = 0; i < n; i++) { x[i] = expf(x[i] - max); s += x[i]; }
    return s;
}

void rs_rmsnorm(float *x, int64_t rows, int64_t n, int64_t ld, const float *w, float eps, int add_one) {
    for (int64_t r = 0; r < rows; r++) {
        float *v = x + r * ld;
        double ss = 0; /* double: a 2048-wide sum of squares in float loses digits we can see in logits */
        for (int64_t i = 0; i < n; i++) ss += (double)v[i] * v[i];
        const float scale = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
        if (w) {
            for (int64_t i = 0; i < n; i++) v[i] = v[i] * scale * (add_one ? 1.0f + w[i] : w[i]);
        } else {
            for (int64_t i = 0; i < n; i++) v[i] *= scale;
        }
    }
}
