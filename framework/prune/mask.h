/* mask.h - choosing which weights to remove, given one score per weight: unstructured
 * (per output row or per matrix) or N:M (N lowest of every M consecutive inputs of a row).
 *
 * A group always loses exactly its target count: the entries are ordered by (score, flat
 * index) and the first k go, so ties break towards the lower index, deterministically.
 * Masks are 0/1 floats; an entry already 0 on entry is treated as the lowest score of its
 * group (removed first) and stays 0 whatever the target. */
#ifndef PL_PRUNE_MASK_H
#define PL_PRUNE_MASK_H

#include <stddef.h>

#include "core/error.h"
#include "prune/prune.h"

typedef struct { /* how one matrix is pruned */
    double sparsity;   /* fraction removed (unstructured) */
    int n, m;          /* N:M; m = 0 for unstructured */
    prune_group group; /* unstructured comparison group */
} prune_rule;

typedef struct { /* one candidate for removal */
    double score;
    size_t index; /* into the mask */
} prune_cand;

/* round(fraction · count), halves rounded up: the exact number a group of count loses. */
size_t prune_target_count(double fraction, size_t count);

/* Sorts by (score, index) ascending. */
void prune_sort_cands(prune_cand *cand, size_t n);

/* Sorts by (score, index) ascending and zeros mask[cand[i].index] for i < k. */
void prune_lowest(prune_cand *cand, size_t n, size_t k, float *mask);

/* Checks the rule against a rows × cols matrix (N:M needs cols % M == 0). */
pl_status prune_rule_check(const prune_rule *rule, int rows, int cols, pl_error *err);

/* Updates mask (rows × cols, 0/1) from score (rows × cols, finite) under the rule. */
pl_status prune_select(const double *score, int rows, int cols, const prune_rule *rule,
                       float *mask, pl_error *err);

/* w ⊙= mask: pruned weights become exactly 0 (+0.0f). */
void prune_apply(float *w, const float *mask, size_t count);

#endif
