/* test_l0_gates.c - learned gates (prune/l0_gates.h) against their definitions: the final
 * mask keeps exactly each block's expected count of units, the highest-scoring ones; the
 * compacted model computes what the gated model computes with the final gate values; a
 * model without units to gate is refused; through the engine the l0prune stage trains,
 * logs its expected sparsity per step and removes about that share, and bad settings (a
 * target outside (0, 1), a gate learning rate of 0, multipliers that diverge) fail with
 * the key or the reason. */
#include "engine_testutil.h"

#include "core/rng.h"
#include "model/compact.h"
#include "model_testutil.h"
#include "prune/l0_gates.h"

static const l0_config CFG = {.target = 0.4f, .target_warmup = 0, .gate_lr = 0.02f,
                              .lagrangian_lr = 0.05f, .head_drop = 0.01f, .neuron_drop = 0.5f,
                              .seed = 3};

static void random_log_alpha(l0_state *s, uint64_t seed) {
    pl_rng r = {seed, 4};
    for (size_t i = 0; i < s->n; i++) s->log_alpha[i] = 9.2f * pl_rng_uniform(r, i) - 4.6f;
}

Test(l0_gates, the_final_mask_keeps_the_expected_count_of_best_units) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 61);
    l0_state s;
    pl_error err;
    cr_assert_eq(l0_init(&s, &m, &CFG, &err), PL_OK, "%s", err.message);
    random_log_alpha(&s, 62);
    int removed;
    cr_assert_eq(l0_finalise(&s, &m, &removed, &err), PL_OK, "%s", err.message);
    int total_removed = 0;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&c, (pl_module)mod); l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) {
                const int off = s.offset[mod][l][k], units = s.count[mod][l][k];
                if (off < 0) continue;
                float p[64];
                hard_concrete_nonzero(&s.hc, s.log_alpha + off, p, NULL, (size_t)units);
                double sum = 0.0;
                for (int u = 0; u < units; u++) sum += p[u];
                int want = (int)lround(sum);
                if (k == UNIT_CROSS_HEADS && want < 1) want = 1;
                const block_ref *b = &param_blocks(&m.index, (pl_module)mod)[l];
                const float *keep = unit_masks_keep(&m.units, (pl_module)mod, l, (unit_kind)k);
                cr_assert_eq(unit_masks_kept(&m.units, b, (pl_module)mod, l, (unit_kind)k), want,
                             "%d.%d kind %d", mod, l, k);
                for (int a = 0; a < units; a++) /* every kept unit scores above every removed one */
                    for (int d = 0; d < units; d++)
                        if (keep[a] != 0.0f && keep[d] == 0.0f)
                            cr_assert_geq(s.log_alpha[off + a], s.log_alpha[off + d]);
                total_removed += units - want;
            }
    cr_assert_eq(removed, total_removed);
    cr_assert_gt(removed, 0);
    l0_free(&s);
    vlm_free(&m);
}

Test(l0_gates, the_compacted_model_computes_the_gated_model_with_its_final_gates) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 71);
    l0_state s;
    pl_error err;
    cr_assert_eq(l0_init(&s, &m, &CFG, &err), PL_OK, "%s", err.message);
    random_log_alpha(&s, 72);
    int removed;
    cr_assert_eq(l0_finalise(&s, &m, &removed, &err), PL_OK, "%s", err.message);
    /* the final gate values: 1 for kept units, 0 for removed ones, on the unmasked weights */
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&c, (pl_module)mod); l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) {
                if (s.offset[mod][l][k] < 0) continue;
                const float *keep = unit_masks_keep(&m.units, (pl_module)mod, l, (unit_kind)k);
                for (int u = 0; u < s.count[mod][l][k]; u++) s.z[s.offset[mod][l][k] + u] = keep[u];
            }
    static tm_batch b;
    tm_fill_batch(&b, 73);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .batch = 2};
    weight_set gated = vlm_weights(&m, 0, 0);
    gated.gates = &s.gates;
    vlm_forward(&m, &gated, &in, (vlm_loss_weights){.task_weight = 1.0f});
    const size_t n = (size_t)2 * model_lm_len(&c) * c.vocab_size;
    static float logits[4096];
    cr_assert_leq(n, 4096);
    memcpy(logits, m.logits, n * sizeof(float));
    vlm small;
    cr_assert_eq(vlm_compact(&m, &small, &err), PL_OK, "%s", err.message);
    cr_assert_lt(small.index.layout.total, m.index.layout.total);
    weight_set plain = vlm_weights(&small, 1, 0);
    vlm_forward(&small, &plain, &in, (vlm_loss_weights){.task_weight = 1.0f});
    for (size_t i = 0; i < n; i++) cr_assert_float_eq(small.logits[i], logits[i], 1e-5, "logit %zu", i);
    l0_free(&s);
    vlm_free(&small);
    vlm_free(&m);
}

Test(l0_gates, a_model_without_units_is_refused) {
    model_config c = tm_micro_config();
    model_blocks_make_custom(&c);
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&c, (pl_module)mod); l++) c.blocks.dims[mod][l] = (block_dims){0, 0, 0};
    cr_assert_eq(model_config_check(&c, NULL), PL_OK);
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    l0_state s;
    pl_error err;
    cr_assert_eq(l0_init(&s, &m, &CFG, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "no attention heads or MLP neurons") != NULL, "%s", err.message);
    vlm_free(&m);
}

/* ---- through the engine ---------------------------------------------------------------- */

static pl_status run_fixture2(const char *dir, const char *extra, const char *extra2,
                              pl_engine_report *rep, pl_experiment **out, pl_error *err) {
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, extra, extra2};
    pl_experiment *exp = NULL;
    pl_status st = pl_experiment_load("tests/data/engine/l0prune.yaml", ov, extra2 ? 3 : extra ? 2 : 1,
                                      &exp, err);
    if (st == PL_OK) {
        pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
        st = pl_engine_run(exp, &opt, rep, err);
    }
    if (out != NULL) *out = exp;
    else pl_experiment_free(exp);
    return st;
}

static pl_status run_fixture(const char *dir, const char *extra, pl_engine_report *rep,
                             pl_experiment **out, pl_error *err) {
    return run_fixture2(dir, extra, NULL, rep, out, err);
}

Test(l0_gates, the_stage_trains_and_removes_its_expected_share, .timeout = 180) {
    char dir[64], index[256];
    engine_tmpdir(dir, sizeof dir);
    pl_engine_report rep;
    pl_experiment *exp;
    pl_error err;
    cr_assert_eq(run_fixture(dir, NULL, &rep, &exp, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.completed, 1);
    snprintf(index, sizeof index, "%s/l0prune/index.tsv", dir);
    const char *id = exp->runs[0].run_id;
    const double expected = index_value(index, "run_id", id, "expected_sparsity_final");
    const double removed = index_value(index, "run_id", id, "removed_fraction");
    cr_assert(isfinite(index_value(index, "run_id", id, "acc")));
    cr_assert_gt(expected, 0.05, "the gates moved towards the target");
    cr_assert_lt(fabs(removed - expected), 0.05, "removed %.3f vs expected %.3f", removed, expected);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

Test(l0_gates, bad_settings_fail_with_the_key_or_the_reason, .timeout = 180) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    pl_engine_report rep;
    pl_error err;
    cr_assert_eq(run_fixture(dir, "pipeline.l0prune.target=1.0", &rep, NULL, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "pipeline.l0prune.target") != NULL, "%s", err.message);
    cr_assert_eq(run_fixture(dir, "pipeline.l0prune.gate_lr=0", &rep, NULL, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "pipeline.l0prune.gate_lr") != NULL, "%s", err.message);
    /* multipliers that run away fail the run, with the reason, and the sweep goes on */
    pl_experiment *exp;
    cr_assert_eq(run_fixture(dir, "pipeline.l0prune.lagrangian.lr=1e9", &rep, &exp, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.failed, 1);
    char status[512], reason[2048] = "";
    snprintf(status, sizeof status, "%s/l0prune/runs/%s/status", dir, exp->runs[0].run_id);
    FILE *f = fopen(status, "r");
    cr_assert_not_null(f, "%s", status);
    reason[fread(reason, 1, sizeof reason - 1, f)] = '\0';
    fclose(f);
    cr_assert(strstr(reason, "Lagrangian multipliers diverged") != NULL, "%s", reason);
    pl_experiment_free(exp);
    /* without a teacher term no teacher is needed: 'first' on a pipeline that starts with
     * pretrain is not an error then */
    cr_assert_eq(run_fixture2(dir, "pipeline.l0prune.lambda=0", "pipeline.l0prune.teacher=first", &rep,
                              NULL, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.failed, 0);
    engine_rmdir(dir);
}
