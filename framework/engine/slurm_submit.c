/* slurm_submit.c - `prunelab slurm`: which runs to submit, the submission folder, sbatch
 * (see slurm.h). */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "engine/engine.h"
#include "engine/fsutil.h"
#include "engine/graph.h"
#include "engine/lock.h"
#include "engine/preflight.h"
#include "engine/proc.h"
#include "engine/run_dir.h"
#include "engine/run_record.h"
#include "engine/settings.h"
#include "engine/slurm.h"
#include "engine/slurm_jobs.h"

enum { PATH_CAP = 4096, OUT_CAP = 8192 };

typedef struct {
    long long runs_per_task, concurrency, cpus, jobs, threads;
    const char *time, *mem, *partition, *account;
    bool hdf5_locking;
} slurm_settings;

static pl_status read_settings(const pl_experiment *exp, slurm_settings *s, pl_error *err) {
    cfg_engine_settings es;
    PL_TRY(settings_engine(exp->base, &es, err));
    const cfg_slurm_settings *sl = &es.slurm;
    *s = (slurm_settings){sl->runs_per_task, sl->concurrency, sl->cpus_per_task, es.jobs, es.threads,
                          sl->time, sl->mem, sl->partition, sl->account, sl->hdf5_file_locking};
    if (s->cpus == 0) s->cpus = s->jobs * (s->threads > 0 ? s->threads : 1);
    return PL_OK;
}

/* ---- checks before anything is submitted ------------------------------------------------ */

static pl_status check_results_dir(const char *exp_dir, pl_error *err) {
    pl_status st = pl_mkdirs(exp_dir, err);
    if (st != PL_OK || access(exp_dir, W_OK) != 0)
        return PL_ERROR(err, PL_ERR_IO, "the results directory %s is not writable (%s); nothing was submitted",
                        exp_dir, st != PL_OK ? err->message : strerror(errno));
    return PL_OK;
}

static pl_status check_partition(const slurm_settings *s, pl_error *err) {
    if (s->partition == NULL) return PL_OK;
    char sinfo[PATH_CAP], out[OUT_CAP];
    if (!pl_proc_find("sinfo", sinfo, sizeof sinfo))
        return PL_ERROR(err, PL_ERR_MISSING, "sinfo is not on PATH: cannot check engine.slurm.partition '%s'",
                        s->partition);
    const char *argv[] = {sinfo, "-h", "-o", "%R", NULL};
    int status;
    PL_TRY(pl_proc_capture(argv, out, sizeof out, &status, err));
    if (status != 0)
        return PL_ERROR(err, PL_ERR_IO, "sinfo failed (exit %d): %.300s", status, out);
    char *save;
    for (char *p = strtok_r(out, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
        if (strcmp(p, s->partition) == 0) return PL_OK;
    return PL_ERROR(err, PL_ERR_CONFIG, "engine.slurm.partition: '%s' is not a partition of this cluster (sinfo "
                    "lists the partitions); nothing was submitted", s->partition);
}

/* ---- which runs ---------------------------------------------------------------------------- */

static pl_status plan(const pl_experiment *exp, const char *results, const char *exp_dir, bool *todo,
                      pl_slurm_report *rep, pl_error *err) {
    pl_slurm_jobs jobs;
    PL_TRY(pl_slurm_jobs_read(exp_dir, &jobs, err));
    pl_status st = PL_OK;
    pl_hash_memo memo = {0};
    if (jobs.n > 0 && !jobs.queried)
        st = PL_ERROR(err, PL_ERR_MISSING, "cannot tell which runs earlier submissions still hold: %s", jobs.why);
    for (int r = 0; st == PL_OK && r < exp->n_runs; r++) {
        todo[r] = false;
        bool duplicate = false;
        for (int q = 0; q < r && !duplicate; q++) duplicate = strcmp(exp->runs[q].run_id, exp->runs[r].run_id) == 0;
        if (duplicate) continue;
        rep->runs++;
        char dir[PATH_CAP], file[2 * PATH_CAP];
        pl_run_dir_path(results, exp->name, exp->runs[r].run_id, dir, sizeof dir);
        pl_run_record now; /* a stale or damaged run is submitted again (engine/run_record.h) */
        if ((st = pl_run_record_of(&exp->runs[r], &memo, &now, err)) != PL_OK) break;
        const bool done = pl_run_is_done(dir, results, &now, NULL, NULL, 0);
        pl_run_record_free(&now);
        if (done) {
            rep->completed++;
            continue;
        }
        if (pl_slurm_run_in_flight(&jobs, exp->runs[r].run_id)) {
            rep->in_flight++;
            continue;
        }
        bool held = false;
        pl_run_lock_path(dir, file, sizeof file);
        pl_lock_query(file, &held, NULL);
        if (held) {
            rep->running_here++;
            continue;
        }
        todo[r] = true;
        rep->submitted++;
    }
    pl_hash_memo_free(&memo);
    pl_slurm_jobs_free(&jobs);
    return st;
}

/* ---- the submission folder --------------------------------------------------------------- */

static void put_quoted(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

typedef struct {
    char dir[PATH_CAP], stamp[64], bin[PATH_CAP], exp_file[PATH_CAP], cwd[PATH_CAP];
} submission_paths;

static pl_status make_folder(const char *exp_dir, submission_paths *p, pl_error *err) {
    char base[2 * PATH_CAP];
    snprintf(base, sizeof base, "%s/slurm", exp_dir);
    PL_TRY(pl_mkdirs(base, err));
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    for (int k = 1; k < 1000; k++) {
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        if (k == 1) snprintf(p->stamp, sizeof p->stamp, "%s", stamp);
        else snprintf(p->stamp, sizeof p->stamp, "%s-%d", stamp, k);
        if ((size_t)snprintf(p->dir, sizeof p->dir, "%s/%s", base, p->stamp) >= sizeof p->dir)
            return PL_ERROR(err, PL_ERR_IO, "the path %s is too long", base);
        if (mkdir(p->dir, 0777) == 0) {
            char logs[PATH_CAP + 8];
            snprintf(logs, sizeof logs, "%s/logs", p->dir);
            return pl_mkdirs(logs, err);
        }
        if (errno != EEXIST) return PL_ERROR(err, PL_ERR_IO, "cannot create %s: %s", p->dir, strerror(errno));
    }
    return PL_ERROR(err, PL_ERR_IO, "cannot find a free submission folder under %s", base);
}

/* The folder's absolute path: tasks on other nodes find it there (a shared file system). */
static pl_status absolute_paths(const pl_experiment *exp, submission_paths *p, pl_error *err) {
    char real[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", p->bin, sizeof p->bin - 1);
    if (n <= 0) return PL_ERROR(err, PL_ERR_IO, "cannot find the prunelab binary: %s", strerror(errno));
    p->bin[n] = '\0';
    if (realpath(exp->path, real) == NULL)
        return PL_ERROR(err, PL_ERR_IO, "cannot resolve %s: %s", exp->path, strerror(errno));
    snprintf(p->exp_file, sizeof p->exp_file, "%s", real);
    if (getcwd(p->cwd, sizeof p->cwd) == NULL)
        return PL_ERROR(err, PL_ERR_IO, "cannot read the working directory: %s", strerror(errno));
    if (realpath(p->dir, real) == NULL) return PL_ERROR(err, PL_ERR_IO, "cannot resolve %s: %s", p->dir, strerror(errno));
    snprintf(p->dir, sizeof p->dir, "%s", real);
    return PL_OK;
}

static pl_status write_run_table(const pl_experiment *exp, const bool *todo, long long per_task,
                                 const submission_paths *p, int *tasks, pl_error *err) {
    char path[2 * PATH_CAP];
    snprintf(path, sizeof path, "%s/runs.tsv", p->dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "# task\trun_id  (prunelab slurm: the runs of each array task of %s)\n", exp->name);
    int listed = 0;
    for (int r = 0; r < exp->n_runs; r++)
        if (todo[r]) fprintf(f, "%lld\t%s\n", listed++ / per_task, exp->runs[r].run_id);
    *tasks = (int)((listed + per_task - 1) / per_task);
    if (fclose(f) != 0) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return PL_OK;
}

/* stages.sh or array.sh: checks the shared paths, then execs prunelab run. */
static pl_status write_script(const char *name, const pl_experiment *exp, const pl_slurm_options *opt,
                              const slurm_settings *s, const submission_paths *p, const char *exp_dir,
                              bool array, pl_error *err) {
    char path[2 * PATH_CAP], results[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", p->dir, name);
    if (realpath(exp_dir, results) == NULL) snprintf(results, sizeof results, "%s", exp_dir);
    FILE *f = fopen(path, "w");
    if (f == NULL) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "#!/bin/bash\n# prunelab slurm: %s of experiment %s (submission %s).\n",
            array ? "the run array" : "the shared model stages", exp->name, p->stamp);
    fprintf(f, "# Resources come from sbatch's command line (engine.slurm); the task runs in the\n"
               "# directory prunelab slurm was started from.\n");
    fprintf(f, "echo \"prunelab task start $(date +%%s.%%N) on $(hostname) job ${SLURM_JOB_ID:-?} task ${SLURM_ARRAY_TASK_ID:--}\"\n");
    if (!s->hdf5_locking) fprintf(f, "export HDF5_USE_FILE_LOCKING=FALSE\n");
    fprintf(f, "for f in ");
    put_quoted(f, p->bin), fputc(' ', f), put_quoted(f, p->exp_file), fputc(' ', f), put_quoted(f, results);
    fprintf(f, "; do\n  [ -e \"$f\" ] || { echo \"prunelab: $f is missing on $(hostname); prunelab slurm needs the "
               "binary, the experiment and the results directory on a file system every node shares\" >&2; exit 2; }\n"
               "done\n");
    fprintf(f, "exec ");
    put_quoted(f, p->bin), fputs(" run ", f), put_quoted(f, p->exp_file);
    for (int i = 0; i < opt->n_overrides; i++) fputc(' ', f), put_quoted(f, opt->overrides[i]);
    if (s->threads == 0) fprintf(f, " engine.threads=%lld", s->cpus / s->jobs > 0 ? s->cpus / s->jobs : 1);
    if (array) {
        fputs(" --runs-from ", f);
        char table[2 * PATH_CAP];
        snprintf(table, sizeof table, "%s/runs.tsv", p->dir);
        put_quoted(f, table);
        fputs(" --task \"$SLURM_ARRAY_TASK_ID\"\n", f);
    } else {
        fputs(" --stages-only\n", f);
    }
    if (fclose(f) != 0) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    chmod(path, 0755);
    return PL_OK;
}

/* ---- sbatch -------------------------------------------------------------------------------- */

enum { ARGS_MAX = 24, ARG_LEN = 3 * PATH_CAP };

typedef struct {
    const char *argv[ARGS_MAX + 1];
    char store[ARGS_MAX][ARG_LEN];
    int n;
} arg_list;

static void add(arg_list *a, const char *fmt, const char *v) {
    if (a->n >= ARGS_MAX) return;
    snprintf(a->store[a->n], ARG_LEN, fmt, v);
    a->argv[a->n] = a->store[a->n];
    a->argv[++a->n] = NULL;
}

static void sbatch_args(arg_list *a, const char *sbatch, const slurm_settings *s, const pl_experiment *exp,
                        const submission_paths *p, const char *what, const char *log) {
    char num[32];
    add(a, "%s", sbatch);
    add(a, "%s", "--parsable");
    char name[256];
    snprintf(name, sizeof name, "%s-%s", exp->name, what);
    add(a, "--job-name=%s", name);
    char out[2 * PATH_CAP];
    snprintf(out, sizeof out, "%s/logs/%s", p->dir, log);
    add(a, "--output=%s", out);
    add(a, "--chdir=%s", p->cwd);
    add(a, "%s", "--ntasks=1");
    snprintf(num, sizeof num, "%lld", s->cpus);
    add(a, "--cpus-per-task=%s", num);
    if (s->time) add(a, "--time=%s", s->time);
    if (s->mem) add(a, "--mem=%s", s->mem);
    if (s->partition) add(a, "--partition=%s", s->partition);
    if (s->account) add(a, "--account=%s", s->account);
}

static void print_command(FILE *log, const arg_list *a) {
    if (log == NULL) return;
    fprintf(log, " ");
    for (int i = 0; i < a->n; i++) fprintf(log, " %s", a->argv[i]);
    fprintf(log, "\n");
}

/* Runs sbatch --parsable; the job id it prints goes to id. */
static pl_status submit(const arg_list *a, const char *what, char *id, size_t cap, pl_error *err) {
    char out[OUT_CAP];
    int status;
    PL_TRY(pl_proc_capture(a->argv, out, sizeof out, &status, err));
    size_t digits = strspn(out, "0123456789");
    if (status != 0 || digits == 0) {
        for (size_t n = strlen(out); n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '); n--) out[n - 1] = '\0';
        return PL_ERROR(err, PL_ERR_IO, "sbatch refused the %s (exit %d): %.500s", what, status, out);
    }
    snprintf(id, cap, "%.*s", (int)digits, out);
    return PL_OK;
}

static void cancel(const char *job) {
    char scancel[PATH_CAP], out[256];
    int status;
    if (!pl_proc_find("scancel", scancel, sizeof scancel)) return;
    const char *argv[] = {scancel, job, NULL};
    pl_proc_capture(argv, out, sizeof out, &status, NULL);
}

static pl_status submit_jobs(const pl_experiment *exp, const pl_slurm_options *opt, const slurm_settings *s,
                             const submission_paths *p, const char *sbatch, pl_slurm_report *rep, pl_error *err) {
    char path[2 * PATH_CAP], range[64];
    arg_list stages = {0}, array = {0};
    if (rep->shared_stages > 0) {
        sbatch_args(&stages, sbatch, s, exp, p, "stages", "stages-%j.out");
        snprintf(path, sizeof path, "%s/stages.sh", p->dir);
        add(&stages, "%s", path);
    }
    if (rep->shared_stages > 0 && !opt->dry_run)
        PL_TRY(submit(&stages, "stages job", rep->stages_job, sizeof rep->stages_job, err));
    /* The array's arguments once the stages job's id is known. */
    sbatch_args(&array, sbatch, s, exp, p, "runs", "run-%A_%a.out");
    if (s->concurrency > 0) snprintf(range, sizeof range, "0-%d%%%lld", rep->tasks - 1, s->concurrency);
    else snprintf(range, sizeof range, "0-%d", rep->tasks - 1);
    add(&array, "--array=%s", range);
    if (rep->shared_stages > 0) {
        add(&array, "--dependency=afterok:%s", opt->dry_run ? "<stages job>" : rep->stages_job);
        add(&array, "%s", "--kill-on-invalid-dep=yes");
    }
    snprintf(path, sizeof path, "%s/array.sh", p->dir);
    add(&array, "%s", path);
    if (opt->dry_run) {
        if (opt->log) fprintf(opt->log, "dry run: would submit\n");
        if (rep->shared_stages > 0) print_command(opt->log, &stages);
        print_command(opt->log, &array);
        return PL_OK;
    }
    pl_status st = submit(&array, "run array", rep->array_job, sizeof rep->array_job, err);
    if (st != PL_OK && rep->stages_job[0]) { /* all or nothing */
        cancel(rep->stages_job);
        pl_error_wrap(err, "nothing was submitted (stages job %s cancelled)", rep->stages_job);
        rep->stages_job[0] = '\0';
    }
    return st;
}

/* ---- the whole command --------------------------------------------------------------------- */

static pl_status count_shared_stages(const pl_experiment *exp, const bool *todo, const char *results, int *count,
                                     pl_error *err) {
    pl_graph g;
    PL_TRY(pl_graph_build(exp, todo, results, NULL, &g, err));
    *count = 0;
    for (int n = 0; n < g.n_model; n++) *count += !g.nodes[n].cached && g.nodes[n].users >= 2;
    pl_graph_free(&g);
    return PL_OK;
}

pl_status pl_slurm_submit(const pl_experiment *exp, const pl_slurm_options *opt, pl_slurm_report *rep,
                          pl_error *err) {
    memset(rep, 0, sizeof *rep);
    slurm_settings s;
    char results[PATH_CAP], exp_dir[PATH_CAP], sbatch[PATH_CAP] = "sbatch";
    PL_TRY(read_settings(exp, &s, err));
    PL_TRY(pl_preflight(exp, err));
    PL_TRY(pl_engine_dirs(exp, results, sizeof results, exp_dir, sizeof exp_dir, err));
    snprintf(rep->exp_dir, sizeof rep->exp_dir, "%s", exp_dir);
    if (!opt->dry_run && !pl_proc_find("sbatch", sbatch, sizeof sbatch))
        return PL_ERROR(err, PL_ERR_MISSING, "sbatch is not on PATH: run prunelab slurm where Slurm's commands are "
                        "(a login node; Debian: slurm-client), or use --dry-run to only write the scripts");
    PL_TRY(check_results_dir(exp_dir, err));
    if (!opt->dry_run) PL_TRY(check_partition(&s, err));
    bool *todo = pl_alloc((size_t)exp->n_runs + 1, sizeof *todo, err);
    if (todo == NULL) return PL_ERR_NOMEM;
    /* One submitter at a time: two at once would both send the same runs. */
    char lock_path[2 * PATH_CAP];
    snprintf(lock_path, sizeof lock_path, "%s/slurm", exp_dir);
    pl_status st = pl_mkdirs(lock_path, err);
    snprintf(lock_path, sizeof lock_path, "%s/slurm/submit.lock", exp_dir);
    pl_lock lock = {-1};
    if (st == PL_OK) st = pl_lock_wait(lock_path, &lock, err);
    if (st != PL_OK) {
        pl_free(todo);
        return st;
    }
    st = plan(exp, results, exp_dir, todo, rep, err);
    if (st == PL_OK && rep->submitted > 0) st = count_shared_stages(exp, todo, results, &rep->shared_stages, err);
    FILE *log = opt->log;
    if (st == PL_OK && log) {
        fprintf(log, "experiment %s: %d runs, %d completed, %d in pending or running Slurm tasks", exp->name, rep->runs,
                rep->completed, rep->in_flight);
        if (rep->running_here) fprintf(log, ", %d running in a process here", rep->running_here);
        fprintf(log, "; %d to submit\n", rep->submitted);
    }
    submission_paths p;
    if (st == PL_OK && rep->submitted > 0) {
        st = make_folder(exp_dir, &p, err);
        if (st == PL_OK) st = absolute_paths(exp, &p, err);
        if (st == PL_OK) st = write_run_table(exp, todo, s.runs_per_task, &p, &rep->tasks, err);
        if (st == PL_OK && rep->shared_stages > 0) st = write_script("stages.sh", exp, opt, &s, &p, exp_dir, false, err);
        if (st == PL_OK) st = write_script("array.sh", exp, opt, &s, &p, exp_dir, true, err);
        if (st == PL_OK && !opt->dry_run) st = pl_engine_enqueue(exp, todo, NULL, err); /* status: queued */
        if (st == PL_OK) {
            snprintf(rep->dir, sizeof rep->dir, "%s", p.dir);
            st = submit_jobs(exp, opt, &s, &p, sbatch, rep, err);
        }
        if (st == PL_OK && !opt->dry_run) {
            pl_slurm_submission rec = {.tasks = rep->tasks, .runs = rep->submitted, .submitted = pl_wall_time()};
            snprintf(rec.stamp, sizeof rec.stamp, "%s", p.stamp);
            snprintf(rec.stages_job, sizeof rec.stages_job, "%s", rep->stages_job);
            snprintf(rec.array_job, sizeof rec.array_job, "%s", rep->array_job);
            st = pl_slurm_jobs_append(exp_dir, &rec, err);
        }
    }
    pl_lock_release(&lock);
    pl_free(todo);
    return st;
}
