/* test_engine_distill.c - the distill stage through the engine: a half-depth student of
 * the scheme's blocks is trained with every loss term, cached and evaluated; a scheme the
 * teacher's depth cannot satisfy is refused before anything runs, naming the override's
 * position and the key. */
#include "engine_testutil.h"

#include <unistd.h>

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

/* The teacher's depth is known before anything runs (pretrain's model config here), so the
 * run is refused up front with the override's position, the key and the bound. */
Test(engine_distill, a_scheme_past_the_teacher_depth_is_refused_before_running, .timeout = 60) {
    char dir[64], override[128], runs[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, "pipeline.distill.scheme.vision=uniform:9"};
    pl_experiment *exp;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("tests/data/engine/distill.yaml", ov, 2, &exp, &err), PL_OK,
                 "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "<override 2>:1:") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "distill.scheme.vision 'uniform:9'") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "1 <= k <= 4") != NULL, "%s", err.message);
    snprintf(runs, sizeof runs, "%s/distill/runs", dir);
    cr_assert(access(runs, F_OK) != 0, "nothing ran, so no run folder: %s", runs);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* Depths carry through the pipeline: a second distill sees the first one's student, whose
 * bridge has one block, and `even` keeps none of it; the error names the file's line. */
Test(engine_distill, a_scheme_keeping_no_block_names_the_file_line, .timeout = 60) {
    char dir[64], path[256], override[128];
    engine_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/chained.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "defaults:\n"
               "  - %s/configs/model/tiny.yaml\n"
               "  - %s/configs/data/fashion_scenes.yaml\n"
               "pipeline:\n"
               "  - pretrain: {steps: 4, batch_size: 4}\n"
               "  - distill: {scheme: {vision: even, bridge: even, language: even}, steps: 1}\n"
               "  - distill: {scheme: {vision: none, bridge: even, language: none}, steps: 1}\n",
            getenv("PWD"), getenv("PWD"));
    fclose(f);
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override};
    pl_experiment *exp;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(path, ov, 1, &exp, &err), PL_OK, "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "chained.yaml:7:") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "distill.scheme.bridge 'even'") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "keeps no block") != NULL, "%s", err.message);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* The run seed reaches distill's training stream (numerics 1): two seeds distilling the same
 * loaded teacher train different students, and each run's metrics.h5 records the version. */
Test(engine_distill, replicate_seeds_train_different_students, .timeout = 120) {
    char dir[64], path[256], override[128], model[2][600];
    engine_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/seeds.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "defaults:\n  - %s/configs/model/tiny.yaml\n  - %s/configs/data/fashion_scenes.yaml\n"
               "pipeline:\n  - load: {path: %s/experiments/teachers/tiny.safetensors}\n"
               "  - distill: {scheme: {vision: even, bridge: none, language: even}, steps: 3,"
               " batch_size: 4, warmup: 1, lambda: 0.5}\n"
               "sweep: {seeds: [0, 1]}\nengine: {jobs: 1, threads: 1}\n",
            getenv("PWD"), getenv("PWD"), getenv("PWD"));
    fclose(f);
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override};
    pl_experiment *exp;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(path, ov, 1, &exp, &err), PL_OK, "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.completed, 2);
    vlm m[2];
    for (int s = 0; s < 2; s++) {
        char key[CFG_HASH_HEX];
        cr_assert_eq(pl_cache_key(&exp->runs[s], 1, NULL, key, &err), PL_OK);
        pl_cache_model_path(dir, key, model[s], sizeof model[s]);
        cr_assert_eq(vlm_load(&m[s], model[s], 1, &err), PL_OK, "%s", err.message);
    }
    cr_assert_neq(strcmp(model[0], model[1]), 0);
    cr_assert(memcmp(m[0].params.data, m[1].params.data, m[0].index.layout.total * sizeof(float)) != 0,
              "the two seeds trained the same student");
    vlm_free(&m[0]), vlm_free(&m[1]);
    char run_dir[512], h5[600];
    pl_run_dir_path(dir, exp->name, exp->runs[0].run_id, run_dir, sizeof run_dir);
    snprintf(h5, sizeof h5, "%s/metrics.h5", run_dir);
    char cmd[800], out[256] = "";
    snprintf(cmd, sizeof cmd, "h5dump -a numerics %s 2>/dev/null | grep -c 'distill=1'", h5);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(out, sizeof out, p));
    pclose(p);
    cr_assert_geq(atoi(out), 1, "metrics.h5 records numerics distill=1 (%s)", h5);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}
