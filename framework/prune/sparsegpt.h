/* sparsegpt.h - SparseGPT (Frantar & Alistarh 2023) on one linear layer: removes weights
 * by their optimal-brain-surgeon saliency and updates the kept weights of each row so the
 * layer's output on the calibration inputs changes as little as possible. */
#ifndef PL_PRUNE_SPARSEGPT_H
#define PL_PRUNE_SPARSEGPT_H

#include <stdint.h>

#include "prune/mask.h"

typedef struct {
    int block;      /* columns per block (mask chosen per block; lazy updates between) */
    double damp;    /* λ = damp · mean(diag H), multiplied by 10 per failed Cholesky */
    int retries;    /* further attempts after a failed factorisation */
} sparsegpt_options;

/* w [rows, cols] (out × in) becomes the pruned, updated weights (removed ones exactly 0);
 * mask [rows, cols] 0/1 is updated. xtx [cols, cols] = Σ_t x_t x_tᵀ over `tokens` inputs.
 * Unstructured row groups prune exactly round(s·cols) per row, matrix groups exactly
 * round(s·rows·cols); N:M exactly N of every M. Thread-count independent. */
pl_status prune_layer_sparsegpt(float *w, float *mask, int rows, int cols, const double *xtx,
                                int64_t tokens, const sparsegpt_options *opt,
                                const prune_rule *rule, pl_error *err);

#endif
