/* test_engine_kill.c - kill -9 of a sweep at random moments, then a full re-run: every run
 * completes, no run that had completed is computed again (its metrics.h5 is untouched), no
 * cached model is written twice, and every file left behind is readable. */
#include "engine_testutil.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/cache.h"
#include "io/h5_summary.h"
#include "model/checkpoint.h"

static const char *const OV[] = {"engine.threads=1", "pipeline.pretrain.steps=24"};

typedef struct {
    bool done;
    struct timespec mtime;
    ino_t ino;
} snapshot;

static void take(const char *dir, const pl_experiment *exp, snapshot *snap) {
    for (int r = 0; r < exp->n_runs; r++) {
        char run_dir[512], h5[600];
        pl_run_dir_path(dir, exp->name, exp->runs[r].run_id, run_dir, sizeof run_dir);
        snprintf(h5, sizeof h5, "%s/metrics.h5", run_dir);
        pl_run_status s;
        pl_run_status_read(run_dir, &s);
        struct stat st;
        snap[r].done = s.state == PL_RUN_COMPLETED && stat(h5, &st) == 0;
        if (snap[r].done) snap[r].mtime = st.st_mtim, snap[r].ino = st.st_ino;
    }
}

/* PRUNELAB_KILL_ROUNDS=N kills N times (default 4; the campaign: make campaigns runs 20). */
Test(engine_kill, kill_9_then_rerun_loses_nothing, .timeout = 1200) {
    const char *env = getenv("PRUNELAB_KILL_ROUNDS");
    const int rounds = env != NULL && atoi(env) > 0 ? atoi(env) : 4;
    int lost = 0, kills = 0;
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    pl_experiment *exp = engine_load(dir, OV, 2);
    snapshot before[16], after[16];
    cr_assert_leq(exp->n_runs, 16);
    srand((unsigned)time(NULL));
    for (int round = 0; round < rounds; round++) {
        take(dir, exp, before);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            pl_engine_report rep;
            pl_engine_options opt = {0};
            pl_error err;
            pl_engine_run(exp, &opt, &rep, &err);
            _exit(0);
        }
        long delay_ms = 50 + rand() % 700;
        nanosleep(&(struct timespec){delay_ms / 1000, (delay_ms % 1000) * 1000000L}, NULL);
        kill(pid, SIGKILL);
        kills++;
        int status;
        waitpid(pid, &status, 0);
        take(dir, exp, after);
        for (int r = 0; r < exp->n_runs; r++)
            if (before[r].done) {
                lost += !after[r].done;
                cr_expect(after[r].done, "a completed run stays completed");
                cr_expect(after[r].ino == before[r].ino && after[r].mtime.tv_nsec == before[r].mtime.tv_nsec,
                          "run %s was completed and must not be recomputed", exp->runs[r].run_id);
            }
    }
    take(dir, exp, before);
    pl_engine_options opt = {0};
    pl_engine_report rep;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    cr_expect_eq(rep.failed, 0);
    cr_expect_eq(rep.completed + rep.already_completed, exp->n_runs);
    take(dir, exp, after);
    for (int r = 0; r < exp->n_runs; r++) {
        cr_expect(after[r].done, "run %s completed", exp->runs[r].run_id);
        if (before[r].done)
            cr_expect(after[r].ino == before[r].ino && after[r].mtime.tv_nsec == before[r].mtime.tv_nsec,
                      "run %s recomputed", exp->runs[r].run_id);
        char h5[600];
        engine_run_path(dir, exp->runs[r].run_id, "metrics.h5", h5, sizeof h5);
        pl_h5_summary sum;
        cr_expect_eq(pl_h5_read_summary(h5, &sum, &err), PL_OK, "%s", err.message);
        cr_expect_str_eq(sum.status, "completed");
        pl_h5_summary_free(&sum);
        char key[CFG_HASH_HEX], model[600];
        cr_assert_eq(pl_cache_key(&exp->runs[r], 0, NULL, key, &err), PL_OK);
        pl_cache_model_path(dir, key, model, sizeof model);
        vlm m;
        cr_expect_eq(vlm_load(&m, model, 4, &err), PL_OK, "%s", err.message);
        vlm_free(&m);
    }
    fprintf(stderr, "engine_kill: %d kills at random moments, %d completed runs lost, %d runs\n", kills,
            lost, exp->n_runs);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}
