/* run_dir.h - one run's directory, results/<experiment>/runs/<run-id>/:
 *   config.yaml   the fully resolved config (cfg_to_yaml)
 *   run.tsv       key<TAB>value lines: run_id, group_id, seed, index, then for each sweep
 *                 alias axis.<alias> (its value) and path.<alias> (the key path it sets):
 *                 what `prunelab collect` reads back
 *   record        written when the run completes: what it was computed from and the seal
 *                 of metrics.h5 (engine/run_record.h)
 *   status        the run's state, replaced by atomic rename:
 *                   line 1   queued | running | completed | failed: <reason>
 *                   then     started: <unix time>, heartbeat: <unix time>, finished: <unix time>
 *   log.txt       progress lines of every stage (appended)
 *   metrics.h5    io/h5_run.h
 *   lock          the lock file of the process preparing or running it (engine/lock.h) */
#ifndef PL_ENGINE_RUN_DIR_H
#define PL_ENGINE_RUN_DIR_H

#include <stddef.h>

#include "config/experiment.h"

/* The states a status file holds, then two that readers derive for a completed run from its
 * record (engine/run_record.h): stale (computed from inputs that have changed) and damaged
 * (its metrics.h5 no longer verifies). */
typedef enum {
    PL_RUN_UNKNOWN, PL_RUN_QUEUED, PL_RUN_RUNNING, PL_RUN_COMPLETED, PL_RUN_FAILED,
    PL_RUN_STALE, PL_RUN_DAMAGED, PL_RUN_STATE_COUNT
} pl_run_state;

typedef struct {
    pl_run_state state;
    double started, heartbeat, finished; /* unix times; 0 = not set */
    char reason[768];                    /* failed, stale and damaged only */
} pl_run_status;

const char *pl_run_state_name(pl_run_state s);

/* <results>/<experiment>/runs/<run_id> */
void pl_run_dir_path(const char *results, const char *experiment, const char *run_id, char *buf,
                     size_t cap);

/* <run_dir>/lock: held (engine/lock.h) by the process preparing or running the run. */
void pl_run_lock_path(const char *run_dir, char *buf, size_t cap);

/* Creates the directory and writes config.yaml and run.tsv (index = the run's row in the
 * run table). */
pl_status pl_run_dir_prepare(const char *dir, const pl_experiment *exp, int index, pl_error *err);

pl_status pl_run_status_write(const char *dir, const pl_run_status *s, pl_error *err);
/* Reads dir/status; state PL_RUN_UNKNOWN when it is absent or unreadable. */
void pl_run_status_read(const char *dir, pl_run_status *s);

#endif
