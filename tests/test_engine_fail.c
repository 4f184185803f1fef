/* test_engine_fail.c - failing runs stay isolated: a NaN loss (test hook nan:seed=1) fails
 * the seed-1 teacher and the runs that need it, with the reason in their status, while the
 * seed-0 runs complete; with engine.isolation: process a run that aborts (crash:seed=1) is
 * marked "crashed" and the others complete. A re-run retries only the failed runs. */
#include "engine_testutil.h"

static void check_statuses(const char *dir, const char *const *ov, int n, const char *reason_part) {
    pl_experiment *exp = engine_load(dir, ov, n);
    for (int r = 0; r < exp->n_runs; r++) {
        char run_dir[512];
        pl_run_dir_path(dir, exp->name, exp->runs[r].run_id, run_dir, sizeof run_dir);
        pl_run_status s;
        pl_run_status_read(run_dir, &s);
        if (exp->runs[r].seed == 1) {
            cr_expect_eq(s.state, PL_RUN_FAILED, "run %s", exp->runs[r].run_id);
            cr_expect(strstr(s.reason, reason_part) != NULL, "reason: %s", s.reason);
        } else {
            cr_expect_eq(s.state, PL_RUN_COMPLETED, "run %s", exp->runs[r].run_id);
        }
    }
    pl_experiment_free(exp);
}

Test(engine_fail, nan_loss_fails_only_its_runs) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    const char *ov[] = {"engine.threads=1", "engine.jobs=2"};
    pl_engine_report rep = engine_sweep(dir, ov, 2, "nan:seed=1");
    cr_expect_eq(rep.completed, 4);
    cr_expect_eq(rep.failed, 4);
    check_statuses(dir, ov, 2, "training loss became");
    pl_engine_report again = engine_sweep(dir, ov, 2, NULL); /* the fault is gone: retry */
    cr_expect_eq(again.already_completed, 4);
    cr_expect_eq(again.completed, 4);
    cr_expect_eq(again.failed, 0);
    engine_rmdir(dir);
}

Test(engine_fail, crash_in_process_isolation_fails_only_that_run) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    const char *ov[] = {"engine.threads=1", "engine.jobs=2", "engine.isolation=process"};
    pl_engine_report rep = engine_sweep(dir, ov, 3, "crash:seed=1");
    cr_expect_eq(rep.completed, 4);
    cr_expect_eq(rep.failed, 4);
    check_statuses(dir, ov, 3, "crashed: killed by signal 6");
    engine_rmdir(dir);
}
