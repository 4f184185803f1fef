/* test_engine_distill.c - the distill stage through the engine: a half-depth student of
 * the scheme's blocks is trained with every loss term, cached and evaluated; a scheme the
 * teacher's depth cannot satisfy fails the run naming the key. */
#include "engine_testutil.h"

#include "engine/cache.h"
#include "model/checkpoint.h"

static pl_engine_report run_distill(const char *dir, const char *extra, pl_experiment **exp_out) {
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, extra};
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("tests/data/engine/distill.yaml", ov, extra ? 2 : 1, exp_out, &err),
                 PL_OK, "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(*exp_out, &opt, &rep, &err), PL_OK, "%s", err.message);
    return rep;
}

Test(engine_distill, student_of_the_scheme_trains_and_evaluates, .timeout = 120) {
    char dir[64], path[512], index[256];
    engine_tmpdir(dir, sizeof dir);
    pl_experiment *exp;
    pl_engine_report rep = run_distill(dir, NULL, &exp);
    cr_assert_eq(rep.completed, 1);
    char key[CFG_HASH_HEX];
    pl_error err;
    cr_assert_eq(pl_cache_key(&exp->runs[0], 1, NULL, key, &err), PL_OK);
    pl_cache_model_path(dir, key, path, sizeof path);
    vlm m;
    cr_assert_eq(vlm_load(&m, path, 1, &err), PL_OK, "%s", err.message);
    cr_assert_eq(m.cfg.layers_vision, 2, "even of 4");
    cr_assert_eq(m.cfg.layers_query, 1, "odd of 2");
    cr_assert_eq(m.cfg.layers_language, 2, "uniform:2 of 4");
    vlm_free(&m);
    snprintf(index, sizeof index, "%s/distill/index.tsv", dir);
    const char *id = exp->runs[0].run_id;
    cr_assert(isfinite(index_value(index, "run_id", id, "acc")));
    cr_assert_lt(index_value(index, "run_id", id, "student_params"), index_value(index, "run_id", id, "teacher_params"));
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

Test(engine_distill, a_scheme_past_the_teacher_depth_fails_naming_the_key, .timeout = 60) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    pl_experiment *exp;
    pl_engine_report rep = run_distill(dir, "pipeline.distill.scheme.vision=uniform:9", &exp);
    cr_assert_eq(rep.failed, 1);
    pl_experiment_free(exp);
    char status[512], reason[2048] = "";
    pl_experiment *again;
    pl_error err;
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, "pipeline.distill.scheme.vision=uniform:9"};
    cr_assert_eq(pl_experiment_load("tests/data/engine/distill.yaml", ov, 2, &again, &err), PL_OK);
    snprintf(status, sizeof status, "%s/distill/runs/%s/status", dir, again->runs[0].run_id);
    FILE *f = fopen(status, "r");
    cr_assert_not_null(f, "%s", status);
    size_t n = fread(reason, 1, sizeof reason - 1, f);
    reason[n] = '\0';
    fclose(f);
    cr_assert(strstr(reason, "distill.scheme.vision") != NULL, "%s", reason);
    cr_assert(strstr(reason, "1 <= k <= 4") != NULL, "%s", reason);
    pl_experiment_free(again);
    engine_rmdir(dir);
}
