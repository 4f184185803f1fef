/* figure.h - one entry of an experiment's `figures:` list as a struct for the plotter.
 * The entry has been validated (config/schema_sections.c, config/figures.c); this only
 * reads it, resolving the metric (z:/y:/metric:); io/metric_label.h gives the default
 * labels.
 *
 *   figures:
 *     - {name: split, kind: heatmap, x: sv, y: sl, z: acc, title: "Wanda, no recovery"}
 *     - {name: acc_vs_sv, kind: lines, x: sv, y: acc, series: method, band: std}
 *     - {name: methods, kind: bars, x: pattern, y: acc, series: method, where: "sv == 0.5"}
 *     - {name: loss, kind: curves, stage: pretrain, metric: loss, by: group, logy: true}
 *     - {name: acc_vs_latency, kind: scatter, x: latency_ms_b32_t2, y: acc, series: method}
 */
#ifndef PL_IO_FIGURE_H
#define PL_IO_FIGURE_H

#include <stdbool.h>

#include "config/node.h"

typedef enum { PL_FIG_HEATMAP, PL_FIG_LINES, PL_FIG_BARS, PL_FIG_CURVES, PL_FIG_SCATTER } pl_figure_kind;

typedef struct {
    const char *name;
    pl_figure_kind kind;
    const char *kind_name;  /* heatmap, lines, bars, curves: also the template's name */
    const char *x, *y;      /* aliases: heatmap x and y; lines/bars x (y NULL); scatter: x is
                               the metric on the x axis (y NULL, metric on y) */
    const char *series;     /* alias or NULL */
    const char *metric;     /* heatmap z, lines/bars y, curves metric */
    const char *stage;      /* curves */
    const char *where;      /* or NULL */
    cfg_pos where_pos;
    bool by_run, band, logx, logy;
    int digits;
    const char *title, *xlabel, *ylabel, *zlabel; /* NULL: defaults */
    bool shared_zrange;     /* heatmap: colour range zlo..zhi, shared with the experiment's other
                               heatmaps of the metric's family (io/heatmap_range.h); false: the
                               figure's own range */
    double zlo, zhi;
} pl_figure;

/* Fills out from a validated figure map (strings point into the config tree). */
pl_status pl_figure_read(const cfg_node *node, pl_figure *out, pl_error *err);

#endif
