/* test_engine_compact.c - the compact stage through the engine: pretrain, structured prune,
 * LoRA recovery (merged, and carried unmerged into compact), eval, compact, eval. The eval
 * after compaction equals the one before it, the compacted model has fewer parameters, and
 * the prune stage's per-block report reaches the index. */
#include "engine_testutil.h"

Test(engine_compact, compaction_after_structured_pruning_and_lora_keeps_the_eval, .timeout = 180) {
    char dir[64], override[128], index[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, "engine.threads=1"};
    pl_experiment *exp = NULL;
    pl_error err;
    cr_assert_eq(pl_experiment_load("tests/data/engine/structured_compact.yaml", ov, 2, &exp, &err), PL_OK,
                 "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    pl_experiment_free(exp);
    cr_assert_eq(rep.failed, 0);
    cr_assert_eq(rep.completed, 2);
    snprintf(index, sizeof index, "%s/structured_compact/index.tsv", dir);
    for (int i = 0; i < 2; i++) {
        const char *merge = i ? "false" : "true";
        const double acc = index_value(index, "merge", merge, "acc");
        const double pre = index_value(index, "merge", merge, "pre_acc");
        cr_assert(isfinite(acc) && isfinite(pre), "merge %s", merge);
        cr_assert_float_eq(acc, pre, 1e-9, "merge %s: compacted %g vs masked %g", merge, acc, pre);
        cr_assert_float_eq(index_value(index, "merge", merge, "ce"), index_value(index, "merge", merge, "pre_ce"),
                           1e-4, "merge %s", merge);
        cr_assert_lt(index_value(index, "merge", merge, "params"),
                     index_value(index, "merge", merge, "params_before_compact"));
        const double x0 = index_value(index, "merge", merge, "cross_heads_kept_bridge_0");
        const double x1 = index_value(index, "merge", merge, "cross_heads_kept_bridge_1");
        cr_assert(x0 >= 1.0 && x1 >= 1.0 && x0 + x1 == 4.0, "half of 8 cross heads, one per block at least");
        cr_assert(isfinite(index_value(index, "merge", merge, "neurons_kept_language_3")));
        cr_assert(index_value(index, "merge", merge, "removed_fraction") > 0.3);
    }
    engine_rmdir(dir);
}
