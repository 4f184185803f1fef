/* aggregate.c - mean, sample std and count; grouping runs by key columns (see aggregate.h). */
#include "io/aggregate.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Two passes (mean, then squared deviations: no cancellation far from zero) over the
 * values get(0..n-1, ctx), finite ones only. */
static pl_stats stats_by(double (*get)(int i, const void *ctx), int n, const void *ctx) {
    pl_stats s = {NAN, NAN, 0};
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double v = get(i, ctx);
        if (isfinite(v)) sum += v, s.n++;
    }
    if (s.n == 0) return s;
    s.mean = sum / s.n;
    if (s.n < 2) return s;
    double ss = 0;
    for (int i = 0; i < n; i++) {
        double v = get(i, ctx);
        if (isfinite(v)) ss += (v - s.mean) * (v - s.mean);
    }
    s.std = sqrt(ss / (s.n - 1));
    return s;
}

static double get_array(int i, const void *ctx) { return ((const double *)ctx)[i]; }

pl_stats pl_stats_of(const double *v, int n) { return stats_by(get_array, n, v); }

static void merge_pass(int *v, int *tmp, int lo, int hi, int (*cmp)(int, int, const void *), const void *ctx) {
    if (hi - lo < 2) return;
    int mid = lo + (hi - lo) / 2;
    merge_pass(v, tmp, lo, mid, cmp, ctx);
    merge_pass(v, tmp, mid, hi, cmp, ctx);
    int i = lo, j = mid, k = lo;
    while (i < mid && j < hi) tmp[k++] = cmp(v[j], v[i], ctx) < 0 ? v[j++] : v[i++];
    while (i < mid) tmp[k++] = v[i++];
    while (j < hi) tmp[k++] = v[j++];
    memcpy(v + lo, tmp + lo, (size_t)(hi - lo) * sizeof *v);
}

bool pl_sort_ints(int *v, int n, int (*cmp)(int a, int b, const void *ctx), const void *ctx) {
    if (n < 2) return true;
    int *tmp = malloc((size_t)n * sizeof *tmp);
    if (tmp == NULL) return false;
    merge_pass(v, tmp, 0, n, cmp, ctx);
    free(tmp);
    return true;
}

int pl_results_key_cmp(const pl_results *r, int a, int b, const int *key_cols, int n_keys) {
    for (int k = 0; k < n_keys; k++) {
        int c = key_cols[k], d;
        int alias = c - r->alias_col;
        if (alias >= 0 && alias < r->n_aliases) {
            size_t ia = (size_t)a * r->n_aliases + alias, ib = (size_t)b * r->n_aliases + alias;
            d = pl_results_value_cmp(r->values[ia], r->shown[ia], r->values[ib], r->shown[ib]);
        } else if (c == 2) { /* seed */
            double x = pl_results_number(r, a, c), y = pl_results_number(r, b, c);
            d = x < y ? -1 : x > y;
        } else
            d = strcmp(pl_results_cell(r, a, c), pl_results_cell(r, b, c));
        if (d != 0) return d;
    }
    return 0;
}

typedef struct {
    const pl_results *r;
    const int *keys;
    int n_keys;
} key_ctx;

static int cmp_rows(int a, int b, const void *p) {
    const key_ctx *k = p;
    return pl_results_key_cmp(k->r, a, b, k->keys, k->n_keys);
}

pl_status pl_groups_make(const pl_results *r, const bool *keep, const int *key_cols, int n_keys, pl_groups *g,
                         pl_error *err) {
    memset(g, 0, sizeof *g);
    g->rows = pl_alloc((size_t)r->n_rows + 1, sizeof *g->rows, err);
    g->start = pl_alloc((size_t)r->n_rows + 2, sizeof *g->start, err);
    if (g->rows == NULL || g->start == NULL) {
        pl_groups_free(g);
        return PL_ERR_NOMEM;
    }
    int n = 0;
    for (int row = 0; row < r->n_rows; row++)
        if (keep == NULL || keep[row]) g->rows[n++] = row;
    key_ctx ctx = {r, key_cols, n_keys};
    if (!pl_sort_ints(g->rows, n, cmp_rows, &ctx)) {
        pl_groups_free(g);
        return PL_ERROR(err, PL_ERR_NOMEM, "out of memory sorting %d runs", n);
    }
    for (int i = 0; i < n; i++)
        if (i == 0 || cmp_rows(g->rows[i - 1], g->rows[i], &ctx) != 0) g->start[g->n_groups++] = i;
    g->start[g->n_groups] = n;
    return PL_OK;
}

void pl_groups_free(pl_groups *g) {
    pl_free(g->rows);
    pl_free(g->start);
    memset(g, 0, sizeof *g);
}

typedef struct {
    const pl_results *r;
    const int *rows;
    int col;
} column_ctx;

static double get_cell(int i, const void *p) {
    const column_ctx *c = p;
    return pl_results_number(c->r, c->rows[i], c->col);
}

void pl_groups_stats(const pl_results *r, const pl_groups *g, int col, pl_stats *out) {
    for (int k = 0; k < g->n_groups; k++) {
        column_ctx ctx = {r, g->rows + g->start[k], col};
        out[k] = stats_by(get_cell, g->start[k + 1] - g->start[k], &ctx);
    }
}

typedef struct {
    const pl_curve *curves;
    const int *curve_of; /* point -> curve */
    const int *index_of; /* point -> index in its curve */
} points_ctx;

static double point_step(const points_ctx *p, int i) { return p->curves[p->curve_of[i]].step[p->index_of[i]]; }

static int cmp_points(int a, int b, const void *ctx) {
    double x = point_step(ctx, a), y = point_step(ctx, b);
    return x < y ? -1 : x > y;
}

typedef struct {
    const points_ctx *p;
    const int *order;
} run_ctx;

static double get_point(int i, const void *ctx) {
    const run_ctx *r = ctx;
    int k = r->order[i];
    return r->p->curves[r->p->curve_of[k]].value[r->p->index_of[k]];
}

pl_status pl_curves_stats(const pl_curve *curves, int n, double **steps, pl_stats **stats, int *n_steps,
                          pl_error *err) {
    *steps = NULL, *stats = NULL, *n_steps = 0;
    size_t total = 0;
    for (int c = 0; c < n; c++) total += (size_t)curves[c].n;
    if (total > (size_t)1 << 30) return PL_ERROR(err, PL_ERR_INVALID, "too many curve points (%zu)", total);
    int *curve_of = pl_alloc(total + 1, sizeof *curve_of, err), *index_of = pl_alloc(total + 1, sizeof *index_of, err);
    int *order = pl_alloc(total + 1, sizeof *order, err);
    *steps = pl_alloc(total + 1, sizeof **steps, err);
    *stats = pl_alloc(total + 1, sizeof **stats, err);
    pl_status st = PL_OK;
    if (curve_of == NULL || index_of == NULL || order == NULL || *steps == NULL || *stats == NULL) st = PL_ERR_NOMEM;
    points_ctx p = {curves, curve_of, index_of};
    if (st == PL_OK) {
        int k = 0;
        for (int c = 0; c < n; c++)
            for (int i = 0; i < curves[c].n; i++) curve_of[k] = c, index_of[k] = i, order[k] = k, k++;
        if (!pl_sort_ints(order, k, cmp_points, &p)) st = PL_ERROR(err, PL_ERR_NOMEM, "out of memory sorting curves");
        for (int i = 0; st == PL_OK && i < k;) {
            int j = i;
            while (j < k && point_step(&p, order[j]) == point_step(&p, order[i])) j++;
            run_ctx rc = {&p, order + i};
            (*steps)[*n_steps] = point_step(&p, order[i]);
            (*stats)[(*n_steps)++] = stats_by(get_point, j - i, &rc);
            i = j;
        }
    }
    pl_free(curve_of);
    pl_free(index_of);
    pl_free(order);
    if (st != PL_OK) {
        pl_free(*steps);
        pl_free(*stats);
        *steps = NULL, *stats = NULL, *n_steps = 0;
    }
    return st;
}

void pl_average_init(pl_average_report *a) {
    memset(a, 0, sizeof *a);
    a->fewest = INT_MAX;
}

void pl_average_note_stats(pl_average_report *a, pl_stats s) {
    if (s.n < a->fewest) a->fewest = s.n;
    if (s.n > a->most) a->most = s.n;
}

static bool is_key(const int *key_cols, int n_keys, int col) {
    for (int k = 0; k < n_keys; k++)
        if (key_cols[k] == col) return true;
    return false;
}

/* Appends column a's distinct values within group k (up to three) to the report. */
static void note_column(pl_average_report *a, const pl_results *r, const pl_groups *g, int k, int alias) {
    char values[200] = "";
    int shown = 0;
    for (int i = g->start[k]; i < g->start[k + 1] && shown < 4; i++) {
        const char *v = r->shown[(size_t)g->rows[i] * r->n_aliases + alias];
        bool seen = false;
        for (int j = g->start[k]; j < i && !seen; j++)
            seen = strcmp(r->shown[(size_t)g->rows[j] * r->n_aliases + alias], v) == 0;
        if (seen) continue;
        size_t used = strlen(values);
        snprintf(values + used, sizeof values - used, "%s%s", shown ? ", " : "", shown < 3 ? v : "...");
        shown++;
    }
    size_t used = strlen(a->mixed);
    snprintf(a->mixed + used, sizeof a->mixed - used, "%s%s (%s)", a->n_mixed ? "; " : "", r->aliases[alias],
             values[0] ? values : "\"\"");
    a->n_mixed++;
}

void pl_average_note_groups(pl_average_report *a, const pl_results *r, const pl_groups *g, const int *key_cols,
                            int n_keys) {
    for (int alias = 0; alias < r->n_aliases; alias++) {
        if (is_key(key_cols, n_keys, r->alias_col + alias)) continue;
        for (int k = 0; k < g->n_groups; k++) {
            bool differs = false;
            const char *first = r->shown[(size_t)g->rows[g->start[k]] * r->n_aliases + alias];
            for (int i = g->start[k] + 1; i < g->start[k + 1] && !differs; i++)
                differs = strcmp(r->shown[(size_t)g->rows[i] * r->n_aliases + alias], first) != 0;
            if (differs) {
                note_column(a, r, g, k, alias);
                break;
            }
        }
    }
}

void pl_average_describe(const pl_average_report *a, const char *unit, char *out, size_t cap) {
    if (a->fewest > a->most) snprintf(out, cap, "no %s averages any run", unit);
    else if (a->fewest == a->most)
        snprintf(out, cap, "each %s averages %d run%s", unit, a->most, a->most == 1 ? "" : "s");
    else snprintf(out, cap, "%ss average %d to %d runs", unit, a->fewest, a->most);
}
