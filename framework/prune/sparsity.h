/* sparsity.h - measuring what pruning left: zeros per prunable matrix, per module and
 * overall, non-zero parameter counts, and the invariant that a masked weight is exactly
 * zero in params. A weight counts as zero when its effective value W ⊙ M is 0 (M = 1 when
 * the model has no masks). Sparsity = zeros / weights of the prunable tensors. */
#ifndef PL_PRUNE_SPARSITY_H
#define PL_PRUNE_SPARSITY_H

#include <stdint.h>

#include "core/metrics.h"
#include "model/vlm.h"

typedef struct {
    int64_t zeros[MODULE_COUNT], weights[MODULE_COUNT]; /* prunable tensors per module */
    int64_t prunable, nonzero_prunable;                  /* all prunable tensors */
    int64_t params, nonzero_params;                      /* every parameter */
} sparsity_summary;

typedef struct { /* one prunable matrix */
    int tensor;  /* index in the parameter layout (name: m->index.layout.tensors[i].name) */
    pl_module module;
    int64_t zeros, count;
} sparsity_matrix;

void sparsity_measure(const vlm *m, sparsity_summary *out);
/* zeros / weights of a module's prunable tensors (0 when it has none). */
double sparsity_module(const sparsity_summary *s, pl_module mod);
double sparsity_overall(const sparsity_summary *s);

/* Fills out (may be NULL to count) with every prunable matrix in layout order; returns the
 * count. */
int sparsity_matrices(const vlm *m, sparsity_matrix *out);

/* Checks what the forward pass computes with: the effective weight (W⊙M through
 * linear_effective_weight) must be exactly 0 wherever the mask is 0. PL_ERR_INTERNAL names
 * the first tensor and element that is not (e.g. a NaN or infinite W under a zero mask);
 * PL_OK when masks are off or the invariant holds. params keep their dense values under
 * the mask (see prune.h), so this is the check that matters. */
pl_status sparsity_check_masked_zero(const vlm *m, pl_error *err);

/* Summary metrics: sparsity_vision, sparsity_bridge, sparsity_language, sparsity_overall,
 * nonzero_params, params, nonzero_prunable, prunable_params; with per_matrix also
 * sparsity.<tensor name> for every prunable matrix. */
/* Only sparsity_<module><suffix> and sparsity_overall<suffix> (e.g. suffix "_premerge"). */
pl_status sparsity_report_modules(const vlm *m, const pl_metrics_sink *sink, const char *suffix,
                                  pl_error *err);

pl_status sparsity_report(const vlm *m, const pl_metrics_sink *sink, int per_matrix,
                          pl_error *err);

#endif
