/* status.h - progress of an experiment from its run directories: counts of completed /
 * running / interrupted / failed / queued runs, the running ones with their heartbeat age,
 * the interrupted ones (stale heartbeat, lock free: killed) to resume, failures with
 * their reasons, completed runs whose training loss did not decrease (engine/loss_trend.h),
 * an ETA, and where the run folders of earlier versions of the experiment file are
 * (`prunelab status DIR`); and a run's state for `prunelab plan`. Every run of every
 * invocation since the experiment file last changed counts (engine/exp_state.h). */
#ifndef PL_ENGINE_STATUS_H
#define PL_ENGINE_STATUS_H

#include <stdio.h>

#include "config/experiment.h"
#include "engine/fsutil.h"
#include "engine/run_dir.h"

/* A running run whose heartbeat is older than this, and whose lock no process holds, is
 * reported as interrupted (and no longer counted as running). */
enum { PL_HEARTBEAT_STALE_SECONDS = 120 };

/* exp_dir = results/<experiment>. */
pl_status pl_status_print(const char *exp_dir, FILE *out, pl_error *err);

/* The state of one run of an experiment as plan shows it: "done", "stale", "damaged",
 * "failed", "running", or NULL (to run). memo (may be NULL) remembers the input files'
 * hashes across the runs of one plan. */
const char *pl_status_of_run(const char *results, const char *experiment, const pl_run *run,
                             pl_hash_memo *memo);

#endif
