/* collect.h - the experiment's index: one row per run folder under results/<experiment>/runs/,
 * whichever invocation or version of the experiment file made it. A row holds:
 *   run id, group id, seed      from run.tsv
 *   one column per sweep alias  every alias any invocation had (experiment.state, else the
 *                               run folders' run.tsv): the run's value from run.tsv or, for a
 *                               run made before the alias existed, from its stored config at
 *                               the alias's key path
 *   one column per config key   whose value differs between the runs shown (keys under an
 *                               alias's path and `seed` aside), from each run's config.yaml,
 *                               named by its dotted path (`pipeline.pretrain.steps`)
 *   status and reason           the status file's; a completed run is stale or damaged when
 *                               its record says so (engine/run_record.h), with why
 *   summary metrics             metrics.h5 /summary (completed and stale runs)
 * Written as index.tsv and printed as the summary table (engine/summary_table.h); what
 * status, export and plot read. */
#ifndef PL_ENGINE_COLLECT_H
#define PL_ENGINE_COLLECT_H

#include <stdbool.h>
#include <stdio.h>

#include "config/arena.h"
#include "engine/run_dir.h"
#include "io/h5_summary.h"

typedef struct {
    char run_id[32], group_id[32];
    long long seed;
    int index;             /* row in the run table of the invocation that prepared it */
    const char **values;   /* per column of pl_index.aliases ("" where the run has none) */
    pl_run_status status;  /* with stale / damaged and the reason for a completed run */
    pl_h5_summary summary; /* empty unless metrics were read */
} pl_index_row;

typedef struct {
    cfg_arena arena;      /* owns the aliases, values and stored configs */
    int n_aliases;        /* the columns between seed and status: */
    const char **aliases; /*   the sweep aliases first, then config keys whose values differ */
    const char **alias_paths; /* per column: its key path ("" when not known) */
    int n_axes;           /* how many of them are sweep aliases */
    int n_rows;
    pl_index_row *rows;   /* sorted by index, then run id */
    int n_metrics;
    char **metrics;       /* union of summary names, sorted */
    double started;       /* experiment.state: when the latest invocation began (0 = unknown) */
    int jobs;             /* experiment.state: its engine.jobs */
    bool state_damaged;   /* experiment.state did not read (its aliases came from run.tsv) */
    char state_why[256];
    int n_stale, n_damaged; /* rows in those states */
    int n_unchecked;      /* completed rows whose inputs could not be hashed from here (only
                             their seal was checked), and the first one's reason: */
    char unchecked_why[600];
} pl_index;

/* Reads exp_dir (results/<experiment>). full: everything above; otherwise only what run.tsv,
 * the status files and experiment.state say (run ids, seeds, alias values, states as
 * written: no stored config read, no record checked, no metrics). A run folder without a
 * readable run.tsv is skipped. exp_dir must be an experiment's results folder
 * (pl_exp_dir_check: an error naming it otherwise). */
pl_status pl_collect(const char *exp_dir, bool full, pl_index *out, pl_error *err);
void pl_index_free(pl_index *idx);

/* Writes exp_dir/index.tsv atomically: run_id, group_id, seed, aliases and config-key
 * columns, status, reason, metrics... (empty cells where a run lacks a metric). */
pl_status pl_index_write(const pl_index *idx, const char *exp_dir, pl_error *err);

/* When collect found experiment.state damaged: writes it again from the index (its aliases
 * and their paths; which experiment file made it stays unknown until the next run), holding
 * experiment.lock. */
pl_status pl_index_rewrite_state(const pl_index *idx, const char *exp_dir, pl_error *err);

/* What collect says beyond the table, one line each, to out: a damaged experiment.state and
 * the runs whose inputs it could not check (pl_index_notes), and each stale or damaged run
 * with what was left out of its row (pl_index_run_notes). */
void pl_index_notes(const pl_index *idx, const char *exp_dir, FILE *out);
void pl_index_run_notes(const pl_index *idx, FILE *out);

/* The value of metric `name` in row, or NaN. */
double pl_index_metric(const pl_index_row *row, const char *name);

#endif
