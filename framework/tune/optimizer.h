/* optimizer.h - AdamW, global-norm gradient clipping and the learning-rate schedule. */
#ifndef PL_TUNE_OPTIMIZER_H
#define PL_TUNE_OPTIMIZER_H

#include <stddef.h>

typedef struct {
    float beta1, beta2, eps, weight_decay;
} adamw_config;

/* One AdamW step (decoupled weight decay, bias correction) on n parameters at 1-based step
 * t with learning rate lr. weight_decay is applied as p −= lr·wd·p. Where mask is non-NULL
 * and mask[i] == 0 the parameter, its moments and gradient are left at zero. */
void adamw_update(float *param, const float *grad, float *m, float *v, const float *mask,
                  size_t n, float lr, const adamw_config *cfg, int t);

/* Σ g² over n values, summed in fixed-size chunks in a fixed order (deterministic). */
double grad_sum_squares(const float *grad, size_t n);

/* Scales grads so their global norm is at most max_norm; total_sq = Σ g² over all of them.
 * Returns the factor applied (1 when no clipping). */
float grad_clip_factor(double total_sq, float max_norm);
void grad_scale(float *grad, size_t n, float factor);

/* Linear warm-up over warmup steps to lr_max, then cosine decay to lr_min at total steps.
 * step is 0-based. */
float lr_schedule(int step, int total, int warmup, float lr_max, float lr_min);

#endif
