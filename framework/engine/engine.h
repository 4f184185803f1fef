/* engine.h - running an experiment: `prunelab run` in one call.
 *
 *   pl_engine_run(exp, &opt, &report, &err)
 *
 * checks the experiment (engine/preflight.h: pipeline order, load files), prepares results/<experiment>/runs/<id>/
 * for each run not yet completed (engine/run_dir.h), builds the stage graph over the whole
 * sweep (engine/graph.h: shared model stages once, cached under results/cache/ as described
 * in engine/cache.h), runs it with `engine.jobs` concurrent nodes x `engine.threads` threads
 * (engine/scheduler.h; `engine.isolation: process` forks one child per node), writes each
 * run's metrics.h5 (io/h5_run.h), status and log, then rebuilds index.tsv (engine/collect.h)
 * and prints a summary table. A failed run never stops the others. index.tsv is written under
 * experiment.lock, so concurrent invocations (Slurm array tasks) never interleave it.
 *
 * Several invocations may share a results directory (engine/lock.h): a model stage whose
 * cache key another process is computing is waited for and then reused, a run another
 * process is running is skipped ("running elsewhere"), so each stage and run is done once.
 *
 * Results layout (engine.results_dir, default "results"):
 *   cache/<key>.safetensors, cache/<key>.metrics.tsv     cached model-stage outputs
 *   cache/<key>.sha256, cache/<key>.lock                 their seal (engine/cache_seal.h), lock
 *   <experiment>/experiment.state, experiment.lock       spec hash, start time, jobs, the aliases
 *                                                        and runs of every invocation since the
 *                                                        file changed (engine/exp_state.h), lock
 *   <experiment>/index.tsv                               one row per run of those (prunelab collect)
 *   <experiment>/runs/<run id>/{config.yaml,run.tsv,status,log.txt,metrics.h5,lock}
 */
#ifndef PL_ENGINE_ENGINE_H
#define PL_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stdio.h>

#include "config/experiment.h"

typedef struct {
    const char *git_commit; /* provenance for metrics.h5; NULL -> "unknown" */
    const char *git_dirty;  /* "yes" / "no"; NULL -> "unknown" */
    FILE *log;              /* plan, warnings, failures, summary table; NULL = silent */
    bool echo;              /* also every stage progress line, prefixed by run or cache key */
    /* TEST ONLY (the CLI reads it from PRUNELAB_TEST_FAULT): "nan:seed=N" makes the
     * pretrain stage of runs with seed N train with learning rate 1e30 (the weights overflow,
     * the loss turns NaN/inf and pretrain fails as it would for real); "crash:seed=N" calls abort() at the start
     * of those runs' run node (use with engine.isolation: process). NULL = none. */
    const char *fault;
    /* Per run of the experiment: run only those marked (NULL = every run). `prunelab run
     * --runs-from`, which a Slurm array task uses to pick its share (engine/slurm.h). */
    const bool *only;
    /* Compute the model stages the runs need and run none of the runs (Slurm's stages job). */
    bool stages_only;
    /* MPI mode (after pl_mpi_init): rank 0 plans and hands out nodes in dependency order,
     * every other rank runs them in forked children (engine/engine_mpi.c). */
    bool mpi;
} pl_engine_options;

typedef struct {
    int runs;              /* rows in the run table */
    int already_completed; /* skipped: completed by an earlier invocation */
    int completed;         /* completed now */
    int failed;
    int stages_computed;   /* model stages this invocation had to compute (some may fail) */
    int stages_reused;     /* model stages found in the cache (or computed meanwhile by another
                              process; with engine.isolation: process those count as computed) */
    int runs_elsewhere;    /* left to another process that was running them (or completed them
                              meanwhile); not in completed / failed. With engine.isolation:
                              process only those found before scheduling count */
    int stale;             /* of the runs to do: completed earlier, but a file they read or the
                              computation of a stage changed since (engine/run_record.h) */
    int damaged;           /* ... completed earlier, but metrics.h5 no longer verifies */
    bool spec_changed;     /* the experiment file differs from the last invocation's */
} pl_engine_report;

pl_status pl_engine_run(const pl_experiment *exp, const pl_engine_options *opt,
                        pl_engine_report *report, pl_error *err);

/* What run does before it schedules, for the runs marked in which: records them in
 * experiment.state and prepares their directories with status queued. `prunelab slurm`
 * calls it for the runs it submits, so that `prunelab status` counts them at once. */
pl_status pl_engine_enqueue(const pl_experiment *exp, const bool *which, FILE *log, pl_error *err);

/* engine.results_dir and results_dir/<experiment name>. */
pl_status pl_engine_dirs(const pl_experiment *exp, char *results, size_t results_cap,
                         char *exp_dir, size_t exp_dir_cap, pl_error *err);

#endif
