/* test_engine_recovery.c - the prune and finetune stages through the engine: pruned and
 * recovered evaluations side by side, SparseLoRA's merge keeping the sparsity exactly and
 * LoRA's merge making the model dense again, masked full fine-tuning keeping it; unmerged
 * adapters carried to the eval stage evaluating like the merged model. */
#include "engine_testutil.h"

#include <math.h>

static pl_status run_fixture(const char *file, const char *dir, pl_error *err);

Test(engine_recovery, stages_chain_and_merge_accounting, .timeout = 120) {
    char dir[64], index[256];
    pl_error err;
    engine_tmpdir(dir, sizeof dir);
    cr_assert_eq(run_fixture("tests/data/engine/recovery_sweep.yaml", dir, &err), PL_OK, "%s", err.message);
    snprintf(index, sizeof index, "%s/recovery_sweep/index.tsv", dir);
    for (int i = 0; i < 3; i++) {
        const char *ad = (const char *[]){"sparselora", "lora", "none"}[i];
        cr_assert(isfinite(index_value(index, "ad", ad, "pruned_acc")), "%s: no pruned_acc", ad);
        cr_assert(isfinite(index_value(index, "ad", ad, "acc")), "%s: no acc", ad);
        cr_assert_float_eq(index_value(index, "ad", ad, "sparsity_language"),
                           i == 1 ? 0.0 : 0.5, 1e-9, "%s", ad);
    }
    cr_assert_eq(index_value(index, "ad", "sparselora", "sparsity_overall_premerge"),
                 index_value(index, "ad", "sparselora", "sparsity_overall"));
    cr_assert_float_eq(index_value(index, "ad", "lora", "sparsity_overall_premerge"), 0.375, 1e-9);
    engine_rmdir(dir);
}

static pl_status run_fixture(const char *file, const char *dir, pl_error *err) {
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, "engine.threads=1"};
    pl_experiment *exp = NULL;
    pl_error_clear(err);
    cr_assert_eq(pl_experiment_load(file, ov, 2, &exp, err), PL_OK, "%s", err->message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    pl_status st = pl_engine_run(exp, &opt, &rep, err);
    pl_experiment_free(exp);
    cr_assert_eq(rep.failed, 0);
    return st;
}

Test(engine_recovery, unmerged_adapters_evaluate_like_merged, .timeout = 120) {
    char dir[64], index[256];
    pl_error err;
    engine_tmpdir(dir, sizeof dir);
    cr_assert_eq(run_fixture("tests/data/engine/unmerged.yaml", dir, &err), PL_OK, "%s", err.message);
    snprintf(index, sizeof index, "%s/unmerged/index.tsv", dir);
    double merged = index_value(index, "merge", "true", "acc");
    double unmerged = index_value(index, "merge", "false", "acc");
    cr_assert(isfinite(merged) && isfinite(unmerged));
    cr_assert_float_eq(merged, unmerged, 1e-9, "merged %g vs unmerged %g", merged, unmerged);
    cr_assert_float_eq(index_value(index, "merge", "true", "ce"), index_value(index, "merge", "false", "ce"), 1e-4);
    /* unmerged: the stored W*M keeps its sparsity; merged LoRA is dense */
    cr_assert_float_eq(index_value(index, "merge", "false", "sparsity_language"), 0.5, 1e-9);
    cr_assert_float_eq(index_value(index, "merge", "true", "sparsity_language"), 0.0, 1e-9);
    engine_rmdir(dir);
}

Test(engine_recovery, pruning_a_model_with_unmerged_adapters_is_refused, .timeout = 60) {
    char dir[64], override[128], run_dir[512];
    engine_tmpdir(dir, sizeof dir);
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, "engine.threads=1"};
    pl_experiment *exp = NULL;
    pl_error err;
    cr_assert_eq(pl_experiment_load("tests/data/engine/unmerged_then_prune.yaml", ov, 2, &exp, &err),
                 PL_OK, "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.failed, 1);
    pl_run_dir_path(dir, exp->name, exp->runs[0].run_id, run_dir, sizeof run_dir);
    pl_run_status s;
    pl_run_status_read(run_dir, &s);
    cr_assert_eq(s.state, PL_RUN_FAILED);
    cr_assert(strstr(s.reason, "unmerged adapters") != NULL, "reason: %s", s.reason);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}
