/* slurm_status.c - the Slurm part of `prunelab status` (see slurm.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "engine/slurm.h"
#include "engine/slurm_jobs.h"

enum { SHOWN = 5 };

void pl_slurm_status_print(const char *exp_dir, FILE *out) {
    pl_slurm_jobs jobs;
    pl_error err;
    pl_error_clear(&err);
    if (pl_slurm_jobs_read(exp_dir, &jobs, &err) != PL_OK) {
        fprintf(out, "slurm: cannot read the submissions: %s\n", err.message);
        return;
    }
    if (jobs.n == 0) return;
    fprintf(out, "slurm: %d submission%s", jobs.n, jobs.n == 1 ? "" : "s");
    if (!jobs.queried) fprintf(out, " (job states unknown: %s)", jobs.why);
    fprintf(out, "%s\n", jobs.n > SHOWN ? "; the latest:" : "");
    for (int i = jobs.n > SHOWN ? jobs.n - SHOWN : 0; i < jobs.n; i++) {
        const pl_slurm_submission *s = &jobs.subs[i];
        fprintf(out, "  %s  %d run%s in %d task%s;", s->stamp, s->runs, s->runs == 1 ? "" : "s", s->tasks,
                s->tasks == 1 ? "" : "s");
        if (s->stages_job[0])
            fprintf(out, " stages job %s %s,", s->stages_job, !jobs.queried ? "" : s->stages_alive ? s->stages_state : "ended");
        fprintf(out, " array job %s", s->array_job);
        if (jobs.queried) {
            int ended = s->tasks - s->tasks_pending - s->tasks_running;
            fprintf(out, ": %d pending, %d running, %d ended", s->tasks_pending, s->tasks_running, ended);
        }
        fprintf(out, "; logs in %s/slurm/%s/logs\n", exp_dir, s->stamp);
    }
    pl_slurm_jobs_free(&jobs);
}
