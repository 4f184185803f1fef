/* test_engine_progress.c - what a sweep says about itself: one progress line per finished
 * run with done/total and failures; `prunelab status` telling a killed run (stale heartbeat,
 * lock free) as interrupted from one still running (its lock held) and from one a live
 * invocation still plans (waiting for a stage or a job slot). */
#include "engine_testutil.h"

#include "engine/fsutil.h"
#include "engine/invocation.h"
#include "engine/lock.h"
#include "engine/status.h"

#include <sys/wait.h>
#include <unistd.h>

static const char *const FAST[] = {"engine.threads=1"};

/* The engine's log of one sweep (free it). */
static char *sweep_log(const char *dir, const char *fault) {
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    cr_assert_not_null(log);
    engine_sweep_log(dir, FAST, 1, fault, log);
    fclose(log);
    return text;
}

Test(engine_progress, a_line_per_finished_run) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    char *text = sweep_log(dir, NULL);
    for (int k = 1; k <= 8; k++) {
        char want[64];
        snprintf(want, sizeof want, "progress: %d/8 runs finished (0 failed)", k);
        cr_expect_not_null(strstr(text, want), "no '%s' in: %s", want, text);
    }
    cr_expect_not_null(strstr(text, "progress: 7/8 runs finished (0 failed); ETA about "), "%s", text);
    engine_rmdir(dir);
    free(text);
}

Test(engine_progress, failures_are_counted) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    char *text = sweep_log(dir, "nan:seed=1"); /* seed 1's teacher diverges: its 4 runs fail */
    cr_expect_not_null(strstr(text, "progress: 8/8 runs finished (4 failed)"), "%s", text);
    engine_rmdir(dir);
    free(text);
}

/* Status text of the fixture's results after marking run 0 running with a heartbeat
 * `age` seconds old, optionally holding its lock as a live process would. */
static char *status_with_running_run(const char *dir, double age, bool hold_lock, char *id, size_t cap) {
    pl_experiment *exp = engine_load(dir, FAST, 1);
    snprintf(id, cap, "%s", exp->runs[0].run_id);
    pl_experiment_free(exp);
    char run_dir[512], lock_path[600], exp_dir[128];
    engine_run_path(dir, id, "", run_dir, sizeof run_dir);
    pl_run_status s = {.state = PL_RUN_RUNNING};
    s.started = s.heartbeat = pl_wall_time() - age;
    pl_error err;
    cr_assert_eq(pl_run_status_write(run_dir, &s, &err), PL_OK, "%s", err.message);
    pl_run_lock_path(run_dir, lock_path, sizeof lock_path);
    pl_lock lock = {-1};
    bool held = false;
    if (hold_lock) cr_assert_eq(pl_lock_try(lock_path, &lock, &held, &err), PL_OK, "%s", err.message);
    snprintf(exp_dir, sizeof exp_dir, "%s/tiny_sweep", dir);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    cr_assert_eq(pl_status_print(exp_dir, out, &err), PL_OK, "%s", err.message);
    fclose(out);
    pl_lock_release(&lock);
    return text;
}

Test(engine_progress, status_tells_interrupted_from_running) {
    char dir[64], id[16], want[128];
    engine_tmpdir(dir, sizeof dir);
    engine_sweep(dir, FAST, 1, NULL);
    char *killed = status_with_running_run(dir, 3600, false, id, sizeof id);
    cr_expect_not_null(strstr(killed, "7 done, 0 running, 1 interrupted, 0 failed"), "%s", killed);
    snprintf(want, sizeof want, "  interrupted  %s  heartbeat 3600 s ago", id);
    cr_expect_not_null(strstr(killed, want), "%s", killed);
    char *slow = status_with_running_run(dir, 3600, true, id, sizeof id);
    cr_expect_not_null(strstr(slow, "7 done, 1 running, 0 failed"), "a held lock: still running: %s", slow);
    char *fresh = status_with_running_run(dir, 1, false, id, sizeof id);
    cr_expect_not_null(strstr(fresh, "7 done, 1 running, 0 failed"), "a fresh heartbeat: %s", fresh);
    free(killed);
    free(slow);
    free(fresh);
    engine_rmdir(dir);
}

/* A stale run that a live invocation still plans is waiting, not interrupted; once the
 * invocation ends (or dies: its record's lock is gone) it reads interrupted again, and the
 * next invocation removes the dead record. */
Test(engine_progress, status_tells_waiting_from_interrupted) {
    char dir[64], id[16], exp_dir[128], want[160];
    engine_tmpdir(dir, sizeof dir);
    engine_sweep(dir, FAST, 1, NULL);
    snprintf(exp_dir, sizeof exp_dir, "%s/tiny_sweep", dir);
    char *killed = status_with_running_run(dir, 3600, false, id, sizeof id);
    free(killed);
    const char *ids[1] = {id};
    pl_invocation inv;
    pl_error err;
    cr_assert_eq(pl_invocation_begin(exp_dir, ids, 1, 5, &inv, &err), PL_OK, "%s", err.message);
    pl_invocation_progress(&inv, 2);
    pl_live_invocations live;
    cr_assert_eq(pl_invocations_read(exp_dir, &live, &err), PL_OK, "%s", err.message);
    cr_expect_eq(live.n_live, 1);
    cr_expect_eq(live.nodes_done, 2);
    cr_expect_eq(live.nodes_total, 5);
    cr_expect(pl_invocations_plan(&live, id));
    cr_expect_not(pl_invocations_plan(&live, "000000000000"));
    pl_invocations_free(&live);
    /* A forked child (engine.isolation: process) neither ends the record nor keeps it alive. */
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        pl_invocation_end(&inv);
        pl_invocation_leave(&inv);
        _exit(0);
    }
    int wstatus;
    cr_assert_eq(waitpid(child, &wstatus, 0), child);
    cr_expect(pl_file_exists(inv.path), "a child's end leaves the owner's record");
    bool held = false;
    cr_expect_eq(pl_lock_query(inv.path, &held, &err), PL_OK);
    cr_expect(held, "the owner still holds the record's lock");
    char *waiting = status_with_running_run(dir, 3600, false, id, sizeof id);
    cr_expect_not_null(strstr(waiting, "7 done, 1 running (1 of them waiting), 0 failed"), "%s", waiting);
    snprintf(want, sizeof want, "  waiting  %s  for a stage or a job slot", id);
    cr_expect_not_null(strstr(waiting, want), "%s", waiting);
    free(waiting);
    /* A killed invocation leaves its record with nobody holding its lock. */
    char dead[600];
    snprintf(dead, sizeof dead, "%s/invocations/deadhost-1-1-0.runs", exp_dir);
    FILE *f = fopen(dead, "w");
    cr_assert_not_null(f);
    fprintf(f, "progress %09d %09d %017.3f\n%s\n", 0, 3, 1.0, id);
    fclose(f);
    pl_invocation_end(&inv);
    char *after = status_with_running_run(dir, 3600, false, id, sizeof id);
    cr_expect_not_null(strstr(after, "1 interrupted"), "a dead invocation's plan counts for nothing: %s", after);
    free(after);
    cr_assert_eq(pl_invocation_begin(exp_dir, ids, 1, 5, &inv, &err), PL_OK, "%s", err.message);
    cr_expect_not(pl_file_exists(dead), "the next invocation removes the dead record");
    pl_invocation_end(&inv);
    cr_expect_not(pl_file_exists(inv.path), "an ended invocation leaves no record");
    engine_rmdir(dir);
}
