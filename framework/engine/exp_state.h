/* exp_state.h - results/<experiment>/experiment.state: what the engine records about the
 * invocations of an experiment, as key<TAB>value lines:
 *
 *   spec_sha256  SHA-256 of the experiment file's text at the latest invocation
 *   spec_path    that file (what `prunelab plot DIR` draws)
 *   started      unix time the latest invocation began (status's ETA)
 *   jobs         engine.jobs of the latest invocation; threads likewise
 *   axis         <alias> <TAB> <key path>: one line per sweep alias any invocation had, in
 *                the order first seen (an alias a later invocation gives another path
 *                keeps its first)
 *   sha256       SHA-256 of every byte before this line: the file's seal, its last line
 *
 * Invocations add up whatever the file says: a results directory shows every run it holds
 * (engine/collect.h); an edit of the experiment file is only noted. A state that does not
 * parse or whose seal does not match is damaged: readers say so and take the aliases from
 * the run folders (each run.tsv names its own), and the next `prunelab run` or `prunelab
 * collect` writes it again. Files written before the seal existed (an `aliases` line
 * without paths, a `runs` line, no `sha256`) still read. Writers hold experiment.lock
 * (pl_exp_state_lock_path) while they read, merge and write, so two invocations starting at
 * once both keep their aliases. pl_exp_dir_check tells an experiment's results folder from
 * a path that is none. */
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
    char **alias_paths;   /* per alias: its key path, "" when not recorded */
    bool damaged;         /* the file exists but does not parse or fails its seal */
    char why[256];        /* ... and why */
} pl_exp_state;

/* Reads exp_dir/experiment.state; a missing file gives an empty record, a damaged one an
 * empty record with `damaged` set (PL_OK either way; errors are out of memory only). */
pl_status pl_exp_state_read(const char *exp_dir, pl_exp_state *out, pl_error *err);

/* Replaces exp_dir/experiment.state atomically, sealed. Tabs and line breaks inside values
 * are written as spaces (as run.tsv writes them). */
pl_status pl_exp_state_write(const char *exp_dir, const pl_exp_state *s, pl_error *err);

/* Adds an alias with its key path unless the alias is there already; a known alias without
 * a recorded path gets this one. */
pl_status pl_exp_state_add_alias(pl_exp_state *s, const char *alias, const char *path, pl_error *err);

void pl_exp_state_free(pl_exp_state *s);

/* exp_dir must be an experiment's results folder: an existing directory holding
 * experiment.state or runs/ (prunelab run writes the state first). The error names the path
 * and what it is instead; for a folder such as results/ it lists the experiments in it.
 * What `prunelab status` and `prunelab collect` check before reading anything. */
pl_status pl_exp_dir_check(const char *exp_dir, pl_error *err);

/* exp_dir/experiment.lock (engine/lock.h). */
void pl_exp_state_lock_path(const char *exp_dir, char *buf, size_t cap);

#endif
