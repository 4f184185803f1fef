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

/* One tensor of a whole-model optimizer step. */
typedef struct {
    float *param, *grad, *m, *v;
    const float *mask;  /* NULL: nothing pinned */
    size_t n;
    float weight_decay; /* this tensor's (0 for the undecayed ones) */
    int t;              /* its 1-based AdamW step (bias correction) */
} adamw_tensor;

/* How many partial sums grad_sum_squares_many needs for these tensors. */
size_t grad_sum_squares_chunks(const adamw_tensor *ts, int count);

/* Σ g² over every tensor's gradient, the same number as adding grad_sum_squares of each
 * tensor in order (each summed in the same chunks in the same order), computed in one
 * parallel region; partials holds grad_sum_squares_chunks(ts, count) doubles. */
double grad_sum_squares_many(const adamw_tensor *ts, int count, double *partials);

/* Scales every gradient by grad_factor (stored back, as grad_scale does; 1 leaves it) and
 * takes one AdamW step on every tensor, giving exactly what grad_scale and adamw_update
 * tensor by tensor give, in one parallel region instead of two per tensor. */
void adamw_update_many(const adamw_tensor *ts, int count, float grad_factor, float lr,
                       const adamw_config *cfg);

/* Linear warm-up over warmup steps to lr_max, then cosine decay to lr_min at total steps.
 * step is 0-based. */
float lr_schedule(int step, int total, int warmup, float lr_max, float lr_min);

#endif
