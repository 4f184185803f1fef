/* plot_data.h - the table a figure is drawn from, computed from the results and written as
 * figures/<name>.tsv (header row, io/tsv.h numbers), plus what the script needs to know
 * about it (series names, tic labels). Means, sample std and n are over seeds as in
 * io/aggregate.h.
 *
 *   heatmap:  xi yi <x> <y> mean std n       (xi, yi: 0-based index of the value on its axis)
 *   lines:    series series_index <x> mean std n          (series_index 1-based, rows by series)
 *   bars:     <x> then per series: <s>:mean <s>:std <s>:n  (one row per category)
 *   curves:   series series_index step mean std n
 *   scatter:  series series_index <x> x_std <y> y_std n   (one row per configuration) */
#ifndef PL_IO_PLOT_DATA_H
#define PL_IO_PLOT_DATA_H

#include <stdbool.h>
#include <stdio.h>

#include "config/arena.h"
#include "io/aggregate.h"
#include "io/figure.h"
#include "io/results.h"

typedef struct {
    int n_series;
    const char **series;  /* legend entries */
    bool series_numeric;  /* the series are values of a numeric alias (sequential colours) */
    int nx, ny;
    const char **xtics;   /* heatmap: nx labels; bars: nx categories */
    const char **ytics;   /* heatmap: ny labels */
    int rows;             /* data rows written */
    pl_average_report avg; /* how many runs the points average, and what differs within one */
    double zmin, zmax;    /* heatmap: range of the means */
} pl_plot_meta;

/* Writes the table for f to out (named name in errors); strings of meta live in arena. */
pl_status pl_plot_data(const pl_results *r, const pl_figure *f, cfg_arena *arena, FILE *out, const char *name,
                       pl_plot_meta *meta, pl_error *err);

#endif
