/* wanda.c - magnitude and Wanda pruning of one linear layer (see wanda.h). */
#include "prune/wanda.h"

#include "core/alloc.h"
#include "prune/score.h"

static pl_status select_and_apply(float *w, float *mask, int rows, int cols, double *score,
                                  const prune_rule *rule, pl_error *err) {
    pl_status st = prune_select(score, rows, cols, rule, mask, err);
    if (st == PL_OK) prune_apply(w, mask, (size_t)rows * cols);
    pl_free(score);
    return st;
}

pl_status prune_layer_magnitude(float *w, float *mask, int rows, int cols,
                                const prune_rule *rule, pl_error *err) {
    PL_TRY(prune_rule_check(rule, rows, cols, err));
    double *score = pl_alloc((size_t)rows * cols, sizeof *score, err);
    if (score == NULL) return PL_ERR_NOMEM;
    prune_score_magnitude(w, (size_t)rows * cols, score);
    return select_and_apply(w, mask, rows, cols, score, rule, err);
}

pl_status prune_layer_wanda(float *w, float *mask, int rows, int cols, const double *sumsq,
                            int64_t tokens, const prune_rule *rule, pl_error *err) {
    PL_TRY(prune_rule_check(rule, rows, cols, err));
    if (tokens <= 0)
        return PL_ERROR(err, PL_ERR_INVALID, "Wanda needs calibration tokens, got %lld",
                        (long long)tokens);
    double *score = pl_alloc((size_t)rows * cols, sizeof *score, err);
    if (score == NULL) return PL_ERR_NOMEM;
    prune_score_wanda(w, rows, cols, sumsq, tokens, score);
    return select_and_apply(w, mask, rows, cols, score, rule, err);
}
