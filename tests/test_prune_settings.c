/* test_prune_settings.c - the prune stage section of a loaded experiment becomes the
 * prune_config the library takes (defaults, N:M patterns, per-module targets). */
#include <criterion/criterion.h>

#include "engine/stage.h"
#include "config/path.h"
#include "engine/stage_settings.h"

static pl_status load_prune(const char *const *ov, int n, prune_config *out, pl_error *err) {
    pl_experiment *e;
    pl_error lerr;
    cr_assert_eq(pl_experiment_load("tests/data/config/good/base.yaml", ov, n, &e, &lerr), PL_OK, "%s", lerr.message);
    const cfg_node *stage = cfg_get(e->runs[0].config, "pipeline.prune");
    cr_assert_not_null(stage);
    pl_status st = settings_prune(stage, out, err);
    pl_experiment_free(e);
    return st;
}

Test(prune_settings, each_seed_calibrates_on_its_own_window) {
    for (int seed = 0; seed < 3; seed++) {
        char ov[32];
        snprintf(ov, sizeof ov, "seed=%d", seed);
        const char *ovs[] = {ov, "pipeline.prune.calib_size=64"};
        pl_experiment *e;
        pl_error err;
        cr_assert_eq(pl_experiment_load("tests/data/config/good/base.yaml", ovs, 2, &e, &err), PL_OK, "%s", err.message);
        prune_config c;
        cr_assert_eq(settings_prune_run(cfg_get(e->runs[0].config, "pipeline.prune"), e->runs[0].config, &c, &err),
                     PL_OK, "%s", err.message);
        cr_assert_eq(c.calib_start, 64 * seed);
        pl_experiment_free(e);
    }
}

Test(prune_settings, defaults_come_from_the_schema) {
    prune_config c;
    pl_error err;
    cr_assert_eq(load_prune(NULL, 0, &c, &err), PL_OK, "%s", err.message);
    cr_assert_eq(c.method, PRUNE_WANDA);
    cr_assert_eq(c.nm_m, 0);
    cr_assert_eq(c.group, PRUNE_GROUP_ROW);
    cr_assert_eq(c.calibration, PRUNE_CALIB_SEQUENTIAL);
    cr_assert_eq(c.calib_size, 128);
    cr_assert_eq(c.sparsity[MODULE_VISION], 0.5f);
    cr_assert_eq(c.sparsity[MODULE_BRIDGE], 0.0f);
    cr_assert_eq(c.sparsity[MODULE_LANGUAGE], 0.5f);
    cr_assert_eq(c.sparsegpt_block, 128);
    cr_assert_eq(c.sparsegpt_damp, 0.01f);
}

Test(prune_settings, every_key_is_read) {
    const char *ov[] = {"pipeline.prune.method=sparsegpt", "pipeline.prune.pattern=4:8",
                        "pipeline.prune.group=matrix", "pipeline.prune.calibration=dense",
                        "pipeline.prune.calib_size=32", "pipeline.prune.sparsegpt_block=64",
                        "pipeline.prune.sparsegpt_damp=0.05", "pipeline.prune.sparsity.vision=0",
                        "pipeline.prune.sparsity.bridge=0"};
    prune_config c;
    pl_error err;
    cr_assert_eq(load_prune(ov, 9, &c, &err), PL_OK, "%s", err.message);
    cr_assert_eq(c.method, PRUNE_SPARSEGPT);
    cr_assert(c.nm_n == 4 && c.nm_m == 8);
    cr_assert_eq(c.group, PRUNE_GROUP_MATRIX);
    cr_assert_eq(c.calibration, PRUNE_CALIB_DENSE);
    cr_assert_eq(c.calib_size, 32);
    cr_assert_eq(c.sparsegpt_block, 64);
    cr_assert_eq(c.sparsegpt_damp, 0.05f);
    cr_assert_eq(c.sparsity[MODULE_VISION], 0.0f);
    cr_assert_eq(c.sparsity[MODULE_LANGUAGE], 0.5f);
}

Test(prune_settings, nm_with_another_target_is_refused) {
    const char *ov[] = {"pipeline.prune.pattern=2:4", "pipeline.prune.sparsity.language=0.7"};
    prune_config c;
    pl_error err;
    cr_assert_eq(load_prune(ov, 2, &c, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.sparsity.language") != NULL, "%s", err.message);
}
