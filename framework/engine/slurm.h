/* slurm.h - `prunelab slurm`: a sweep as Slurm jobs, and what Slurm is doing with them.
 *
 * pl_slurm_submit works out which runs still need doing (not completed, not in a pending or
 * running task of an earlier submission, not running in some process here), and writes a
 * submission folder results/<experiment>/slurm/<stamp>/:
 *   runs.tsv    the run table: task<TAB>run_id (engine.slurm.runs_per_task runs per task)
 *   stages.sh   when some shared model stage is not cached: `prunelab run ... --stages-only`
 *   array.sh    the run array: `prunelab run ... --runs-from runs.tsv --task $SLURM_ARRAY_TASK_ID`
 *   logs/       one log per job and array task
 * then submits them with sbatch (resources from engine.slurm; the array waits for the stages
 * job with --dependency=afterok and is cancelled if that job fails), appends a line to
 * results/<experiment>/slurm/submissions.tsv and returns without waiting.
 *
 * Every node must see the same paths (a shared file system): the prunelab binary, the
 * experiment and config files, the teachers, the Fashion-MNIST directory and the results
 * directory; the scripts check the first and last before starting. Tasks run in the
 * directory prunelab slurm was started from. Concurrent tasks rely on the engine's locks
 * (engine/lock.h: a cache entry is computed once, a run written by one task) and write
 * index.tsv under experiment.lock; HDF5's own file locking is turned off in the tasks
 * (HDF5_USE_FILE_LOCKING=FALSE) unless engine.slurm.hdf5_file_locking says otherwise. */
#ifndef PL_ENGINE_SLURM_H
#define PL_ENGINE_SLURM_H

#include <stdbool.h>
#include <stdio.h>

#include "config/experiment.h"

typedef struct {
    bool dry_run;                 /* write the folder and print the sbatch commands; submit nothing */
    const char *const *overrides; /* the command line's key=value, given to every task */
    int n_overrides;
    FILE *log;                    /* what was decided and submitted; NULL = silent */
} pl_slurm_options;

typedef struct {
    int runs;          /* distinct runs of the experiment */
    int completed;     /* already completed */
    int in_flight;     /* in a pending or running task of an earlier submission */
    int running_here;  /* held by a process running them (a run lock) */
    int submitted;     /* runs in this submission */
    int tasks;         /* array tasks */
    int shared_stages; /* model stages the stages job computes (0: no stages job) */
    char stages_job[32], array_job[32]; /* job ids ("" when not submitted) */
    char dir[8192];    /* the submission folder ("" when nothing was to be done) */
    char exp_dir[4096]; /* results/<experiment> */
} pl_slurm_report;

pl_status pl_slurm_submit(const pl_experiment *exp, const pl_slurm_options *opt, pl_slurm_report *rep,
                          pl_error *err);

/* For `prunelab status`: each submission's job ids and how many of its tasks Slurm still
 * has pending or running (via squeue). Prints nothing when the sweep was never submitted. */
void pl_slurm_status_print(const char *exp_dir, FILE *out);

#endif
