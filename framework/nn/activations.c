/* activations.c - tanh-GELU, row softmax and residual addition, forward and backward. */
#include "nn/fastmath.h"
#include "nn/activations.h"

#include <math.h>

#define GELU_K 0.7978845608028654f /* √(2/π) */
#define GELU_A 0.044715f

/* u = k(x + a·x³), t = tanh(u): gelu(x) = ½·x·(1 + t). */
static inline float gelu_tanh(float x) { return pl_fast_tanhf(GELU_K * (x + GELU_A * x * x * x)); }
static inline float gelu_value(float x, float t) { return 0.5f * x * (1.0f + t); }

/* gelu'(x) = ½(1 + t) + ½·x·(1 − t²)·k(1 + 3a·x²) */
static inline float gelu_derivative(float x, float t) {
    const float du = GELU_K * (1.0f + 3.0f * GELU_A * x * x);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
}

void gelu_forward(float *out, const float *inp, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = gelu_value(inp[i], gelu_tanh(inp[i]));
}

void gelu_forward_keep_grad(float *out, float *x_then_grad, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float x = x_then_grad[i], t = gelu_tanh(x);
        out[i] = gelu_value(x, t);
        x_then_grad[i] = gelu_derivative(x, t);
    }
}

void gelu_backward(float *dinp, const float *inp, const float *dout, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * gelu_derivative(inp[i], gelu_tanh(inp[i]));
}

/* The product with the derivative forward kept, written over the upstream gradient: no tanh
 * to recompute, one buffer read and written. The 0 + keeps the bits of gelu_backward into
 * zeros, signs of zeros included (0 + −0 = +0). */
void gelu_backward_from_grad(float *d, const float *grad, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) d[i] = 0.0f + d[i] * grad[i];
}

void softmax_forward(float *out, const float *inp, int n, int c) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) pl_softmax_row(out + (long)i * c, inp + (long)i * c, c);
}

void softmax_backward(float *dinp, const float *out, const float *dout, int n, int c) {
    /* dy_j/dx_k = y_j(δ_jk − y_k) ⇒ dx_k = y_k·(dout_k − Σ_j y_j·dout_j) */
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *y = out + (long)i * c, *dy = dout + (long)i * c;
        float *dx = dinp + (long)i * c;
        float dot = 0.0f;
        for (int j = 0; j < c; j++) dot += y[j] * dy[j];
        for (int j = 0; j < c; j++) dx[j] += y[j] * (dy[j] - dot);
    }
}

void residual_forward(float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void residual_backward(float *da, float *db, const float *dout, size_t n) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        if (da != NULL) da[i] += dout[i];
        if (db != NULL) db[i] += dout[i];
    }
}
