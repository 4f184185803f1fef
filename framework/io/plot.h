/* plot.h - drawing an experiment's declared figures with gnuplot.
 *
 * For figure <name>, in <results>/figures/: <name>.tsv (the data drawn, io/plot_data.h),
 * <name>.gp (a self-contained script: the figure's variables as escaped string literals
 * (io/gp_quote.h), then analysis/style.gp and analysis/<kind>.gp verbatim, rendering PNG
 * with pngcairo and PDF with pdfcairo), <name>.png, <name>.pdf and <name>.log (gnuplot's
 * output). `gnuplot <name>.gp` in that directory redraws the figure by hand. */
#ifndef PL_IO_PLOT_H
#define PL_IO_PLOT_H

#include <stdbool.h>

#include "io/aggregate.h"
#include "io/figure.h"
#include "io/results.h"

typedef struct {
    const char *templates;            /* directory of style.gp and <kind>.gp */
    const char *gnuplot;              /* program; NULL: "gnuplot" */
    const char *const *aliases;       /* the sweep's aliases and their axis labels */
    const char *const *labels;
    int n_aliases;
    bool render;                      /* false: write .tsv and .gp only */
} pl_plot_opts;

/* Writes the files of figure f from the results r into r->dir/figures/ (created). *avg (may
 * be NULL) gets how many runs its points average and which columns differ within a point
 * (none when the other aliases and config keys are fixed, by the sweep or by where:). */
pl_status pl_plot_figure(const pl_results *r, const pl_figure *f, const pl_plot_opts *o, pl_average_report *avg,
                         pl_error *err);

#endif
