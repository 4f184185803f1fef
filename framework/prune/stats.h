/* stats.h - what a layer's calibration inputs leave behind for pruning, accumulated in
 * double over any number of batches: Σ_t x_tj² per input column (Wanda) and, when asked
 * for, the Gram matrix Σ_t x_t x_tᵀ (SparseGPT's Hessian up to the factor 2/n). */
#ifndef PL_PRUNE_STATS_H
#define PL_PRUNE_STATS_H

#include <stdint.h>

#include "core/error.h"

typedef struct {
    int in;         /* input width */
    int64_t tokens; /* rows accumulated */
    double *sumsq;  /* [in] */
    double *xtx;    /* [in, in] row-major, or NULL */
} prune_stats;

pl_status prune_stats_init(prune_stats *s, int in, int want_xtx, pl_error *err);
void prune_stats_free(prune_stats *s);

/* Adds the n rows of x [n, in]. The result does not depend on the thread count. */
pl_status prune_stats_add(prune_stats *s, const float *x, int n, pl_error *err);

#endif
