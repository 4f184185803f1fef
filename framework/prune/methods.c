/* methods.c - the pruning methods' table (see methods.h). */
#include "prune/methods.h"

#include "prune/sparsegpt.h"
#include "prune/wanda.h"

static pl_status layer_magnitude(float *w, float *mask, int rows, int cols, const prune_stats *stats,
                                 const prune_config *cfg, const prune_rule *rule, pl_error *err) {
    (void)stats, (void)cfg;
    return prune_layer_magnitude(w, mask, rows, cols, rule, err);
}

static pl_status layer_wanda(float *w, float *mask, int rows, int cols, const prune_stats *stats,
                             const prune_config *cfg, const prune_rule *rule, pl_error *err) {
    (void)cfg;
    return prune_layer_wanda(w, mask, rows, cols, stats->sumsq, stats->tokens, rule, err);
}

static pl_status layer_sparsegpt(float *w, float *mask, int rows, int cols, const prune_stats *stats,
                                 const prune_config *cfg, const prune_rule *rule, pl_error *err) {
    const sparsegpt_options opt = {cfg->sparsegpt_block, cfg->sparsegpt_damp, 6};
    return prune_layer_sparsegpt(w, mask, rows, cols, stats->xtx, stats->tokens, &opt, rule, err);
}

const prune_method_info PRUNE_METHODS[PRUNE_METHOD_COUNT] = {
    [PRUNE_MAGNITUDE] = {"magnitude", .structured = true, .layer = layer_magnitude},
    [PRUNE_WANDA] = {"wanda", .calibrates = true, .structured = true, .layer = layer_wanda},
    [PRUNE_SPARSEGPT] = {"sparsegpt", .calibrates = true, .hessian = true, .updates_kept_weights = true,
                         .layer = layer_sparsegpt},
};
