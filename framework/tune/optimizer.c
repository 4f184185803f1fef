/* optimizer.c - AdamW with decoupled weight decay and masks, deterministic global gradient
 * norm and clipping, and the warm-up + cosine learning-rate schedule. */
#include "tune/optimizer.h"

#include <math.h>

#include "core/reduce.h"

enum { ELEMS_PER_CHUNK = 4096 }; /* items per partial sum of the gradient norm */

void adamw_update(float *param, const float *grad, float *m, float *v, const float *mask,
                  size_t n, float lr, const adamw_config *cfg, int t) {
    const float b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps, wd = cfg->weight_decay;
    /* Bias corrections 1 − β^t, computed in double so large t stays accurate. */
    const float c1 = (float)(1.0 - pow((double)b1, (double)t));
    const float c2 = (float)(1.0 - pow((double)b2, (double)t));
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        if (mask != NULL && mask[i] == 0.0f) { /* pruned: weight and moments pinned at 0 */
            param[i] = 0.0f;
            m[i] = 0.0f;
            v[i] = 0.0f;
            continue;
        }
        const float g = grad[i];
        const float mi = b1 * m[i] + (1.0f - b1) * g;
        const float vi = b2 * v[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        v[i] = vi;
        const float mhat = mi / c1, vhat = vi / c2;
        /* p ← p − lr·(m̂/(√v̂ + ε) + wd·p): decay acts on p itself, not through the moments */
        param[i] -= lr * (mhat / (sqrtf(vhat) + eps) + wd * param[i]);
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
