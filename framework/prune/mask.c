/* mask.c - selecting the weights to remove from their scores (see mask.h). */
#include "prune/mask.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "prune/par.h"

size_t prune_target_count(double fraction, size_t count) {
    double k = floor(fraction * (double)count + 0.5);
    if (k <= 0.0) return 0;
    return k >= (double)count ? count : (size_t)k;
}

static int cand_cmp(const void *pa, const void *pb) {
    const prune_cand *a = pa, *b = pb;
    if (a->score < b->score) return -1;
    if (a->score > b->score) return 1;
    return (a->index > b->index) - (a->index < b->index);
}

void prune_sort_cands(prune_cand *cand, size_t n) { qsort(cand, n, sizeof *cand, cand_cmp); }

void prune_lowest(prune_cand *cand, size_t n, size_t k, float *mask) {
    if (k == 0) return;
    prune_sort_cands(cand, n);
    for (size_t i = 0; i < k && i < n; i++) mask[cand[i].index] = 0.0f;
}

pl_status prune_rule_check(const prune_rule *rule, int rows, int cols, pl_error *err) {
    if (rows <= 0 || cols <= 0)
        return PL_ERROR(err, PL_ERR_INVALID, "cannot prune a %d x %d matrix", rows, cols);
    if (rule->m > 0) {
        if (rule->n <= 0 || rule->n >= rule->m)
            return PL_ERROR(err, PL_ERR_CONFIG, "an N:M pattern needs 0 < N < M, got %d:%d",
                            rule->n, rule->m);
        if (cols % rule->m != 0)
            return PL_ERROR(err, PL_ERR_CONFIG,
                            "pattern %d:%d needs the input width to be a multiple of %d, got %d",
                            rule->n, rule->m, rule->m, cols);
        return PL_OK;
    }
    if (!(rule->sparsity >= 0.0 && rule->sparsity < 1.0))
        return PL_ERROR(err, PL_ERR_CONFIG, "sparsity %g is outside [0, 1)", rule->sparsity);
    return PL_OK;
}

/* Candidates of entries [first, first + n) of a row-major matrix; masked entries first. */
static void fill_cands(prune_cand *c, const double *score, const float *mask, size_t first,
                       size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t at = first + i;
        c[i].score = mask[at] == 0.0f ? -INFINITY : score[at];
        c[i].index = at;
    }
}

pl_status prune_select(const double *score, int rows, int cols, const prune_rule *rule,
                       float *mask, pl_error *err) {
    PL_TRY(prune_rule_check(rule, rows, cols, err));
    const size_t total = (size_t)rows * (size_t)cols;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(score[i]))
            return PL_ERROR(err, PL_ERR_NUMERIC, "pruning score %zu (row %zu) is not finite", i,
                            i / (size_t)cols);
    if (rule->m == 0 && rule->group == PRUNE_GROUP_MATRIX) { /* one group: the matrix */
        prune_cand *c = pl_alloc(total, sizeof *c, err);
        if (c == NULL) return PL_ERR_NOMEM;
        fill_cands(c, score, mask, 0, total);
        prune_lowest(c, total, prune_target_count(rule->sparsity, total), mask);
        pl_free(c);
        return PL_OK;
    }
    /* Row groups or N:M: rows are independent, each thread owns whole rows. */
    const int threads = omp_get_max_threads();
    prune_cand *buf = pl_alloc((size_t)threads * (size_t)cols, sizeof *buf, err);
    if (buf == NULL) return PL_ERR_NOMEM;
    const size_t width = rule->m > 0 ? (size_t)rule->m : (size_t)cols;
    const size_t k = rule->m > 0 ? (size_t)rule->n : prune_target_count(rule->sparsity, (size_t)cols);
#pragma omp parallel num_threads(threads) if (total * 4 > PRUNE_PAR_MIN)
    {
        prune_cand *c = buf + (size_t)omp_get_thread_num() * (size_t)cols;
#pragma omp for schedule(static)
        for (int r = 0; r < rows; r++)
            for (size_t g = 0; g < (size_t)cols; g += width) {
                fill_cands(c, score, mask, (size_t)r * cols + g, width);
                prune_lowest(c, width, k, mask);
            }
    }
    pl_free(buf);
    return PL_OK;
}

void prune_apply(float *w, const float *mask, size_t count) {
#pragma omp parallel for schedule(static) if (count > PRUNE_PAR_MIN)
    for (size_t i = 0; i < count; i++)
        if (mask[i] == 0.0f) w[i] = 0.0f;
}
