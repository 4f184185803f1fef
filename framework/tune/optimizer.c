/* optimizer.c - AdamW with decoupled weight decay and masks, deterministic global gradient
 * norm and clipping, and the warm-up + cosine learning-rate schedule. */
#include "tune/optimizer.h"

#include <math.h>

#include "core/reduce.h"

enum { ELEMS_PER_CHUNK = 4096 }; /* items per partial sum of the gradient norm */

/* Bias correction 1 − β^t, computed in double so large t stays accurate. */
static float bias_correction(float beta, int t) { return (float)(1.0 - pow((double)beta, (double)t)); }

/* AdamW on element i, pinned (pruned: weight and moments held at 0) or not. Both entry
 * points run exactly this, so the fused step and the per-tensor one give the same bits. The
 * update is computed either way and the pin selects afterwards: no branch, so the loops
 * vectorise. */
static inline void adamw_element(float *restrict param, float g, float *restrict m,
                                 float *restrict v, int pinned, size_t i, float lr, float b1,
                                 float b2, float eps, float wd, float c1, float c2) {
    const float mi = b1 * m[i] + (1.0f - b1) * g;
    const float vi = b2 * v[i] + (1.0f - b2) * g * g;
    const float mhat = mi / c1, vhat = vi / c2;
    /* p ← p − lr·(m̂/(√v̂ + ε) + wd·p): decay acts on p itself, not through the moments */
    const float p = param[i] - lr * (mhat / (sqrtf(vhat) + eps) + wd * param[i]);
    m[i] = pinned ? 0.0f : mi;
    v[i] = pinned ? 0.0f : vi;
    param[i] = pinned ? 0.0f : p;
}

void adamw_update(float *param, const float *grad, float *m, float *v, const float *mask,
                  size_t n, float lr, const adamw_config *cfg, int t) {
    const float b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps, wd = cfg->weight_decay;
    const float c1 = bias_correction(b1, t), c2 = bias_correction(b2, t);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        adamw_element(param, grad[i], m, v, mask != NULL && mask[i] == 0.0f, i, lr, b1, b2, eps,
                      wd, c1, c2);
}

/* One tensor's share of the fused step, inside the caller's parallel region (its omp for
 * does not wait). scale_grad and masked are constants where it is inlined, so each of the
 * four loops is straight-line code. */
static inline void adamw_tensor_step(const adamw_tensor *x, int scale_grad, int masked,
                                     float grad_factor, float lr, float b1, float b2,
                                     float eps) {
    const float c1 = bias_correction(b1, x->t), c2 = bias_correction(b2, x->t);
    float *restrict param = x->param, *restrict grad = x->grad, *restrict m = x->m,
                    *restrict v = x->v;
    const float *restrict mask = x->mask;
    const float wd = x->weight_decay;
#pragma omp for schedule(static) nowait
    for (size_t i = 0; i < x->n; i++) {
        float g = grad[i];
        if (scale_grad) grad[i] = g = g * grad_factor; /* as grad_scale */
        adamw_element(param, g, m, v, masked && mask[i] == 0.0f, i, lr, b1, b2, eps, wd, c1, c2);
    }
}

void adamw_update_many(const adamw_tensor *ts, int count, float grad_factor, float lr,
                       const adamw_config *cfg) {
    const float b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps;
    const int scale_grad = grad_factor != 1.0f;
    /* One team for every tensor: each thread takes its static share of each tensor and goes
     * on to the next without waiting (nowait); elementwise, so the split changes nothing. */
#pragma omp parallel
    for (int k = 0; k < count; k++) {
        const adamw_tensor *x = &ts[k];
        const int masked = x->mask != NULL;
        if (scale_grad && masked) adamw_tensor_step(x, 1, 1, grad_factor, lr, b1, b2, eps);
        else if (scale_grad) adamw_tensor_step(x, 1, 0, grad_factor, lr, b1, b2, eps);
        else if (masked) adamw_tensor_step(x, 0, 1, grad_factor, lr, b1, b2, eps);
        else adamw_tensor_step(x, 0, 0, grad_factor, lr, b1, b2, eps);
    }
}

static double squares_partial(const void *ctx, size_t i0, size_t i1) {
    const float *g = ctx;
    double s = 0.0;
    for (size_t i = i0; i < i1; i++) s += (double)g[i] * g[i];
    return s;
}

double grad_sum_squares(const float *grad, size_t n) {
    return pl_sum_chunked(n, ELEMS_PER_CHUNK, squares_partial, grad);
}

static size_t chunks_of(size_t n) { return (n + ELEMS_PER_CHUNK - 1) / ELEMS_PER_CHUNK; }

size_t grad_sum_squares_chunks(const adamw_tensor *ts, int count) {
    size_t total = 0;
    for (int k = 0; k < count; k++) total += chunks_of(ts[k].n);
    return total;
}

double grad_sum_squares_many(const adamw_tensor *ts, int count, double *partials) {
#pragma omp parallel
    {
        size_t first = 0; /* every thread walks the same offsets */
        for (int k = 0; k < count; k++) {
            const size_t n = ts[k].n, chunks = chunks_of(n);
#pragma omp for schedule(static) nowait
            for (size_t ch = 0; ch < chunks; ch++) {
                const size_t i0 = ch * ELEMS_PER_CHUNK;
                partials[first + ch] = squares_partial(ts[k].grad, i0, i0 + ELEMS_PER_CHUNK < n ? i0 + ELEMS_PER_CHUNK : n);
            }
            first += chunks;
        }
    }
    /* Each tensor's chunks added in order from 0, as pl_sum_chunked does, then the tensors'
     * sums in order, as a loop over grad_sum_squares does. */
    double sq = 0.0;
    size_t at = 0;
    for (int k = 0; k < count; k++) {
        double t = 0.0;
        for (size_t ch = 0, chunks = chunks_of(ts[k].n); ch < chunks; ch++) t += partials[at++];
        sq += t;
    }
    return sq;
}

float grad_clip_factor(double total_sq, float max_norm) {
    if (!(max_norm > 0.0f) || !isfinite(total_sq)) return 1.0f;
    const double norm = sqrt(total_sq);
    return norm > max_norm ? (float)(max_norm / norm) : 1.0f;
}

void grad_scale(float *grad, size_t n, float factor) {
    if (factor == 1.0f) return;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) grad[i] *= factor;
}

float lr_schedule(int step, int total, int warmup, float lr_max, float lr_min) {
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (total <= warmup) return lr_max;
    double progress = (double)(step - warmup) / (double)(total - warmup);
    if (progress > 1.0) progress = 1.0;
    const double pi = 3.14159265358979323846;
    return (float)(lr_min + 0.5 * (lr_max - lr_min) * (1.0 + cos(pi * progress)));
}
