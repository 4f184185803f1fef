/* test_engine_shapes.c - per-block shapes through the engine: an experiment whose model
 * section gives blocks their own heads and MLP widths pretrains, evaluates and caches a
 * checkpoint of that shape; a load stage takes a checkpoint's shape from the file even
 * when the run's model section is the uniform preset, and the model prunes and evaluates. */
#include "engine_testutil.h"

#include "engine/cache.h"
#include "model/checkpoint.h"

/* Runs file with results in dir plus one extra override (may be NULL); returns run 0's id. */
static void run_one(const char *file, const char *dir, const char *extra, char run_id[16],
                    char cache_model[512]) {
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, extra};
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(file, ov, extra ? 2 : 1, &exp, &err), PL_OK, "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.completed, 1);
    cr_assert_eq(rep.failed, 0);
    snprintf(run_id, 16, "%s", exp->runs[0].run_id);
    char key[CFG_HASH_HEX];
    cr_assert_eq(pl_cache_key(&exp->runs[0], 0, NULL, key, &err), PL_OK, "%s", err.message);
    pl_cache_model_path(dir, key, cache_model, 512);
    pl_experiment_free(exp);
}

Test(engine_shapes, shaped_model_trains_saves_and_loads_under_a_uniform_section, .timeout = 120) {
    char dir[64], run_id[16], model_path[512], index[256], extra[600];
    engine_tmpdir(dir, sizeof dir);
    run_one("tests/data/engine/shaped.yaml", dir, NULL, run_id, model_path);
    snprintf(index, sizeof index, "%s/shaped/index.tsv", dir);
    cr_assert(isfinite(index_value(index, "run_id", run_id, "acc")));

    vlm m;
    pl_error err;
    cr_assert_eq(vlm_load(&m, model_path, 1, &err), PL_OK, "%s", err.message);
    cr_assert_eq(m.cfg.blocks.custom, 1);
    const block_dims v0 = model_block(&m.cfg, MODULE_VISION, 0), v3 = model_block(&m.cfg, MODULE_VISION, 3);
    const block_dims q0 = model_block(&m.cfg, MODULE_BRIDGE, 0), q1 = model_block(&m.cfg, MODULE_BRIDGE, 1);
    const block_dims l1 = model_block(&m.cfg, MODULE_LANGUAGE, 1), l2 = model_block(&m.cfg, MODULE_LANGUAGE, 2);
    cr_assert(v0.heads == 0 && v0.ffn == 256, "keys left out keep the uniform value");
    cr_assert(v3.heads == 1 && v3.ffn == 32);
    cr_assert(q0.heads == 4 && q0.cross_heads == 1 && q0.ffn == 256);
    cr_assert(q1.heads == 2 && q1.cross_heads == 4 && q1.ffn == 0);
    cr_assert(l1.ffn == 0 && l2.heads == 3);
    vlm_free(&m);

    /* The load stage's experiment describes the uniform tiny model; the file decides. */
    snprintf(extra, sizeof extra, "pipeline.load.path=%s", model_path);
    char load_run[16], unused[512];
    run_one("tests/data/engine/load_shaped.yaml", dir, extra, load_run, unused);
    snprintf(index, sizeof index, "%s/load_shaped/index.tsv", dir);
    cr_assert(isfinite(index_value(index, "run_id", load_run, "acc")));
    cr_assert_float_eq(index_value(index, "run_id", load_run, "sparsity_vision"), 0.5, 1e-9);
    engine_rmdir(dir);
}
