/* wanda.h - one-shot pruning of one linear layer by magnitude or Wanda scores: score,
 * select under the rule, zero the removed weights. The kept weights are not changed. */
#ifndef PL_PRUNE_WANDA_H
#define PL_PRUNE_WANDA_H

#include <stdint.h>

#include "prune/mask.h"

/* w: [rows, cols] (out × in) updated to W ⊙ M; mask: [rows, cols] 0/1, updated. */
pl_status prune_layer_magnitude(float *w, float *mask, int rows, int cols,
                                const prune_rule *rule, pl_error *err);

/* sumsq[cols] = Σ_t x_tj² of the layer's inputs over `tokens` calibration tokens. */
pl_status prune_layer_wanda(float *w, float *mask, int rows, int cols, const double *sumsq,
                            int64_t tokens, const prune_rule *rule, pl_error *err);

#endif
