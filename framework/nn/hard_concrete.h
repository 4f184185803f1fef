/* hard_concrete.h - the hard-concrete distribution of L0 gates (Louizos et al., 2018), as
 * EfficientVLM and CoFi use it to learn which attention heads and MLP neurons to keep.
 *
 * A gate with parameter log_alpha (a), temperature beta, stretch limits gamma < 0 < 1 < zeta:
 *   u ~ U(0, 1)
 *   s  = sigmoid((ln u − ln(1 − u) + a) / beta)
 *   z  = min(1, max(0, s·(zeta − gamma) + gamma))          sampled while training
 *   dz/da = (zeta − gamma)·s·(1 − s)/beta where 0 < z < 1, else 0
 *   P(z != 0) = sigmoid(a − beta·ln(−gamma/zeta))            the expected L0 norm's term
 *   z_eval = min(1, max(0, sigmoid(a)·(zeta − gamma) + gamma))   the deterministic gate
 * A drop rate d initialises a = ln(1 − d) − ln(d). */
#ifndef PL_NN_HARD_CONCRETE_H
#define PL_NN_HARD_CONCRETE_H

#include <stddef.h>

typedef struct {
    float beta, gamma, zeta; /* 2/3, -0.1, 1.1 */
} hard_concrete;

static inline hard_concrete hard_concrete_default(void) { return (hard_concrete){2.0f / 3.0f, -0.1f, 1.1f}; }

/* z[i] and dz/da[i] (dz may be NULL) for uniform draws u[i] in (0, 1). */
void hard_concrete_sample(const hard_concrete *hc, const float *log_alpha, const float *u,
                          float *z, float *dz, size_t n);
/* P(z != 0) per gate, and its derivative with respect to log_alpha (dp may be NULL). */
void hard_concrete_nonzero(const hard_concrete *hc, const float *log_alpha, float *p, float *dp,
                           size_t n);
/* The deterministic gate z_eval. */
void hard_concrete_eval(const hard_concrete *hc, const float *log_alpha, float *z, size_t n);
/* log_alpha of a gate whose drop rate is d in (0, 1). */
float hard_concrete_log_alpha_of_drop(float d);

/* The Lagrangian that holds an expected sparsity s to a target t: the penalty
 *   l1·(s − t) + l2·(s − t)²
 * is minimised over the gates and maximised over l1, l2 (gradient ascent), so the
 * multipliers grow while s misses t. Returns the penalty; *d_s its derivative in s, and
 * *d_l1, *d_l2 the multipliers' (ascent) gradients (s − t) and (s − t)². */
double lagrangian_penalty(double l1, double l2, double s, double t, double *d_s, double *d_l1,
                          double *d_l2);

#endif
