/* figure.c - reading a validated figure declaration (see figure.h). */
#include "io/figure.h"

#include <stdio.h>
#include <string.h>

#include "config/figures.h"

static const char *text(const cfg_node *fig, const char *key) {
    const cfg_node *v = cfg_map_get(fig, key);
    return v != NULL && v->kind == CFG_STRING ? v->u.s : NULL;
}

static bool flag(const cfg_node *fig, const char *key) {
    const cfg_node *v = cfg_map_get(fig, key);
    return v != NULL && v->kind == CFG_BOOL && v->u.b;
}

pl_status pl_figure_read(const cfg_node *fig, pl_figure *f, pl_error *err) {
    memset(f, 0, sizeof *f);
    const char *kind = text(fig, "kind") ? cfg_figure_kind(text(fig, "kind")) : NULL;
    f->name = text(fig, "name");
    if (kind == NULL || f->name == NULL)
        return cfg_error_at(err, fig->pos, "a figure needs name: and kind: (heatmap, lines, bars, curves, scatter)");
    static const char *const kinds[] = {"heatmap", "lines", "bars", "curves", "scatter"};
    for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++)
        if (strcmp(kind, kinds[k]) == 0) f->kind = (pl_figure_kind)k;
    f->kind_name = kind;
    f->x = text(fig, "x");
    f->series = text(fig, "series");
    f->stage = text(fig, "stage");
    f->metric = text(fig, "metric");
    if (f->kind == PL_FIG_HEATMAP) {
        f->y = text(fig, "y");
        if (f->metric == NULL) f->metric = text(fig, "z");
    } else if (f->kind != PL_FIG_CURVES && f->metric == NULL)
        f->metric = text(fig, "y");
    const cfg_node *where = cfg_map_get(fig, "where");
    if (where != NULL && where->kind == CFG_STRING) f->where = where->u.s, f->where_pos = where->pos;
    f->by_run = text(fig, "by") != NULL && strcmp(text(fig, "by"), "run") == 0;
    f->band = text(fig, "band") == NULL || strcmp(text(fig, "band"), "none") != 0;
    f->logx = flag(fig, "logx");
    f->logy = flag(fig, "logy");
    const cfg_node *digits = cfg_map_get(fig, "digits");
    f->digits = digits != NULL && digits->kind == CFG_INT ? (int)digits->u.i : 2;
    f->title = text(fig, "title");
    f->xlabel = text(fig, "xlabel");
    f->ylabel = text(fig, "ylabel");
    f->zlabel = text(fig, "zlabel");
    if (f->metric == NULL) return cfg_error_at(err, fig->pos, "figure '%s' names no metric", f->name);
    if (f->kind == PL_FIG_CURVES && f->stage == NULL)
        return cfg_error_at(err, fig->pos, "figure '%s' needs stage:", f->name);
    if (f->kind != PL_FIG_CURVES && f->x == NULL) return cfg_error_at(err, fig->pos, "figure '%s' needs x:", f->name);
    if (f->kind == PL_FIG_HEATMAP && f->y == NULL) return cfg_error_at(err, fig->pos, "figure '%s' needs y:", f->name);
    return PL_OK;
}
