/* export.h - an experiment's results as tidy TSV: one row per run and metric (long), or per
 * group and metric with mean, sample std and count over seeds (aggregated); for curves, one
 * row per run (or group) and logged step, read from each run's metrics.h5.
 *
 * Columns, in this order (only completed runs are exported):
 *   long:              run_id group_id seed <aliases...> metric value
 *   aggregated:        <keys...> metric [mean] [std] [n]
 *   curves, long:      run_id group_id seed <aliases...> metric step value
 *   curves, aggregated:<keys...> metric step [mean] [std] [n]
 * where keys are group_id and every alias (one row per configuration) or the --by aliases.
 * An alias named like a fixed column (metric, step, value, mean, std, n, series) is headed
 * axis:<alias>, so every header name is unique.
 * Numbers use io/tsv.h: '.' decimals whatever the locale, shortest round-trip form, `nan`.
 * Aggregation follows io/aggregate.h (std is NaN with a single seed). */
#ifndef PL_IO_EXPORT_H
#define PL_IO_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "io/aggregate.h"
#include "io/results.h"
#include "io/tsv.h"

enum { PL_AGG_MEAN = 1, PL_AGG_STD = 2, PL_AGG_N = 4 };

typedef struct {
    const char *const *metrics; /* metric names; NULL/0: every metric of index.tsv (curves: required) */
    int n_metrics;
    const char *const *by;      /* aliases to group by; 0: one group per configuration */
    int n_by;
    const char *where;          /* filter over aliases (config/expr.h), or NULL */
    unsigned agg;               /* 0: long; otherwise PL_AGG_* fields of the aggregated table */
    const char *stage;          /* non-NULL: curves of this stage from metrics.h5 */
} pl_export_opts;

/* Parses "mean,std,n" (any subset, any order) into PL_AGG_* bits. */
pl_status pl_export_parse_agg(const char *text, unsigned *out, pl_error *err);

/* What an export left out and averaged, for the lines `prunelab export` prints. */
typedef struct {
    int left_out;          /* runs not completed (failed, stale, damaged, ...) */
    char left_out_by[200]; /* "2 stale runs, 1 failed run" */
    pl_average_report avg; /* aggregated tables: runs per row, columns that differ within one */
} pl_export_report;

/* Writes the table to out; out_name names it in write errors. rep may be NULL. */
pl_status pl_export(const pl_results *r, const pl_export_opts *o, FILE *out, const char *out_name,
                    pl_export_report *rep, pl_error *err);

/* Helpers shared with the figure code. */
/* The rows to use: completed, and matching where (pos locates where in messages). */
pl_status pl_export_select(const pl_results *r, const char *where, cfg_pos pos, bool *keep, int *skipped,
                           pl_error *err);
/* Column index of a metric, or an error listing the metrics index.tsv has. */
pl_status pl_export_metric_col(const pl_results *r, const char *name, int *col, pl_error *err);
/* Column index of an alias, or an error listing the aliases. */
pl_status pl_export_alias_col(const pl_results *r, const char *name, int *col, pl_error *err);
/* Writes an alias's header field: the alias, or axis:<alias> when it is a fixed column's name. */
void pl_export_alias_header(pl_tsv_writer *w, const char *alias);
/* Path of a run's metrics.h5: <dir>/runs/<run_id>/metrics.h5 (pl_free). */
char *pl_export_h5_path(const pl_results *r, int row, pl_error *err);

#endif
