/* exp_state.h - results/<experiment>/experiment.state: what the engine records about the
 * invocations of an experiment, as key<TAB>value lines (lists tab-separated):
 *
 *   spec_sha256  SHA-256 of the experiment file's text at the latest invocation
 *   spec_path    that file (what `prunelab plot DIR` draws)
 *   started      unix time the latest invocation began (status's ETA)
 *   jobs         engine.jobs of the latest invocation; threads likewise
 *   aliases      the sweep aliases of every invocation since the file last changed
 *   runs         the run ids of every invocation since the file last changed
 *
 * Invocations of an unchanged file add up: running it again with other overrides adds its
 * runs and aliases to the earlier ones, so index.tsv, status, export and plot keep showing
 * the earlier runs. When the file's text changes, the record starts again from the new
 * invocation; the older run folders stay under runs/ and collect counts them as superseded
 * (engine/collect.h). Writers hold experiment.lock (pl_exp_state_lock_path) while they read,
 * merge and write, so two invocations starting at once both keep their runs.
 * pl_exp_dir_check tells an experiment's results folder from a path that is none. */
#ifndef PL_ENGINE_EXP_STATE_H
#define PL_ENGINE_EXP_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct {
    char spec_sha256[65]; /* "" when not recorded */
    char *spec_path;      /* NULL when not recorded */
    double started;       /* 0 = unknown */
    int jobs, threads;
    int n_aliases, cap_aliases;
    char **aliases;
    int n_runs, cap_runs;
    char **runs;
    bool has_runs;        /* a runs line was there (prunelab before it wrote none) */
} pl_exp_state;

/* Reads exp_dir/experiment.state; a missing or unreadable file gives an empty record. */
pl_status pl_exp_state_read(const char *exp_dir, pl_exp_state *out, pl_error *err);

/* Replaces exp_dir/experiment.state atomically. Tabs and line breaks inside values are
 * written as spaces (as run.tsv writes them). */
pl_status pl_exp_state_write(const char *exp_dir, const pl_exp_state *s, pl_error *err);

/* Adds a run id / an alias unless it is there already. */
pl_status pl_exp_state_add_run(pl_exp_state *s, const char *run_id, pl_error *err);
pl_status pl_exp_state_add_alias(pl_exp_state *s, const char *alias, pl_error *err);

bool pl_exp_state_has_run(const pl_exp_state *s, const char *run_id);

/* Forgets the runs and aliases (the experiment file changed). */
void pl_exp_state_clear_lists(pl_exp_state *s);

void pl_exp_state_free(pl_exp_state *s);

/* exp_dir must be an experiment's results folder: an existing directory holding
 * experiment.state or runs/ (prunelab run writes the state first). The error names the path
 * and what it is instead; for a folder such as results/ it lists the experiments in it.
 * What `prunelab status` and `prunelab collect` check before reading anything. */
pl_status pl_exp_dir_check(const char *exp_dir, pl_error *err);

/* exp_dir/experiment.lock (engine/lock.h). */
void pl_exp_state_lock_path(const char *exp_dir, char *buf, size_t cap);

#endif
