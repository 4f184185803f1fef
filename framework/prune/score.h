/* score.h - importance scores of individual weights: the lower, the sooner removed. */
#ifndef PL_PRUNE_SCORE_H
#define PL_PRUNE_SCORE_H

#include <stddef.h>
#include <stdint.h>

/* score[i] = |w[i]|. */
void prune_score_magnitude(const float *w, size_t count, double *score);

/* Wanda: score[i,j] = |w[i,j]| · sqrt(sumsq[j] / tokens), the weight times the RMS of its
 * input over the calibration tokens (sumsq[j] = Σ_t x_tj²). tokens > 0. */
void prune_score_wanda(const float *w, int rows, int cols, const double *sumsq, int64_t tokens,
                       double *score);

#endif
