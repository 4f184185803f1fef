/* test_engine_locks.c - invocations sharing a results directory (engine/lock.h): a lock
 * whose holder died is free at once; two processes running the same sweep at the same time
 * compute each model stage once and run each run once; a run whose lock another process
 * holds is skipped as running elsewhere. */
#include "engine_testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/fsutil.h"
#include "engine/lock.h"

static const char *const FAST[] = {"engine.threads=1"};

Test(engine_locks, a_dead_holders_lock_is_free) {
    char dir[64], path[128];
    engine_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.lock", dir);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        pl_lock lock;
        bool held = false;
        pl_lock_try(path, &lock, &held, NULL);
        char c = held ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1) _exit(1);
        pause(); /* until killed */
        _exit(0);
    }
    char c = 0;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    cr_assert_eq(c, 'y', "the child took the lock");
    pl_lock mine;
    bool held = true;
    pl_error err;
    cr_assert_eq(pl_lock_try(path, &mine, &held, &err), PL_OK, "%s", err.message);
    cr_expect(!held, "held by the child");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(pl_lock_try(path, &mine, &held, &err), PL_OK, "%s", err.message);
    cr_expect(held, "the kernel dropped the dead child's lock");
    pl_lock_release(&mine);
    close(ready[0]);
    close(ready[1]);
    engine_rmdir(dir);
}

/* A child: waits for the start signal (EOF on go), runs the fixture sweep, writes its report
 * to out, exits. No Criterion assertions here: the parent checks. */
static void sweep_child(const char *dir, int go, int out, int id) {
    char c, log_path[128], results[128];
    while (read(go, &c, 1) > 0) {}
    snprintf(log_path, sizeof log_path, "%s/child%d.log", dir, id);
    snprintf(results, sizeof results, "engine.results_dir=%s", dir);
    FILE *log = fopen(log_path, "w");
    const char *ov[] = {results, FAST[0]};
    pl_experiment *exp = NULL;
    pl_engine_report rep = {0};
    pl_error err;
    pl_error_clear(&err);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no", .log = log};
    pl_status st = pl_experiment_load(ENGINE_FIXTURE, ov, 2, &exp, &err);
    if (st == PL_OK) st = pl_engine_run(exp, &opt, &rep, &err);
    if (st != PL_OK && log) fprintf(log, "error: %s\n", err.message);
    pl_experiment_free(exp);
    if (log) fclose(log);
    ssize_t w = write(out, &rep, sizeof rep);
    _exit(st == PL_OK && w == (ssize_t)sizeof rep ? 0 : 1);
}

/* How many times log.txt of run_id says the run started. */
static int starts_of(const char *dir, const char *run_id) {
    char path[512], line[512];
    engine_run_path(dir, run_id, "log.txt", path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    int n = 0;
    while (fgets(line, sizeof line, f)) n += strncmp(line, "--- run ", 8) == 0 && strstr(line, " started ") != NULL;
    fclose(f);
    return n;
}

/* One round of two concurrent sweeps of the same experiment on a fresh directory. */
static void two_processes_once(void) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    int go[2], out[2][2];
    pid_t pid[2];
    cr_assert_eq(pipe(go), 0);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(pipe(out[i]), 0);
        pid[i] = fork();
        cr_assert_neq(pid[i], -1);
        if (pid[i] == 0) {
            close(go[1]);
            close(out[i][0]);
            sweep_child(dir, go[0], out[i][1], i);
        }
        close(out[i][1]);
    }
    close(go[0]);
    close(go[1]); /* both start now */
    pl_engine_report rep[2];
    for (int i = 0; i < 2; i++) {
        int status;
        cr_assert_eq(read(out[i][0], &rep[i], sizeof rep[i]), (ssize_t)sizeof rep[i]);
        cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed (see %s/child%d.log)", i, dir, i);
        close(out[i][0]);
    }
    cr_expect_eq(rep[0].stages_computed + rep[1].stages_computed, 2,
                 "one teacher per seed between both processes, not %d + %d",
                 rep[0].stages_computed, rep[1].stages_computed);
    cr_expect_eq(rep[0].failed + rep[1].failed, 0);
    cr_expect_eq(rep[0].completed + rep[1].completed, 8, "each run completed by one of them");
    cr_expect_eq(rep[0].completed + rep[0].runs_elsewhere + rep[0].already_completed, 8,
                 "the rest left to the other");
    pl_experiment *exp = engine_load(dir, FAST, 1);
    for (int r = 0; r < exp->n_runs; r++) {
        char path[512];
        pl_run_status s;
        engine_run_path(dir, exp->runs[r].run_id, "", path, sizeof path);
        pl_run_status_read(path, &s);
        cr_expect_eq(s.state, PL_RUN_COMPLETED, "run %s", exp->runs[r].run_id);
        cr_expect_eq(starts_of(dir, exp->runs[r].run_id), 1, "run %s ran once", exp->runs[r].run_id);
    }
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* PRUNELAB_LOCK_REPEATS=N repeats it (the campaign: make campaigns runs 5). */
Test(engine_locks, two_processes_do_each_stage_and_run_once, .timeout = 900) {
    const char *env = getenv("PRUNELAB_LOCK_REPEATS");
    const int repeats = env != NULL && atoi(env) > 0 ? atoi(env) : 1;
    for (int i = 0; i < repeats; i++) two_processes_once();
    if (repeats > 1) fprintf(stderr, "engine_locks: %d rounds of two concurrent sweeps\n", repeats);
}

Test(engine_locks, a_run_locked_elsewhere_is_skipped) {
    char dir[64], run_dir[512], lock_path[600];
    engine_tmpdir(dir, sizeof dir);
    pl_experiment *exp = engine_load(dir, FAST, 1);
    char id[16];
    snprintf(id, sizeof id, "%s", exp->runs[0].run_id);
    pl_experiment_free(exp);
    engine_run_path(dir, id, "", run_dir, sizeof run_dir);
    snprintf(lock_path, sizeof lock_path, "%slock", run_dir);
    pl_error err;
    cr_assert_eq(pl_mkdirs(run_dir, &err), PL_OK, "%s", err.message);
    pl_lock other; /* another open file description: as another process would hold it */
    bool held;
    cr_assert_eq(pl_lock_try(lock_path, &other, &held, &err), PL_OK, "%s", err.message);
    cr_assert(held);
    pl_engine_report a = engine_sweep(dir, FAST, 1, NULL);
    cr_expect_eq(a.runs_elsewhere, 1);
    cr_expect_eq(a.completed, 7);
    cr_expect_eq(starts_of(dir, id), 0, "the locked run was left alone");
    pl_lock_release(&other);
    pl_engine_report b = engine_sweep(dir, FAST, 1, NULL);
    cr_expect_eq(b.runs_elsewhere, 0);
    cr_expect_eq(b.completed, 1);
    cr_expect_eq(b.already_completed, 7);
    engine_rmdir(dir);
}
