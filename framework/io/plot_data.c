/* plot_data.c - per-kind data tables of figures (see plot_data.h). */
#include "io/plot_data.h"

#include <math.h>
#include <string.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "io/aggregate.h"
#include "io/export.h"
#include "io/h5_curve.h"
#include "io/tsv.h"

typedef struct {
    const pl_results *r;
    const pl_figure *f;
    cfg_arena *arena;
    pl_plot_meta *meta;
    pl_tsv_writer w;
    const char *name;
    bool *keep;
    int metric;         /* column; -1 for curves */
    int xcol, ycol, scol;
} builder;

static const char *shown(const builder *b, int row, int col) {
    int a = col - b->r->alias_col;
    return b->r->shown[(size_t)row * b->r->n_aliases + a];
}

/* The distinct values of column col among kept rows, in order: *index_of[row] = position
 * (-1 for rows not kept), labels in *names (arena). col < 0: one value for all. */
static pl_status distinct(builder *b, int col, int **index_of, const char ***names, int *n, pl_error *err) {
    const pl_results *r = b->r;
    *index_of = pl_alloc((size_t)r->n_rows + 1, sizeof **index_of, err);
    if (*index_of == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < r->n_rows; i++) (*index_of)[i] = -1;
    pl_groups g;
    PL_TRY(pl_groups_make(r, b->keep, &col, col >= 0, &g, err));
    *n = g.n_groups;
    *names = cfg_arena_array(b->arena, (size_t)g.n_groups + 1, sizeof **names, err);
    if (*names == NULL) {
        pl_groups_free(&g);
        return PL_ERR_NOMEM;
    }
    bool numeric = col >= 0;
    for (int k = 0; k < g.n_groups; k++) {
        (*names)[k] = col >= 0 ? shown(b, g.rows[g.start[k]], col) : "";
        if (col == b->scol && col >= 0)
            numeric &= cfg_is_number(b->r->values[(size_t)g.rows[g.start[k]] * r->n_aliases + col - r->alias_col]);
        for (int i = g.start[k]; i < g.start[k + 1]; i++) (*index_of)[g.rows[i]] = k;
    }
    if (col == b->scol && col >= 0) b->meta->series_numeric = numeric;
    pl_groups_free(&g);
    return PL_OK;
}

/* cols: fixed names, except those that are aliases of the figure (x, y) */
static pl_status header(builder *b, const char *const *cols, int n, pl_error *err) {
    for (int i = 0; i < n; i++) {
        bool alias = (b->f->x && cols[i] == b->f->x) || (b->f->y && cols[i] == b->f->y);
        if (alias) pl_export_alias_header(&b->w, cols[i]);
        else pl_tsv_text(&b->w, cols[i]);
    }
    return pl_tsv_end_row(&b->w, b->name, err);
}

static void stats_cells(builder *b, pl_stats s) {
    pl_average_note_stats(&b->meta->avg, s);
    pl_tsv_number(&b->w, s.mean);
    pl_tsv_number(&b->w, s.std);
    pl_tsv_int(&b->w, s.n);
}

/* Groups kept rows by two columns (a first), with their statistics of the metric. */
static pl_status grouped(builder *b, int a, int c, pl_groups *g, pl_stats **stats, pl_error *err) {
    int keys[2] = {a, c}, n = 0;
    if (a >= 0) keys[n++] = a;
    if (c >= 0) keys[n++] = c;
    PL_TRY(pl_groups_make(b->r, b->keep, keys, n, g, err));
    *stats = pl_alloc((size_t)g->n_groups + 1, sizeof **stats, err);
    if (*stats == NULL) {
        pl_groups_free(g);
        return PL_ERR_NOMEM;
    }
    pl_groups_stats(b->r, g, b->metric, *stats);
    pl_average_note_groups(&b->meta->avg, b->r, g, keys, n);
    return PL_OK;
}

static pl_status heatmap(builder *b, pl_error *err) {
    pl_plot_meta *m = b->meta;
    int *xi = NULL, *yi = NULL;
    pl_groups g = {0};
    pl_stats *stats = NULL;
    pl_status st = distinct(b, b->xcol, &xi, &m->xtics, &m->nx, err);
    if (st == PL_OK) st = distinct(b, b->ycol, &yi, &m->ytics, &m->ny, err);
    const char *cols[] = {"xi", "yi", b->f->x, b->f->y, "mean", "std", "n"};
    if (st == PL_OK) st = header(b, cols, 7, err);
    if (st == PL_OK) st = grouped(b, b->xcol, b->ycol, &g, &stats, err);
    m->zmin = INFINITY, m->zmax = -INFINITY;
    for (int k = 0; st == PL_OK && k < g.n_groups; k++) {
        int row = g.rows[g.start[k]];
        pl_tsv_int(&b->w, xi[row]);
        pl_tsv_int(&b->w, yi[row]);
        pl_tsv_text(&b->w, shown(b, row, b->xcol));
        pl_tsv_text(&b->w, shown(b, row, b->ycol));
        stats_cells(b, stats[k]);
        if (isfinite(stats[k].mean)) {
            if (stats[k].mean < m->zmin) m->zmin = stats[k].mean;
            if (stats[k].mean > m->zmax) m->zmax = stats[k].mean;
        }
        m->rows++;
        st = pl_tsv_end_row(&b->w, b->name, err);
    }
    pl_free(xi);
    pl_free(yi);
    pl_free(stats);
    pl_groups_free(&g);
    return st;
}

static pl_status need_numeric(builder *b, pl_error *err) {
    for (int row = 0; row < b->r->n_rows; row++)
        if (b->keep[row] && !cfg_is_number(b->r->values[(size_t)row * b->r->n_aliases + b->xcol - b->r->alias_col]))
            return PL_ERROR(err, PL_ERR_INVALID,
                            "x alias '%s' has the non-numeric value '%s'; a lines figure needs numbers on x "
                            "(draw categories with kind: bars)", b->f->x, shown(b, row, b->xcol));
    return PL_OK;
}

static pl_status lines(builder *b, pl_error *err) {
    pl_plot_meta *m = b->meta;
    int *si = NULL;
    pl_groups g = {0};
    pl_stats *stats = NULL;
    pl_status st = need_numeric(b, err);
    if (st == PL_OK) st = distinct(b, b->scol, &si, &m->series, &m->n_series, err);
    const char *cols[] = {"series", "series_index", b->f->x, "mean", "std", "n"};
    if (st == PL_OK) st = header(b, cols, 6, err);
    if (st == PL_OK) st = grouped(b, b->scol, b->xcol, &g, &stats, err);
    for (int k = 0; st == PL_OK && k < g.n_groups; k++) {
        int row = g.rows[g.start[k]];
        pl_tsv_text(&b->w, b->scol >= 0 ? shown(b, row, b->scol) : "");
        pl_tsv_int(&b->w, si[row] + 1);
        pl_tsv_text(&b->w, shown(b, row, b->xcol));
        stats_cells(b, stats[k]);
        m->rows++;
        st = pl_tsv_end_row(&b->w, b->name, err);
    }
    pl_free(si);
    pl_free(stats);
    pl_groups_free(&g);
    return st;
}

/* One point per configuration (group id): the means over seeds of the x metric and of the
 * y metric, with their stds, coloured by the series alias. */
static pl_status scatter(builder *b, pl_error *err) {
    pl_plot_meta *m = b->meta;
    int *si = NULL, xmetric;
    pl_groups g = {0};
    pl_stats *sx = NULL, *sy = NULL;
    const int group_col = pl_results_col(b->r, "group_id");
    pl_status st = pl_export_metric_col(b->r, b->f->x, &xmetric, err);
    if (st == PL_OK && group_col < 0)
        st = PL_ERROR(err, PL_ERR_FORMAT, "the index has no group_id column");
    if (st == PL_OK) st = distinct(b, b->scol, &si, &m->series, &m->n_series, err);
    const char *cols[] = {"series", "series_index", b->f->x, "x_std", b->f->metric, "y_std", "n"};
    if (st == PL_OK) st = header(b, cols, 7, err);
    if (st == PL_OK) st = pl_groups_make(b->r, b->keep, &group_col, 1, &g, err);
    if (st == PL_OK) pl_average_note_groups(&m->avg, b->r, &g, &group_col, 1);
    if (st == PL_OK) {
        sx = pl_alloc((size_t)g.n_groups + 1, sizeof *sx, err);
        sy = pl_alloc((size_t)g.n_groups + 1, sizeof *sy, err);
        if (sx == NULL || sy == NULL) st = PL_ERR_NOMEM;
    }
    if (st == PL_OK) {
        pl_groups_stats(b->r, &g, xmetric, sx);
        pl_groups_stats(b->r, &g, b->metric, sy);
    }
    for (int k = 0; st == PL_OK && k < g.n_groups; k++) {
        const int row = g.rows[g.start[k]];
        pl_tsv_text(&b->w, b->scol >= 0 ? shown(b, row, b->scol) : "");
        pl_tsv_int(&b->w, si[row] + 1);
        pl_tsv_number(&b->w, sx[k].mean);
        pl_tsv_number(&b->w, sx[k].std);
        stats_cells(b, sy[k]);
        m->rows++;
        st = pl_tsv_end_row(&b->w, b->name, err);
    }
    pl_free(si);
    pl_free(sx);
    pl_free(sy);
    pl_groups_free(&g);
    return st;
}

static pl_status bars(builder *b, pl_error *err) {
    pl_plot_meta *m = b->meta;
    int *xi = NULL, *si = NULL;
    pl_groups g = {0};
    pl_stats *stats = NULL, *cell = NULL;
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    pl_status st = distinct(b, b->xcol, &xi, &m->xtics, &m->nx, err);
    if (st == PL_OK) st = distinct(b, b->scol, &si, &m->series, &m->n_series, err);
    if (st == PL_OK) st = grouped(b, b->xcol, b->scol, &g, &stats, err);
    if (st == PL_OK && (cell = pl_alloc((size_t)m->nx * m->n_series + 1, sizeof *cell, err)) == NULL) st = PL_ERR_NOMEM;
    for (int i = 0; st == PL_OK && i < m->nx * m->n_series; i++) cell[i] = (pl_stats){NAN, NAN, 0};
    for (int k = 0; st == PL_OK && k < g.n_groups; k++) {
        int row = g.rows[g.start[k]];
        cell[(size_t)xi[row] * m->n_series + si[row]] = stats[k];
    }
    if (st == PL_OK) {
        pl_export_alias_header(&b->w, b->f->x);
        static const char *const parts[] = {"mean", "std", "n"};
        for (int s = 0; s < m->n_series; s++)
            for (int p = 0; p < 3; p++) {
                cfg_strbuf_reset(&sb);
                cfg_strbuf_printf(&sb, "%s%s%s", m->series[s], m->series[s][0] ? ":" : "", parts[p]);
                pl_tsv_text(&b->w, sb.data);
            }
        st = cfg_strbuf_check(&sb, err);
        if (st == PL_OK) st = pl_tsv_end_row(&b->w, b->name, err);
    }
    for (int x = 0; st == PL_OK && x < m->nx; x++) {
        pl_tsv_text(&b->w, m->xtics[x]);
        for (int s = 0; s < m->n_series; s++) stats_cells(b, cell[(size_t)x * m->n_series + s]);
        m->rows++;
        st = pl_tsv_end_row(&b->w, b->name, err);
    }
    cfg_strbuf_free(&sb);
    pl_free(xi);
    pl_free(si);
    pl_free(stats);
    pl_free(cell);
    pl_groups_free(&g);
    return st;
}

/* A legend entry for a curve: the alias values that vary among kept rows (and the seed). */
static const char *curve_label(builder *b, int row, bool with_seed, pl_error *err) {
    const pl_results *r = b->r;
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    for (int a = 0; a < r->n_aliases; a++) {
        const char *mine = r->shown[(size_t)row * r->n_aliases + a];
        bool varies = false;
        for (int q = 0; q < r->n_rows && !varies; q++)
            varies = b->keep[q] && strcmp(r->shown[(size_t)q * r->n_aliases + a], mine) != 0;
        if (varies) cfg_strbuf_printf(&sb, "%s%s=%s", sb.len ? ", " : "", r->aliases[a], mine);
    }
    if (with_seed) cfg_strbuf_printf(&sb, "%sseed %s", sb.len ? ", " : "", pl_results_cell(r, row, 2));
    const char *out = NULL;
    if (cfg_strbuf_check(&sb, err) == PL_OK) out = cfg_arena_strdup(b->arena, sb.data ? sb.data : "", err);
    cfg_strbuf_free(&sb);
    return out;
}

static pl_status curve_series(builder *b, const pl_groups *g, int k, pl_error *err) {
    int n = g->start[k + 1] - g->start[k];
    pl_curve *curves = pl_alloc((size_t)n + 1, sizeof *curves, err);
    if (curves == NULL) return PL_ERR_NOMEM;
    pl_status st = PL_OK;
    for (int i = 0; i < n && st == PL_OK; i++) {
        char *path = pl_export_h5_path(b->r, g->rows[g->start[k] + i], err);
        st = path ? pl_h5_read_curve(path, b->f->stage, b->f->metric, &curves[i], err) : PL_ERR_NOMEM;
        pl_free(path);
    }
    double *steps = NULL;
    pl_stats *stats = NULL;
    int n_steps = 0;
    if (st == PL_OK) st = pl_curves_stats(curves, n, &steps, &stats, &n_steps, err);
    for (int i = 0; i < n_steps && st == PL_OK; i++) {
        pl_tsv_text(&b->w, b->meta->series[k]);
        pl_tsv_int(&b->w, k + 1);
        pl_tsv_int(&b->w, (int64_t)steps[i]);
        stats_cells(b, stats[i]);
        b->meta->rows++;
        st = pl_tsv_end_row(&b->w, b->name, err);
    }
    for (int i = 0; i < n; i++) pl_curve_free(&curves[i]);
    pl_free(curves);
    pl_free(steps);
    pl_free(stats);
    return st;
}

static pl_status curves(builder *b, pl_error *err) {
    const pl_results *r = b->r;
    pl_plot_meta *m = b->meta;
    /* series: one per run, per value of the series alias, or per configuration */
    int *keys = pl_alloc((size_t)r->n_aliases + 3, sizeof *keys, err), n = 0;
    if (keys == NULL) return PL_ERR_NOMEM;
    if (b->scol >= 0) keys[n++] = b->scol;
    else {
        for (int a = 0; a < r->n_aliases; a++) keys[n++] = r->alias_col + a;
        keys[n++] = 1;
        if (b->f->by_run) keys[n++] = 2, keys[n++] = 0;
    }
    pl_groups g;
    pl_status st = pl_groups_make(r, b->keep, keys, n, &g, err);
    pl_free(keys);
    PL_TRY(st);
    m->n_series = g.n_groups;
    m->series = cfg_arena_array(b->arena, (size_t)g.n_groups + 1, sizeof *m->series, err);
    if (m->series == NULL) st = PL_ERR_NOMEM;
    for (int k = 0; st == PL_OK && k < g.n_groups; k++) {
        int row = g.rows[g.start[k]];
        m->series[k] = b->scol >= 0 ? shown(b, row, b->scol) : curve_label(b, row, b->f->by_run, err);
        m->series_numeric = b->scol >= 0 && (k == 0 || m->series_numeric) &&
                            cfg_is_number(r->values[(size_t)row * r->n_aliases + b->scol - r->alias_col]);
        if (m->series[k] == NULL) st = PL_ERR_NOMEM;
    }
    const char *cols[] = {"series", "series_index", "step", "mean", "std", "n"};
    if (st == PL_OK) st = header(b, cols, 6, err);
    for (int k = 0; st == PL_OK && k < g.n_groups; k++) st = curve_series(b, &g, k, err);
    if (b->scol >= 0) pl_average_note_groups(&m->avg, r, &g, &b->scol, 1);
    pl_groups_free(&g);
    return st;
}

pl_status pl_plot_data(const pl_results *r, const pl_figure *f, cfg_arena *arena, FILE *out, const char *name,
                       pl_plot_meta *meta, pl_error *err) {
    memset(meta, 0, sizeof *meta);
    pl_average_init(&meta->avg);
    builder b = {.r = r, .f = f, .arena = arena, .meta = meta, .name = name, .metric = -1, .xcol = -1, .ycol = -1,
                 .scol = -1};
    pl_tsv_begin(&b.w, out);
    if (f->kind != PL_FIG_CURVES) PL_TRY(pl_export_metric_col(r, f->metric, &b.metric, err));
    if (f->x && f->kind != PL_FIG_CURVES && f->kind != PL_FIG_SCATTER)
        PL_TRY(pl_export_alias_col(r, f->x, &b.xcol, err));
    if (f->y) PL_TRY(pl_export_alias_col(r, f->y, &b.ycol, err));
    if (f->series) PL_TRY(pl_export_alias_col(r, f->series, &b.scol, err));
    b.keep = pl_alloc((size_t)r->n_rows + 1, sizeof *b.keep, err);
    if (b.keep == NULL) return PL_ERR_NOMEM;
    pl_status st = pl_export_select(r, f->where, f->where_pos, b.keep, NULL, err);
    int kept = 0;
    for (int i = 0; st == PL_OK && i < r->n_rows; i++) kept += b.keep[i];
    if (st == PL_OK && kept == 0)
        st = PL_ERROR(err, PL_ERR_MISSING, "no completed run%s to draw", f->where ? " matches its where:" : "");
    if (st == PL_OK) {
        switch (f->kind) {
        case PL_FIG_HEATMAP: st = heatmap(&b, err); break;
        case PL_FIG_LINES: st = lines(&b, err); break;
        case PL_FIG_BARS: st = bars(&b, err); break;
        case PL_FIG_CURVES: st = curves(&b, err); break;
        case PL_FIG_SCATTER: st = scatter(&b, err); break;
        }
    }
    if (st != PL_OK) pl_error_wrap(err, "figure '%s'", f->name);
    pl_free(b.keep);
    return st;
}
