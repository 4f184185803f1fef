/* methods.h - the pruning methods, one table line each: what the rest of prunelab asks
 * about a method (does it calibrate, does it rewrite the weights it keeps, has it a
 * structured form, how does it prune one layer) is a field here, never a comparison of
 * names. The line's place is the method's prune_method value; its name is the method's
 * prune.method value, in the order of the key's choices. */
#ifndef PL_PRUNE_METHODS_H
#define PL_PRUNE_METHODS_H

#include <stdbool.h>

#include "prune/mask.h"
#include "prune/prune.h"
#include "prune/stats.h"

/* Prunes one layer: w [rows, cols] becomes W ⊙ M under rule (the method may also update
 * the kept weights), mask is updated; stats hold the layer's calibration inputs (unused
 * by a method that does not calibrate). */
typedef pl_status (*prune_layer_fn)(float *w, float *mask, int rows, int cols, const prune_stats *stats,
                                    const prune_config *cfg, const prune_rule *rule, pl_error *err);

typedef struct {
    const char *name;          /* its prune.method value */
    bool calibrates;           /* scores read the calibration activations (sum of x_j^2) */
    bool hessian;              /* ... and their second moment X^T X */
    bool updates_kept_weights; /* rewrites the weights it keeps: the unmasked model is then no
                                  longer the dense one (no 'same' teacher after it) */
    bool structured;           /* scores whole heads and neurons too (pattern: structured) */
    prune_layer_fn layer;
} prune_method_info;

enum { PRUNE_METHOD_COUNT = PRUNE_SPARSEGPT + 1 };
extern const prune_method_info PRUNE_METHODS[PRUNE_METHOD_COUNT];

#endif
