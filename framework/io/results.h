/* results.h - an experiment's run table read back from results/<experiment>/index.tsv.
 *
 * index.tsv (written by the engine) has a header row and one row per run:
 *   run_id  group_id  seed  <alias>...  status  [reason]  <metric>...
 * Alias cells hold each value in canonical YAML flow form (0.5, wanda, "2:4"); metric cells
 * are numbers, `nan`, or empty when the run has no such metric (read as NaN). Text fields
 * use io/tsv.h's escapes. A run counts as completed when its status is done or completed. */
#ifndef PL_IO_RESULTS_H
#define PL_IO_RESULTS_H

#include <stdbool.h>

#include "config/arena.h"
#include "config/node.h"
#include "core/error.h"

typedef struct {
    cfg_arena arena;         /* owns everything below */
    const char *dir;         /* results/<experiment> as given */
    int n_cols;
    char **cols;             /* header names */
    int n_aliases;
    char **aliases;          /* = cols + alias_col */
    int alias_col, status_col;
    int n_metrics;
    char **metrics;          /* = cols + metric_col */
    int metric_col;
    int n_rows;
    char **cells;            /* n_rows x n_cols, unescaped */
    double *num;             /* n_rows x n_cols, each cell as a number or NaN */
    const cfg_node **values; /* n_rows x n_aliases, alias cells parsed as YAML scalars */
    const char **shown;      /* n_rows x n_aliases, alias values as text for tables and tics */
} pl_results;

/* Reads dir/index.tsv. */
pl_status pl_results_read(const char *dir, pl_results *out, pl_error *err);
void pl_results_free(pl_results *r);

/* The column index of name, or -1; the alias index of name, or -1. */
int pl_results_col(const pl_results *r, const char *name);
int pl_results_alias(const pl_results *r, const char *name);

const char *pl_results_cell(const pl_results *r, int row, int col);
double pl_results_number(const pl_results *r, int row, int col);
bool pl_results_completed(const pl_results *r, int row);

/* How many runs are not completed, and which states they are in ("2 stale, 1 failed") into
 * out: what export and plot leave out. */
int pl_results_left_out(const pl_results *r, char *out, size_t cap);

/* Orders two alias values: numbers numerically, before other values, the rest by text. */
int pl_results_value_cmp(const cfg_node *a, const char *a_text, const cfg_node *b, const char *b_text);

/* keep[row] = keep[row] && the `where` expression (config/expr.h) holds for the row's alias
 * values. NULL or empty expr keeps everything; pos locates expr in messages. */
pl_status pl_results_filter(const pl_results *r, const char *expr, cfg_pos pos, bool *keep, pl_error *err);

#endif
