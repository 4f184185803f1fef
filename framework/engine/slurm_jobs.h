/* slurm_jobs.h - the record of a sweep's Slurm submissions and the jobs Slurm still holds.
 * Internal to engine/ (slurm_submit.c, slurm_status.c).
 *
 * results/<experiment>/slurm/submissions.tsv, one line per submission:
 *   stamp<TAB>stages_job<TAB>array_job<TAB>tasks<TAB>runs<TAB>submitted (unix time)
 * with "-" for a stages job that was not needed. The run table of a submission is
 * slurm/<stamp>/runs.tsv (task<TAB>run_id). */
#ifndef PL_ENGINE_SLURM_JOBS_H
#define PL_ENGINE_SLURM_JOBS_H

#include <stdbool.h>

#include "core/error.h"

typedef struct {
    char stamp[64], stages_job[32], array_job[32];
    int tasks, runs;
    double submitted;
    /* from squeue: */
    bool stages_alive;       /* the stages job is pending or running */
    char stages_state[64];
    int tasks_pending, tasks_running;
    bool *task_alive;        /* per task: pending or running */
    /* from runs.tsv: */
    int n_listed;
    int *listed_task;
    char **listed_run;
} pl_slurm_submission;

typedef struct {
    pl_slurm_submission *subs;
    int n;
    bool queried;            /* squeue answered (false: not installed or failed) */
    char why[256];           /* why not */
} pl_slurm_jobs;

/* Reads exp_dir/slurm/submissions.tsv (absent: none) and asks squeue which of their jobs and
 * tasks are still pending or running. */
pl_status pl_slurm_jobs_read(const char *exp_dir, pl_slurm_jobs *jobs, pl_error *err);
void pl_slurm_jobs_free(pl_slurm_jobs *jobs);

/* Whether run_id is in a pending or running task (or behind a pending stages job) of some
 * submission. */
bool pl_slurm_run_in_flight(const pl_slurm_jobs *jobs, const char *run_id);

pl_status pl_slurm_jobs_append(const char *exp_dir, const pl_slurm_submission *s, pl_error *err);

#endif
