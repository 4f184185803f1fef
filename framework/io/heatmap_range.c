/* heatmap_range.c - colour ranges shared by heatmaps of one metric family (see
 * heatmap_range.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/heatmap_range.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "io/metric_label.h"
#include "io/plot_data.h"

/* The range of a heatmap's cell means; false when it has none or cannot be built. */
static bool own_range(const pl_results *r, const pl_figure *f, double *lo, double *hi) {
    char *text = NULL;
    size_t len = 0;
    FILE *sink = open_memstream(&text, &len); /* the table itself is not needed here */
    if (sink == NULL) return false;
    cfg_arena arena;
    cfg_arena_init(&arena);
    pl_plot_meta meta;
    pl_error err;
    bool ok = pl_plot_data(r, f, &arena, sink, f->name, &meta, &err) == PL_OK;
    fclose(sink);
    free(text); /* from open_memstream: plain free */
    cfg_arena_free(&arena);
    if (!ok || !isfinite(meta.zmin) || !isfinite(meta.zmax)) return false;
    *lo = meta.zmin, *hi = meta.zmax;
    return true;
}

pl_status pl_heatmap_share_ranges(const pl_results *r, pl_figure *figs, int n, pl_error *err) {
    bool *has = pl_alloc((size_t)n + 1, sizeof *has, err);
    double *lo = pl_alloc((size_t)n + 1, sizeof *lo, err), *hi = pl_alloc((size_t)n + 1, sizeof *hi, err);
    pl_status st = has && lo && hi ? PL_OK : PL_ERR_NOMEM;
    for (int i = 0; st == PL_OK && i < n; i++) {
        figs[i].shared_zrange = false;
        has[i] = figs[i].kind == PL_FIG_HEATMAP && own_range(r, &figs[i], &lo[i], &hi[i]);
    }
    for (int i = 0; st == PL_OK && i < n; i++) {
        if (!has[i]) continue;
        char family[256], other[256];
        pl_metric_family(figs[i].metric, family, sizeof family);
        double low = lo[i], high = hi[i];
        int members = 0;
        for (int j = 0; j < n; j++) {
            if (!has[j] || strcmp(pl_metric_family(figs[j].metric, other, sizeof other), family) != 0) continue;
            members++;
            if (lo[j] < low) low = lo[j];
            if (hi[j] > high) high = hi[j];
        }
        if (members < 2) continue;
        figs[i].shared_zrange = true;
        figs[i].zlo = low, figs[i].zhi = high;
    }
    pl_free(has);
    pl_free(lo);
    pl_free(hi);
    return st;
}
