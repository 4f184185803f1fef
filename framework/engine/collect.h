/* collect.h - the experiment's index: one row per run directory under
 * results/<experiment>/runs/ (run id, group id, seed, alias values from run.tsv; status
 * from the status file; summary metrics from metrics.h5 /summary), written as index.tsv
 * and printed as the summary table (engine/summary_table.h). Also what `prunelab status`
 * counts. */
#ifndef PL_ENGINE_COLLECT_H
#define PL_ENGINE_COLLECT_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/run_dir.h"
#include "io/h5_summary.h"

typedef struct {
    char run_id[32], group_id[32];
    long long seed;
    int index;            /* row in the run table of the invocation that prepared it */
    char **values;        /* per alias ("" when the run has no such axis) */
    pl_run_status status;
    pl_h5_summary summary; /* empty unless metrics were read */
} pl_index_row;

typedef struct {
    int n_aliases;
    char **aliases;
    int n_rows;
    pl_index_row *rows;   /* sorted by index, then run id */
    int n_metrics;
    char **metrics;       /* union of summary names, sorted */
    double started;       /* experiment.state: when the latest invocation began (0 = unknown) */
    int n_current;        /* experiment.state: run ids of every invocation since the experiment
                             file last changed (0 = not recorded: every folder counts) */
    char **current;
    int superseded;       /* run folders left out: runs of earlier versions of the file */
    char **superseded_ids; /* their run ids, sorted */
    int jobs;             /* experiment.state: its engine.jobs */
} pl_index;

/* Reads exp_dir (results/<experiment>); with_metrics: also each completed run's /summary.
 * A run directory without a readable run.tsv is skipped, and so is one whose run no
 * invocation since the experiment file last changed asked for (engine/exp_state.h; counted
 * in superseded): runs of one file with different overrides all count, but after the file
 * changes index.tsv, export and plot describe its current version only. exp_dir must be an
 * experiment's results folder (pl_exp_dir_check: an error naming it otherwise). */
pl_status pl_collect(const char *exp_dir, bool with_metrics, pl_index *out, pl_error *err);
void pl_index_free(pl_index *idx);

/* Writes exp_dir/index.tsv atomically: run_id, group_id, seed, aliases..., status, reason,
 * metrics... (empty cells where a run lacks a metric). */
pl_status pl_index_write(const pl_index *idx, const char *exp_dir, pl_error *err);

/* The value of metric `name` in row, or NaN. */
double pl_index_metric(const pl_index_row *row, const char *name);

#endif
