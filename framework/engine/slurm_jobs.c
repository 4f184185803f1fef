/* slurm_jobs.c - submissions.tsv and squeue (see slurm_jobs.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/slurm_jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file_open.h"
#include "engine/fsutil.h"
#include "engine/proc.h"

enum { SQUEUE_OUT_MAX = 1 << 22 };

void pl_slurm_jobs_free(pl_slurm_jobs *jobs) {
    for (int i = 0; i < jobs->n; i++) {
        pl_slurm_submission *s = &jobs->subs[i];
        pl_free(s->task_alive);
        for (int k = 0; k < s->n_listed; k++) pl_free(s->listed_run[k]);
        pl_free(s->listed_run);
        pl_free(s->listed_task);
    }
    pl_free(jobs->subs);
    memset(jobs, 0, sizeof *jobs);
}

/* slurm/<stamp>/runs.tsv into s->listed_*. A missing table lists nothing. */
static pl_status read_run_table(const char *exp_dir, pl_slurm_submission *s, pl_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/slurm/%s/runs.tsv", exp_dir, s->stamp);
    FILE *f;
    if (pl_fopen_read(path, NULL, 0, &f, NULL) != PL_OK) return PL_OK;
    char line[512];
    int cap = 0;
    pl_status st = PL_OK;
    while (st == PL_OK && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || tab == NULL) continue;
        if (s->n_listed == cap) {
            int nc = cap ? 2 * cap : 64;
            int *t = pl_realloc(s->listed_task, (size_t)nc, sizeof *t, err);
            if (t) s->listed_task = t;
            char **r = t ? pl_realloc(s->listed_run, (size_t)nc, sizeof *r, err) : NULL;
            if (r == NULL) {
                st = PL_ERR_NOMEM;
                break;
            }
            s->listed_run = r;
            cap = nc;
        }
        s->listed_task[s->n_listed] = atoi(line);
        if ((s->listed_run[s->n_listed] = pl_strdup(tab + 1, err)) == NULL) st = PL_ERR_NOMEM;
        else s->n_listed++;
    }
    fclose(f);
    return st;
}

/* Marks the tasks of an array task spec alive: "3", or as squeue may print pending ones,
 * "[0-3,7]" or "[0-9%2]" (the %2 is the concurrency limit). Returns how many it newly marked. */
static int mark_tasks(pl_slurm_submission *s, const char *spec) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", spec + (*spec == '['));
    buf[strcspn(buf, "]%")] = '\0';
    int marked = 0;
    char *save;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *end;
        long a = strtol(item, &end, 10), b = *end == '-' ? strtol(end + 1, NULL, 10) : a;
        for (long t = a < 0 ? 0 : a; t <= b && t < s->tasks; t++)
            if (!s->task_alive[t]) s->task_alive[t] = true, marked++;
    }
    return marked;
}

/* squeue -h -r -o "%i %T": one job or array task per line, e.g. "41_3 RUNNING". */
static void apply_squeue(pl_slurm_jobs *jobs, char *out) {
    char *save_line;
    for (char *line = strtok_r(out, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
        char id[128], state[64];
        if (sscanf(line, "%127s %63s", id, state) != 2) continue;
        char *us = strchr(id, '_');
        if (us) *us = '\0';
        bool running = strcmp(state, "RUNNING") == 0 || strcmp(state, "COMPLETING") == 0;
        for (int i = 0; i < jobs->n; i++) {
            pl_slurm_submission *s = &jobs->subs[i];
            if (strcmp(id, s->stages_job) == 0) {
                s->stages_alive = true;
                snprintf(s->stages_state, sizeof s->stages_state, "%s", state);
            } else if (strcmp(id, s->array_job) == 0 && us) {
                int marked = mark_tasks(s, us + 1);
                if (running) s->tasks_running += marked;
                else s->tasks_pending += marked;
            }
        }
    }
}

static pl_status query_squeue(pl_slurm_jobs *jobs, pl_error *err) {
    char squeue[4096];
    if (!pl_proc_find("squeue", squeue, sizeof squeue)) {
        snprintf(jobs->why, sizeof jobs->why, "squeue is not on PATH");
        return PL_OK;
    }
    char *out = pl_alloc(SQUEUE_OUT_MAX, 1, err);
    if (out == NULL) return PL_ERR_NOMEM;
    const char *argv[] = {squeue, "-h", "-r", "-o", "%i %T", NULL};
    int status;
    pl_status st = pl_proc_capture(argv, out, SQUEUE_OUT_MAX, &status, err);
    if (st == PL_OK && status != 0) {
        snprintf(jobs->why, sizeof jobs->why, "squeue failed (exit %d): %.200s", status, out);
    } else if (st == PL_OK) {
        jobs->queried = true;
        apply_squeue(jobs, out);
    }
    pl_free(out);
    return st;
}

pl_status pl_slurm_jobs_read(const char *exp_dir, pl_slurm_jobs *jobs, pl_error *err) {
    memset(jobs, 0, sizeof *jobs);
    char path[4096];
    snprintf(path, sizeof path, "%s/slurm/submissions.tsv", exp_dir);
    FILE *f;
    if (pl_fopen_read(path, NULL, 0, &f, NULL) != PL_OK) return PL_OK;
    char line[1024];
    int cap = 0;
    pl_status st = PL_OK;
    while (st == PL_OK && fgets(line, sizeof line, f)) {
        pl_slurm_submission s = {0};
        if (line[0] == '#' || sscanf(line, "%63s\t%31s\t%31s\t%d\t%d\t%lf", s.stamp, s.stages_job, s.array_job,
                                     &s.tasks, &s.runs, &s.submitted) != 6 || s.tasks < 0)
            continue;
        if (strcmp(s.stages_job, "-") == 0) s.stages_job[0] = '\0';
        if (jobs->n == cap) {
            int nc = cap ? 2 * cap : 8;
            pl_slurm_submission *g = pl_realloc(jobs->subs, (size_t)nc, sizeof *g, err);
            if (g == NULL) {
                st = PL_ERR_NOMEM;
                break;
            }
            jobs->subs = g, cap = nc;
        }
        s.task_alive = pl_alloc((size_t)s.tasks + 1, sizeof *s.task_alive, err);
        if (s.task_alive == NULL) st = PL_ERR_NOMEM;
        jobs->subs[jobs->n++] = s;
        if (st == PL_OK) st = read_run_table(exp_dir, &jobs->subs[jobs->n - 1], err);
    }
    fclose(f);
    if (st == PL_OK && jobs->n > 0) st = query_squeue(jobs, err);
    if (st != PL_OK) pl_slurm_jobs_free(jobs);
    return st;
}

bool pl_slurm_run_in_flight(const pl_slurm_jobs *jobs, const char *run_id) {
    for (int i = 0; i < jobs->n; i++) {
        const pl_slurm_submission *s = &jobs->subs[i];
        for (int k = 0; k < s->n_listed; k++) {
            if (strcmp(s->listed_run[k], run_id) != 0) continue;
            int t = s->listed_task[k];
            if (s->stages_alive || (t >= 0 && t < s->tasks && s->task_alive[t])) return true;
        }
    }
    return false;
}

pl_status pl_slurm_jobs_append(const char *exp_dir, const pl_slurm_submission *s, pl_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/slurm/submissions.tsv", exp_dir);
    bool fresh = !pl_file_exists(path);
    FILE *f = fopen(path, "a");
    if (f == NULL) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (fresh) fprintf(f, "# stamp\tstages_job\tarray_job\ttasks\truns\tsubmitted\n");
    fprintf(f, "%s\t%s\t%s\t%d\t%d\t%.3f\n", s->stamp, s->stages_job[0] ? s->stages_job : "-", s->array_job,
            s->tasks, s->runs, s->submitted);
    if (fclose(f) != 0) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return PL_OK;
}
