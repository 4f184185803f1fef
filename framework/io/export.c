/* export.c - long and aggregated TSV tables of an experiment's results (see export.h). */
#include "io/export.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "io/h5_curve.h"
#include "io/tsv.h"

pl_status pl_export_parse_agg(const char *text, unsigned *out, pl_error *err) {
    *out = 0;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 4 && strncmp(p, "mean", 4) == 0) *out |= PL_AGG_MEAN;
        else if (n == 3 && strncmp(p, "std", 3) == 0) *out |= PL_AGG_STD;
        else if (n == 1 && p[0] == 'n') *out |= PL_AGG_N;
        else
            return PL_ERROR(err, PL_ERR_INVALID, "--agg: '%.*s' is not one of mean, std, n", (int)n, p);
        p += n + (p[n] == ',');
    }
    if (*out == 0) return PL_ERROR(err, PL_ERR_INVALID, "--agg: name at least one of mean, std, n");
    return PL_OK;
}

static pl_status unknown(pl_error *err, const char *what, const char *name, char *const *names, int n) {
    char list[700] = "";
    size_t used = 0;
    for (int i = 0; i < n && used + 1 < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    return PL_ERROR(err, PL_ERR_INVALID, "no %s '%s' in index.tsv (there: %s)", what, name, n ? list : "none");
}

pl_status pl_export_metric_col(const pl_results *r, const char *name, int *col, pl_error *err) {
    for (int m = 0; m < r->n_metrics; m++)
        if (strcmp(r->metrics[m], name) == 0) return *col = r->metric_col + m, PL_OK;
    return unknown(err, "metric", name, r->metrics, r->n_metrics);
}

pl_status pl_export_alias_col(const pl_results *r, const char *name, int *col, pl_error *err) {
    int a = pl_results_alias(r, name);
    if (a < 0) return unknown(err, "alias", name, r->aliases, r->n_aliases);
    *col = r->alias_col + a;
    return PL_OK;
}

pl_status pl_export_select(const pl_results *r, const char *where, cfg_pos pos, bool *keep, int *skipped,
                           pl_error *err) {
    int left = 0;
    for (int row = 0; row < r->n_rows; row++) {
        keep[row] = pl_results_completed(r, row);
        left += !keep[row];
    }
    if (skipped) *skipped = left;
    return pl_results_filter(r, where, pos, keep, err);
}

void pl_export_alias_header(pl_tsv_writer *w, const char *alias) {
    static const char *const fixed[] = {"metric", "step", "value", "mean", "std", "n", "series", "series_index"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(alias, fixed[i]) == 0) {
            char buf[64];
            snprintf(buf, sizeof buf, "axis:%s", alias);
            pl_tsv_text(w, buf);
            return;
        }
    pl_tsv_text(w, alias);
}

char *pl_export_h5_path(const pl_results *r, int row, pl_error *err) {
    const char *id = pl_results_cell(r, row, 0);
    size_t n = strlen(r->dir) + strlen(id) + sizeof "/runs//metrics.h5";
    char *path = pl_alloc(n, 1, err);
    if (path) snprintf(path, n, "%s/runs/%s/metrics.h5", r->dir, id);
    return path;
}

/* ---- the table ---- */

typedef struct {
    const pl_results *r;
    const pl_export_opts *o;
    int *metric_cols, n_metrics;
    int *key_cols, n_keys;
    bool *keep;
    pl_groups groups;
    pl_tsv_writer w;
    const char *name;
    pl_average_report avg;
} exporter;

static void run_columns(exporter *x, int row) {
    const pl_results *r = x->r;
    pl_tsv_text(&x->w, pl_results_cell(r, row, 0));
    pl_tsv_text(&x->w, pl_results_cell(r, row, 1));
    pl_tsv_text(&x->w, pl_results_cell(r, row, 2));
    for (int a = 0; a < r->n_aliases; a++) pl_tsv_text(&x->w, r->shown[(size_t)row * r->n_aliases + a]);
}

static void key_columns(exporter *x, int row) {
    for (int k = 0; k < x->n_keys; k++) {
        int c = x->key_cols[k], a = c - x->r->alias_col;
        bool alias = a >= 0 && a < x->r->n_aliases;
        pl_tsv_text(&x->w, alias ? x->r->shown[(size_t)row * x->r->n_aliases + a] : pl_results_cell(x->r, row, c));
    }
}

static void stats_columns(exporter *x, pl_stats s) {
    pl_average_note_stats(&x->avg, s);
    if (x->o->agg & PL_AGG_MEAN) pl_tsv_number(&x->w, s.mean);
    if (x->o->agg & PL_AGG_STD) pl_tsv_number(&x->w, s.std);
    if (x->o->agg & PL_AGG_N) pl_tsv_int(&x->w, s.n);
}

static pl_status header(exporter *x, pl_error *err) {
    if (x->o->agg == 0) {
        const char *fixed[] = {"run_id", "group_id", "seed"};
        for (int i = 0; i < 3; i++) pl_tsv_text(&x->w, fixed[i]);
        for (int a = 0; a < x->r->n_aliases; a++) pl_export_alias_header(&x->w, x->r->aliases[a]);
    } else
        for (int k = 0; k < x->n_keys; k++) pl_export_alias_header(&x->w, x->r->cols[x->key_cols[k]]);
    pl_tsv_text(&x->w, "metric");
    if (x->o->stage) pl_tsv_text(&x->w, "step");
    if (x->o->agg == 0) pl_tsv_text(&x->w, "value");
    if (x->o->agg & PL_AGG_MEAN) pl_tsv_text(&x->w, "mean");
    if (x->o->agg & PL_AGG_STD) pl_tsv_text(&x->w, "std");
    if (x->o->agg & PL_AGG_N) pl_tsv_text(&x->w, "n");
    return pl_tsv_end_row(&x->w, x->name, err);
}

static pl_status summary_table(exporter *x, pl_error *err) {
    const pl_results *r = x->r;
    if (x->o->agg == 0) {
        for (int row = 0; row < r->n_rows; row++)
            for (int m = 0; x->keep[row] && m < x->n_metrics; m++) {
                run_columns(x, row);
                pl_tsv_text(&x->w, r->cols[x->metric_cols[m]]);
                pl_tsv_number(&x->w, pl_results_number(r, row, x->metric_cols[m]));
                PL_TRY(pl_tsv_end_row(&x->w, x->name, err));
            }
        return PL_OK;
    }
    pl_stats *stats = pl_alloc((size_t)x->groups.n_groups + 1, sizeof *stats, err);
    if (stats == NULL) return PL_ERR_NOMEM;
    pl_status st = PL_OK;
    for (int m = 0; m < x->n_metrics && st == PL_OK; m++) {
        pl_groups_stats(r, &x->groups, x->metric_cols[m], stats);
        for (int g = 0; g < x->groups.n_groups && st == PL_OK; g++) {
            key_columns(x, x->groups.rows[x->groups.start[g]]);
            pl_tsv_text(&x->w, r->cols[x->metric_cols[m]]);
            stats_columns(x, stats[g]);
            st = pl_tsv_end_row(&x->w, x->name, err);
        }
    }
    pl_free(stats);
    return st;
}

static pl_status read_curve(exporter *x, int row, const char *metric, pl_curve *c, pl_error *err) {
    char *path = pl_export_h5_path(x->r, row, err);
    if (path == NULL) return PL_ERR_NOMEM;
    pl_status st = pl_h5_read_curve(path, x->o->stage, metric, c, err);
    pl_free(path);
    return st;
}

static pl_status curve_group(exporter *x, int g, const char *metric, pl_error *err) {
    int n = x->groups.start[g + 1] - x->groups.start[g];
    pl_curve *curves = pl_alloc((size_t)n, sizeof *curves, err);
    if (curves == NULL) return PL_ERR_NOMEM;
    pl_status st = PL_OK;
    for (int i = 0; i < n && st == PL_OK; i++) st = read_curve(x, x->groups.rows[x->groups.start[g] + i], metric, &curves[i], err);
    double *steps = NULL;
    pl_stats *stats = NULL;
    int n_steps = 0;
    if (st == PL_OK) st = pl_curves_stats(curves, n, &steps, &stats, &n_steps, err);
    for (int i = 0; i < n_steps && st == PL_OK; i++) {
        key_columns(x, x->groups.rows[x->groups.start[g]]);
        pl_tsv_text(&x->w, metric);
        pl_tsv_int(&x->w, (int64_t)steps[i]);
        stats_columns(x, stats[i]);
        st = pl_tsv_end_row(&x->w, x->name, err);
    }
    for (int i = 0; i < n; i++) pl_curve_free(&curves[i]);
    pl_free(curves);
    pl_free(steps);
    pl_free(stats);
    return st;
}

static pl_status curve_table(exporter *x, pl_error *err) {
    for (int m = 0; m < x->o->n_metrics; m++) {
        const char *metric = x->o->metrics[m];
        if (x->o->agg != 0) {
            for (int g = 0; g < x->groups.n_groups; g++) PL_TRY(curve_group(x, g, metric, err));
            continue;
        }
        for (int row = 0; row < x->r->n_rows; row++) {
            if (!x->keep[row]) continue;
            pl_curve c;
            PL_TRY(read_curve(x, row, metric, &c, err));
            pl_status st = PL_OK;
            for (int i = 0; i < c.n && st == PL_OK; i++) {
                run_columns(x, row);
                pl_tsv_text(&x->w, metric);
                pl_tsv_int(&x->w, (int64_t)c.step[i]);
                pl_tsv_number(&x->w, c.value[i]);
                st = pl_tsv_end_row(&x->w, x->name, err);
            }
            pl_curve_free(&c);
            PL_TRY(st);
        }
    }
    return PL_OK;
}

/* Resolves metric names, key columns and the kept rows. */
static pl_status prepare(exporter *x, pl_error *err) {
    const pl_results *r = x->r;
    const pl_export_opts *o = x->o;
    if (o->stage != NULL && o->n_metrics == 0)
        return PL_ERROR(err, PL_ERR_INVALID, "curves need --metric NAME (a metric logged per step, such as loss)");
    x->metric_cols = pl_alloc((size_t)(o->n_metrics ? o->n_metrics : r->n_metrics) + 1, sizeof *x->metric_cols, err);
    x->key_cols = pl_alloc((size_t)(o->n_by ? o->n_by : r->n_aliases + 1) + 1, sizeof *x->key_cols, err);
    x->keep = pl_alloc((size_t)r->n_rows + 1, sizeof *x->keep, err);
    if (x->metric_cols == NULL || x->key_cols == NULL || x->keep == NULL) return PL_ERR_NOMEM;
    if (o->stage == NULL) {
        x->n_metrics = o->n_metrics ? o->n_metrics : r->n_metrics;
        for (int m = 0; m < x->n_metrics; m++) {
            if (o->n_metrics) PL_TRY(pl_export_metric_col(r, o->metrics[m], &x->metric_cols[m], err));
            else x->metric_cols[m] = r->metric_col + m;
        }
    }
    if (o->n_by) {
        for (int k = 0; k < o->n_by; k++) PL_TRY(pl_export_alias_col(r, o->by[k], &x->key_cols[x->n_keys++], err));
    } else {
        x->key_cols[x->n_keys++] = 1; /* group_id, then the aliases for reading */
        for (int a = 0; a < r->n_aliases; a++) x->key_cols[x->n_keys++] = r->alias_col + a;
    }
    PL_TRY(pl_export_select(r, o->where, (cfg_pos){"--where", 1, 1}, x->keep, NULL, err));
    if (o->agg) {
        /* group rows by the keys, but order groups by alias values, not by id hashes */
        int *order = pl_alloc((size_t)x->n_keys + 1, sizeof *order, err);
        if (order == NULL) return PL_ERR_NOMEM;
        int n = 0;
        for (int k = 0; k < x->n_keys; k++)
            if (x->key_cols[k] != 1) order[n++] = x->key_cols[k];
        for (int k = 0; k < x->n_keys; k++)
            if (x->key_cols[k] == 1) order[n++] = 1;
        pl_status st = pl_groups_make(r, x->keep, order, n, &x->groups, err);
        if (st == PL_OK) pl_average_note_groups(&x->avg, r, &x->groups, order, n);
        pl_free(order);
        PL_TRY(st);
    }
    return PL_OK;
}

pl_status pl_export(const pl_results *r, const pl_export_opts *o, FILE *out, const char *out_name,
                    pl_export_report *rep, pl_error *err) {
    exporter x = {.r = r, .o = o, .name = out_name};
    pl_average_init(&x.avg);
    pl_tsv_begin(&x.w, out);
    pl_status st = prepare(&x, err);
    if (st == PL_OK) st = header(&x, err);
    if (st == PL_OK) st = o->stage ? curve_table(&x, err) : summary_table(&x, err);
    if (rep != NULL) {
        rep->left_out = pl_results_left_out(r, rep->left_out_by, sizeof rep->left_out_by);
        rep->avg = x.avg;
    }
    pl_free(x.metric_cols);
    pl_free(x.key_cols);
    pl_free(x.keep);
    pl_groups_free(&x.groups);
    return st;
}
