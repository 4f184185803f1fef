/* test_loraprune.c - LoRAPrune against its definitions: the estimated weight gradient is
 * exactly what one SGD step of learning rate 1 on the factors does to their product; the
 * schedule takes its cubic values at hand-picked steps; a run's keep flags only ever go from
 * kept to removed, protected blocks stay whole and each block ends at int(n * ratio) removed;
 * the merged, masked model and its compaction compute the same logits; bad settings fail
 * naming the key. */
#include "engine_testutil.h"

#include <math.h>

#include "core/rng.h"
#include "fashion_fixture.h"
#include "model/compact.h"
#include "prune/loraprune.h"
#include "tune/finetune.h"

static void fill(float *x, size_t n, uint64_t seed) {
    pl_rng r = {seed, 1};
    for (size_t i = 0; i < n; i++) x[i] = pl_rng_uniform(r, i) * 2.0f - 1.0f;
}

/* B' = B − dB, A' = A − dA: B'A' − BA = −dB·A − B·dA + dB·dA = −G. */
Test(loraprune, estimated_gradient_is_minus_one_sgd_step_of_the_product) {
    enum { OUT = 7, IN = 5, R = 3 };
    float A[R * IN], B[OUT * R], dA[R * IN], dB[OUT * R], G[OUT * IN];
    fill(A, R * IN, 1), fill(B, OUT * R, 2), fill(dA, R * IN, 3), fill(dB, OUT * R, 4);
    lora_weight_grad_estimate(G, A, B, dA, dB, OUT, IN, R);
    for (int i = 0; i < OUT; i++)
        for (int j = 0; j < IN; j++) {
            double before = 0.0, after = 0.0;
            for (int k = 0; k < R; k++) {
                before += (double)B[i * R + k] * A[k * IN + j];
                after += ((double)B[i * R + k] - dB[i * R + k]) * ((double)A[k * IN + j] - dA[k * IN + j]);
            }
            cr_assert_float_eq(G[i * IN + j], -(after - before), 1e-6, "G[%d][%d]", i, j);
        }
}

Test(loraprune, the_schedule_is_cubic_between_warmup_and_cooldown) {
    loraprune_config c = {.ratio = 0.5f, .steps = 100, .every = 10, .warmup_frac = 0.1f, .cooldown_frac = 0.2f};
    /* t_w = 10, t_c = 80: fraction(t) = 0.5 (1 - (1 - (t - 10)/70)^3) */
    cr_assert_eq(loraprune_fraction_at(&c, 0), 0.0f);
    cr_assert_eq(loraprune_fraction_at(&c, 9), 0.0f);
    cr_assert_eq(loraprune_fraction_at(&c, 10), 0.0f);
    cr_assert_float_eq(loraprune_fraction_at(&c, 45), 0.5 * (1.0 - 0.125), 1e-6);
    cr_assert_float_eq(loraprune_fraction_at(&c, 24), 0.5 * (1.0 - pow(1.0 - 14.0 / 70.0, 3)), 1e-6);
    cr_assert_eq(loraprune_fraction_at(&c, 80), 0.5f);
    cr_assert_eq(loraprune_fraction_at(&c, 99), 0.5f);
    cr_assert(loraprune_prunes_at(&c, 10) && loraprune_prunes_at(&c, 20) && !loraprune_prunes_at(&c, 25));
    cr_assert(!loraprune_prunes_at(&c, 0) && loraprune_prunes_at(&c, 99), "and always at the last step");
    /* no cool-down: the last step still reaches the ratio */
    loraprune_config nc = {.ratio = 0.5f, .steps = 20, .every = 10, .warmup_frac = 0.1f, .cooldown_frac = 0.0f};
    cr_assert_eq(loraprune_fraction_at(&nc, 19), 0.5f);
    cr_assert_lt(loraprune_fraction_at(&nc, 18), 0.5f);
    c.one_shot = 1;
    cr_assert_eq(loraprune_fraction_at(&c, 9), 0.0f);
    cr_assert_eq(loraprune_fraction_at(&c, 10), 0.5f);
    cr_assert(loraprune_prunes_at(&c, 10) && !loraprune_prunes_at(&c, 20));
}

/* What the stage does, run here step by step through finetune's hooks so that each pruning
 * event can be checked: keep flags never come back. */
typedef struct {
    loraprune_state *s;
    vlm *m;
    adapter_set *a;
    float *before; /* [every keep flag]: the flags after the last event */
    int events, grew_back;
} probe;

static pl_status observe(void *ctx, int64_t step, vlm_losses *l, pl_error *err) {
    (void)step, (void)l, (void)err;
    probe *p = ctx;
    loraprune_observe(p->s, p->m, p->a, NULL);
    return PL_OK;
}

static pl_status prune(void *ctx, int64_t step, pl_error *err) {
    probe *p = ctx;
    if (!loraprune_prunes_at(&p->s->cfg, (int)step)) return PL_OK;
    if (loraprune_apply(p->s, p->m, p->a, (int)step, err) < 0) return PL_ERR_INTERNAL;
    const float *keep = p->m->units.keep.data;
    for (size_t i = 0; i < p->m->units.layout->total; i++) {
        if (keep[i] > p->before[i]) p->grew_back++;
        p->before[i] = keep[i];
    }
    p->events++;
    return PL_OK;
}

Test(loraprune, masks_only_grow_and_compaction_keeps_the_function, .init = open_data,
     .fini = close_data, .timeout = 120) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = c.dim_query = c.dim_language = 16;
    c.layers_vision = c.layers_query = c.layers_language = 2;
    c.vocab_size = PL_VOCAB_SIZE, c.text_len = data.config.text_len;
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 8, NULL), PL_OK);
    vlm_init(&m, 3);
    loraprune_config lc = {.criterion = LORAPRUNE_LORA, .ratio = 0.5f, .steps = 30, .every = 4,
                           .warmup_frac = 0.1f, .cooldown_frac = 0.1f};
    lc.protect[MODULE_LANGUAGE][1] = 1;
    loraprune_state s;
    pl_error err;
    cr_assert_eq(loraprune_state_init(&s, &m, &lc, &err), PL_OK, "%s", err.message);
    finetune_config fc;
    finetune_config_default(&fc);
    fc.adapter = ADAPTER_LORA, fc.lambda = 0.0f, fc.steps = lc.steps, fc.batch_size = 8, fc.warmup = 2;
    fc.log_every = 1000, fc.adapters.modules = 7u, fc.adapters.rank[MODULE_BRIDGE] = 2;
    fc.adapters.layer_kinds = LAYER_QKV | LAYER_PROJ | LAYER_FC1 | LAYER_FC2;
    adapter_set a;
    memset(&a, 0, sizeof a);
    probe p = {&s, &m, &a, NULL, 0, 0};
    p.before = malloc(m.units.layout->total * sizeof(float));
    memcpy(p.before, m.units.keep.data, m.units.layout->total * sizeof(float));
    const train_hooks hooks = {.ctx = &p, .after_backward = observe, .after_step = prune};
    fc.hooks = &hooks;
    cr_assert_eq(finetune_run(&m, NULL, &data, &fc, &a, NULL, &err), PL_OK, "%s", err.message);
    cr_assert_gt(p.events, 3);
    cr_assert_eq(p.grew_back, 0, "a removed unit came back");
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < 2; l++) {
            const block_ref *b = &param_blocks(&m.index, (pl_module)mod)[l];
            const int protect = mod == MODULE_LANGUAGE && l == 1;
            cr_assert_eq(unit_masks_kept(&m.units, b, (pl_module)mod, l, UNIT_HEADS),
                         protect ? b->heads : b->heads - (int)(b->heads * 0.5f), "%d.%d heads", mod, l);
            cr_assert_eq(unit_masks_kept(&m.units, b, (pl_module)mod, l, UNIT_NEURONS),
                         protect ? b->ffn : b->ffn - (int)(b->ffn * 0.5f), "%d.%d neurons", mod, l);
        }
    /* merged and masked vs compacted: the same logits */
    adapters_merge(&a, &m.index, &m.params, &m.masks);
    adapters_free(&a);
    vlm small;
    cr_assert_eq(vlm_compact(&m, &small, &err), PL_OK, "%s", err.message);
    cr_assert_lt(small.index.layout.total, m.index.layout.total);
    pl_batch batch;
    cr_assert_eq(pl_data_batch_alloc(&data, &batch, 8, NULL), PL_OK);
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TEST, 0, 8, &batch, NULL), PL_OK);
    vlm_input in = {.images = batch.images, .tokens = batch.tokens, .targets = batch.targets, .batch = 8};
    const weight_set wm = vlm_weights(&m, 1, 0), ws = vlm_weights(&small, 1, 0);
    vlm_forward(&m, &wm, &in, (vlm_loss_weights){.task_weight = 1.0f});
    vlm_forward(&small, &ws, &in, (vlm_loss_weights){.task_weight = 1.0f});
    const size_t n = (size_t)8 * model_lm_len(&c) * c.vocab_size;
    for (size_t i = 0; i < n; i++)
        cr_assert_float_eq(small.logits[i], m.logits[i], 1e-5, "logit %zu", i);
    pl_batch_free(&batch);
    free(p.before);
    loraprune_state_free(&s);
    vlm_free(&small);
    vlm_free(&m);
}

/* ---- through the engine: settings refused with the key ---------------------------------- */

static pl_status load_and_run(const char *dir, const char *extra, pl_error *err) {
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, extra};
    pl_experiment *exp = NULL;
    pl_status st = pl_experiment_load("tests/data/engine/loraprune.yaml", ov, 2, &exp, err);
    if (st == PL_OK) {
        pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
        pl_engine_report rep;
        st = pl_engine_run(exp, &opt, &rep, err);
        if (st == PL_OK && rep.failed > 0) st = PL_ERR_CONFIG;
    }
    pl_experiment_free(exp);
    return st;
}

Test(loraprune, bad_settings_name_the_key, .timeout = 120) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    pl_error err;
    cr_assert_eq(load_and_run(dir, "pipeline.loraprune.ratio=1.0", &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "pipeline.loraprune.ratio") != NULL, "%s", err.message);
    cr_assert_eq(load_and_run(dir, "pipeline.loraprune.every=0", &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "pipeline.loraprune.every") != NULL, "%s", err.message);
    cr_assert_eq(load_and_run(dir, "pipeline.loraprune.ratio=-0.1", &err), PL_ERR_CONFIG);
    engine_rmdir(dir);
}

/* A protected block the model does not have fails the run with the key and the value. */
Test(loraprune, a_protected_block_that_does_not_exist_fails_the_run, .timeout = 120) {
    char dir[64], status[512], reason[2048] = "";
    engine_tmpdir(dir, sizeof dir);
    pl_error err;
    cr_assert_eq(load_and_run(dir, "pipeline.loraprune.protect=[language.9]", &err), PL_ERR_CONFIG);
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override, "pipeline.loraprune.protect=[language.9]"};
    pl_experiment *exp;
    cr_assert_eq(pl_experiment_load("tests/data/engine/loraprune.yaml", ov, 2, &exp, &err), PL_OK);
    snprintf(status, sizeof status, "%s/loraprune/runs/%s/status", dir, exp->runs[0].run_id);
    FILE *f = fopen(status, "r");
    cr_assert_not_null(f, "%s", status);
    reason[fread(reason, 1, sizeof reason - 1, f)] = '\0';
    fclose(f);
    cr_assert(strstr(reason, "loraprune.protect: 'language.9' names no block") != NULL, "%s", reason);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

Test(loraprune, spearman_against_its_definition) {
    double scratch[16];
    int order[8];
    /* identical order: 1; reversed: -1 */
    const double x[5] = {0.1, 0.4, 0.2, 0.9, 0.5}, up[5] = {1, 4, 2, 9, 5}, down[5] = {-1, -4, -2, -9, -5};
    cr_assert_float_eq(loraprune_spearman(x, up, 5, scratch, order), 1.0, 1e-12);
    cr_assert_float_eq(loraprune_spearman(x, down, 5, scratch, order), -1.0, 1e-12);
    /* by hand: ranks x = 1 2 3 4, y = 2 1 4 3 -> sum d^2 = 4, rho = 1 - 6*4/(4*15) = 0.6 */
    const double a[4] = {1, 2, 3, 4}, b[4] = {20, 10, 40, 30};
    cr_assert_float_eq(loraprune_spearman(a, b, 4, scratch, order), 0.6, 1e-12);
    /* ties: y = 1 1 2 2 gets ranks 1.5 1.5 3.5 3.5; Pearson of ranks with 1 2 3 4 = 0.8944... */
    const double t[4] = {5, 5, 7, 7};
    cr_assert_float_eq(loraprune_spearman(a, t, 4, scratch, order), 2.0 / sqrt(5.0), 1e-12);
    cr_assert_float_eq(loraprune_spearman(a, (double[4]){3, 3, 3, 3}, 4, scratch, order), 0.0, 1e-12);
}

Test(loraprune, compare_grad_needs_the_lora_criterion, .timeout = 120) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    pl_error err;
    const char *ov[] = {"pipeline.loraprune.criterion=grad", "pipeline.loraprune.compare_grad=true"};
    char override[128];
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *all[] = {override, ov[0], ov[1]};
    pl_experiment *exp = NULL;
    cr_assert_eq(pl_experiment_load("tests/data/engine/loraprune.yaml", all, 3, &exp, &err), PL_OK);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK);
    cr_assert_eq(rep.failed, 1, "compare_grad with criterion grad must fail the run");
    pl_experiment_free(exp);
    engine_rmdir(dir);
}
