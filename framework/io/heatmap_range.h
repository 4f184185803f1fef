/* heatmap_range.h - one colour range for an experiment's heatmaps of one metric family
 * (io/metric_label.h): the quickstart's pruned_acc heatmap (before recovery) and its acc
 * heatmap (after) are drawn on the same scale, so one colour means one accuracy in both.
 * The range is the lowest to the highest cell mean over the heatmaps of the family, each
 * with its own where: filter. */
#ifndef PL_IO_HEATMAP_RANGE_H
#define PL_IO_HEATMAP_RANGE_H

#include "io/figure.h"
#include "io/results.h"

/* Sets shared_zrange, zlo and zhi of every heatmap in figs whose family has another
 * heatmap with data among figs; the others keep their own range (shared_zrange false). A
 * heatmap whose data cannot be built (its error comes when it is drawn) takes no part.
 * Fails only when memory runs out. */
pl_status pl_heatmap_share_ranges(const pl_results *r, pl_figure *figs, int n, pl_error *err);

#endif
