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
#endif
    for (int64_t i = 0; i < n; i++) out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void rs_gelu_tanh_mul(const float *g, const float *u, float *out, int64_t n) {
#if RS_X86
    if (rs_have_avx512()) { gelu_tanh_mul_avx512(g, u, out, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        out[i] = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x))) * u[i];
    }
}

float rs_exp_sub_sum(float *x, int64_t n, float max) {
#if RS_X86
    if (rs_have_avx512()) return exp_sub_sum_avx512(x, n, max);
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
