/* test_engine_cache.c - the stage cache: a sweep trains each teacher once; a second
 * invocation computes nothing; an eval-only change reuses every model; adding a seed
 * computes only that seed's teacher; cache keys follow their definition (engine/cache.h). */
#include "engine_testutil.h"

#include <sys/stat.h>

#include "config/schema.h"
#include "engine/cache.h"
#include "engine/stage.h"

static const char *const FAST[] = {"engine.threads=1"};

Test(engine_cache, second_invocation_computes_nothing) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    pl_engine_report a = engine_sweep(dir, FAST, 1, NULL);
    cr_expect_eq(a.runs, 8);
    cr_expect_eq(a.completed, 8);
    cr_expect_eq(a.stages_computed, 2, "one teacher per seed, shared by 4 runs each");
    cr_expect_eq(a.failed, 0);
    pl_engine_report b = engine_sweep(dir, FAST, 1, NULL);
    cr_expect_eq(b.already_completed, 8);
    cr_expect_eq(b.completed, 0);
    cr_expect_eq(b.stages_computed, 0);
    cr_expect_eq(b.stages_reused, 0, "completed runs need no stage at all");
    engine_rmdir(dir);
}

Test(engine_cache, changed_keys_recompute_only_dependents) {
    char dir[64], path[512];
    engine_tmpdir(dir, sizeof dir);
    engine_sweep(dir, FAST, 1, NULL);
    /* an eval setting: new runs, but no model stage depends on it */
    const char *eval_change[] = {"engine.threads=1", "pipeline.eval.batch_size=4"};
    pl_engine_report b = engine_sweep(dir, eval_change, 2, NULL);
    cr_expect_eq(b.completed, 8);
    cr_expect_eq(b.stages_computed, 0);
    cr_expect_eq(b.stages_reused, 2);
    /* seeds 1 and 2: seed 1's teacher is cached, seed 2's is new */
    const char *seeds[] = {"engine.threads=1", "sweep.seeds=[1, 2]"};
    pl_experiment *exp = engine_load(dir, seeds, 2);
    char key[CFG_HASH_HEX];
    pl_error err;
    cr_assert_eq(pl_cache_key(&exp->runs[0], 0, NULL, key, &err), PL_OK);
    pl_cache_model_path(dir, key, path, sizeof path);
    struct stat before, after;
    bool seed1_first = exp->runs[0].seed == 1;
    if (seed1_first) cr_assert_eq(stat(path, &before), 0);
    pl_experiment_free(exp);
    pl_engine_report c = engine_sweep(dir, seeds, 2, NULL);
    cr_expect_eq(c.already_completed, 4, "the seed-1 runs completed in the first invocation");
    cr_expect_eq(c.completed, 4);
    cr_expect_eq(c.stages_computed, 1);
    cr_expect_eq(c.stages_reused, 0, "completed seed-1 runs need nothing; seed 2 is new");
    if (seed1_first) {
        cr_assert_eq(stat(path, &after), 0);
        cr_expect_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
        cr_expect_eq(before.st_ino, after.st_ino, "a cached model is never rewritten");
    }
    engine_rmdir(dir);
}

Test(engine_cache, key_ignores_eval_and_engine_settings) {
    const char *a_ov[] = {"engine.jobs=1"}, *b_ov[] = {"engine.jobs=2", "pipeline.eval.samples=3"};
    pl_experiment *a = engine_load("/tmp/unused", a_ov, 1), *b = engine_load("/tmp/unused", b_ov, 1 + 1);
    char ka[CFG_HASH_HEX], kb[CFG_HASH_HEX], ke1[CFG_HASH_HEX], ke2[CFG_HASH_HEX];
    pl_error err;
    cr_assert_eq(pl_cache_key(&a->runs[0], 0, NULL, ka, &err), PL_OK);
    cr_assert_eq(pl_cache_key(&b->runs[0], 0, NULL, kb, &err), PL_OK);
    cr_expect_str_eq(ka, kb, "the teacher's key depends on neither engine.* nor eval");
    cr_assert_eq(pl_cache_key(&a->runs[0], 1, NULL, ke1, &err), PL_OK);
    cr_assert_eq(pl_cache_key(&a->runs[2], 1, NULL, ke2, &err), PL_OK);
    cr_expect_str_neq(ke1, ke2, "different eval sections, different keys");
    cr_expect_str_neq(ka, ke1);
    pl_experiment_free(a);
    pl_experiment_free(b);
}

/* Every stage kind the schema accepts in a pipeline is one the engine can run. */
Test(engine_cache, every_schema_stage_kind_is_registered) {
    int n;
    const char *const *kinds = cfg_schema_stage_kinds(&n);
    cr_assert_gt(n, 6);
    for (int i = 0; i < n; i++)
        cr_assert_not_null(pl_stage_find(kinds[i]), "stage kind '%s' has no implementation", kinds[i]);
}
