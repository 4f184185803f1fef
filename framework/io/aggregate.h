/* aggregate.h - statistics over seeds: mean, sample standard deviation and count, and the
 * grouping of runs that share key values (a configuration, or chosen aliases).
 *
 * Convention: only finite values count (a failed run's NaN is left out, and n says how many
 * went in). mean is NaN when n == 0. std is the sample standard deviation (divisor n - 1),
 * NaN when n < 2: one seed says nothing about spread, and a 0 would draw a misleadingly
 * tight band; figures draw no band where std is NaN. */
#ifndef PL_IO_AGGREGATE_H
#define PL_IO_AGGREGATE_H

#include <stdbool.h>

#include "io/h5_curve.h"
#include "io/results.h"

typedef struct {
    double mean, std;
    int n;
} pl_stats;

pl_stats pl_stats_of(const double *v, int n);

/* Kept rows partitioned by their values in key columns (column indices of the results;
 * alias columns compare as values, numbers numerically, others as text). Groups are ordered
 * by their keys, key by key; rows within a group keep index.tsv order. */
typedef struct {
    int n_groups;
    int *start; /* n_groups + 1: rows of group g are rows[start[g] .. start[g+1]) */
    int *rows;
} pl_groups;

pl_status pl_groups_make(const pl_results *r, const bool *keep, const int *key_cols, int n_keys, pl_groups *out,
                         pl_error *err);
void pl_groups_free(pl_groups *g);

/* Orders rows a and b by key columns (0 when equal in every key). */
int pl_results_key_cmp(const pl_results *r, int a, int b, const int *key_cols, int n_keys);

/* out[g] = statistics of column col over group g's rows. */
void pl_groups_stats(const pl_results *r, const pl_groups *g, int col, pl_stats *out);

/* Per-step statistics over n curves (a configuration's seeds): one row per distinct step
 * any curve has, ascending; *steps and *stats are new arrays (pl_free). */
pl_status pl_curves_stats(const pl_curve *curves, int n, double **steps, pl_stats **stats, int *n_steps,
                          pl_error *err);

/* What an aggregated table or a figure averages, for the line that says so: the fewest and
 * most runs one row or point averages (finite values, as pl_stats.n), and the results'
 * columns (sweep aliases and config keys) whose values differ within one row or point, each
 * with some of its values: "pipeline.pretrain.steps (5, 6)", joined by "; ". */
typedef struct {
    int fewest, most;  /* fewest > most: nothing averaged yet */
    int n_mixed;       /* columns that differ within a group */
    char mixed[600];
} pl_average_report;

void pl_average_init(pl_average_report *a);
/* Counts one row or point's statistics. */
void pl_average_note_stats(pl_average_report *a, pl_stats s);
/* Notes every alias column (of none of the key_cols) whose values differ within a group. */
void pl_average_note_groups(pl_average_report *a, const pl_results *r, const pl_groups *g, const int *key_cols,
                            int n_keys);
/* "each <unit> averages 3 runs" or "<unit>s average 1 to 3 runs" into out. */
void pl_average_describe(const pl_average_report *a, const char *unit, char *out, size_t cap);

/* Sorts n ints stably with cmp(a, b, ctx) (a merge sort; qsort has no context argument).
 * Returns false when it cannot allocate its scratch space. */
bool pl_sort_ints(int *v, int n, int (*cmp)(int a, int b, const void *ctx), const void *ctx);

#endif
