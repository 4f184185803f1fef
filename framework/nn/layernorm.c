/* layernorm.c - layer normalisation over the last dimension: forward keeps each row's mean
 * and 1/std; backward accumulates input, weight and bias gradients. */
#include "nn/layernorm.h"

#include <math.h>
#include <stddef.h>

enum { COL_BLOCK = 16 }; /* column blocks owned by one thread in the weight/bias reduction */

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int n, int c) {
    const float eps = 1e-5f;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *x = inp + (long)i * c;
        float *y = out + (long)i * c;
        float mu = 0.0f;
        for (int j = 0; j < c; j++) mu += x[j];
        mu /= (float)c;
        float var = 0.0f; /* two-pass: no cancellation from E[x²] − E[x]² */
        for (int j = 0; j < c; j++) {
            const float d = x[j] - mu;
            var += d * d;
        }
        var /= (float)c;
        const float rs = 1.0f / sqrtf(var + eps);
        for (int j = 0; j < c; j++) {
            const float nrm = (x[j] - mu) * rs;
            y[j] = nrm * weight[j] + (bias != NULL ? bias[j] : 0.0f);
        }
        if (mean != NULL) mean[i] = mu;
        if (rstd != NULL) rstd[i] = rs;
    }
}

/* dweight[j] += Σ_i dout[i,j]·x̂[i,j], dbias[j] += Σ_i dout[i,j]; each thread owns blocks of
 * columns and sums over rows in order, so the result does not depend on the thread count. */
static void affine_backward(float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *mean, const float *rstd, int n, int c) {
    const int blocks = (c + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < blocks; blk++) {
        const int j0 = blk * COL_BLOCK;
        const int width = c - j0 < COL_BLOCK ? c - j0 : COL_BLOCK;
        float aw[COL_BLOCK] = {0}, ab[COL_BLOCK] = {0};
        for (int i = 0; i < n; i++) {
            const float *x = inp + (long)i * c + j0, *dy = dout + (long)i * c + j0;
            const float mu = mean[i], rs = rstd[i];
            for (int j = 0; j < width; j++) {
                aw[j] += dy[j] * ((x[j] - mu) * rs);
                ab[j] += dy[j];
            }
        }
        for (int j = 0; j < width; j++) {
            if (dweight != NULL) dweight[j0 + j] += aw[j];
            if (dbias != NULL) dbias[j0 + j] += ab[j];
        }
    }
}

void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const float *mean,
                        const float *rstd, int n, int c) {
    /* x̂ = (x − μ)·r, y = x̂·w + b, g = dy·w. With μ and r depending on the whole row:
     * dx = r·(g − mean(g) − x̂·mean(g·x̂)). */
    if (dinp != NULL) {
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            const float *x = inp + (long)i * c, *dy = dout + (long)i * c;
            float *dx = dinp + (long)i * c;
            const float mu = mean[i], rs = rstd[i];
            float sum_g = 0.0f, sum_gx = 0.0f;
            for (int j = 0; j < c; j++) {
                const float gj = dy[j] * weight[j];
                sum_g += gj;
                sum_gx += gj * ((x[j] - mu) * rs);
            }
            const float mg = sum_g / (float)c, mgx = sum_gx / (float)c;
            for (int j = 0; j < c; j++) {
                const float xh = (x[j] - mu) * rs;
                dx[j] += rs * (dy[j] * weight[j] - mg - xh * mgx);
            }
        }
    }
    if (dweight != NULL || dbias != NULL)
        affine_backward(dweight, dbias, dout, inp, mean, rstd, n, c);
}
