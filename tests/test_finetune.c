/* test_finetune.c - the recovery loop on real fashion scenes with a micro model: masked
 * full fine-tuning keeps every pruned weight exactly zero after many steps, SparseLoRA
 * trains only the factors (W untouched) and merges without losing sparsity, and the
 * finetune stage takes hidden_weight / attn_weight > 0 and logs loss_hidden / loss_attn. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "config/experiment.h"
#include "config/path.h"
#include "core/rng.h"
#include "data/tokenizer.h"
#include "engine/stage.h"
#include "fashion_fixture.h"
#include "tune/finetune.h"

static void micro_pruned(vlm *m) {
    fashion_micro_vlm(m, 8, 4);
    cr_assert_eq(vlm_enable_masks(m, NULL), PL_OK);
    pl_rng r = {8, 8};
    for (int t = 0; t < m->index.layout.count; t++) {
        if (!m->index.prunable[t]) continue;
        float *M = pl_buffer_view(&m->masks, t);
        for (size_t k = 0; k < m->index.layout.tensors[t].count; k++)
            M[k] = pl_rng_uniform(r, m->index.layout.tensors[t].offset + k) < 0.5f ? 0.0f : 1.0f;
    }
}

static finetune_config quick(adapter_kind kind) {
    finetune_config cfg;
    finetune_config_default(&cfg);
    cfg.adapter = kind;
    cfg.steps = 60, cfg.batch_size = 8, cfg.warmup = 5, cfg.log_every = 1000;
    cfg.eval_samples = 16, cfg.lambda = 0.5f, cfg.weight_decay = 0.01f;
    return cfg;
}

Test(finetune, masked_full_finetuning_keeps_pruned_weights_zero, .init = open_data, .fini = close_data) {
    vlm m;
    micro_pruned(&m);
    finetune_config cfg = quick(ADAPTER_NONE);
    pl_error err;
    cr_assert_eq(finetune_run(&m, NULL, &data, &cfg, NULL, NULL, &err), PL_OK, "%s", err.message);
    size_t pruned = 0;
    for (int t = 0; t < m.index.layout.count; t++) {
        if (!m.index.prunable[t]) continue;
        const float *W = pl_buffer_view(&m.params, t), *M = pl_buffer_view(&m.masks, t);
        for (size_t k = 0; k < m.index.layout.tensors[t].count; k++)
            if (M[k] == 0.0f) {
                cr_assert_eq(W[k], 0.0f, "%s[%zu] drifted from zero", m.index.layout.tensors[t].name, k);
                pruned++;
            }
    }
    cr_assert_gt(pruned, 1000u);
    vlm_free(&m);
}

Test(finetune, sparselora_trains_factors_only_and_merges_sparse, .init = open_data, .fini = close_data) {
    vlm m;
    micro_pruned(&m);
    float *before = malloc(m.index.layout.total * sizeof(float));
    memcpy(before, m.params.data, m.index.layout.total * sizeof(float));
    finetune_config cfg = quick(ADAPTER_SPARSELORA);
    adapter_set a;
    pl_error err;
    cr_assert_eq(finetune_run(&m, NULL, &data, &cfg, &a, NULL, &err), PL_OK, "%s", err.message);
    cr_assert_eq(memcmp(before, m.params.data, m.index.layout.total * sizeof(float)), 0,
                 "the base weights must stay frozen");
    double b_norm = 0;
    for (int t = 0; t < m.index.layout.count; t++)
        if (a.b_of[t] >= 0) {
            const float *B = pl_buffer_view(&a.values, a.b_of[t]);
            for (size_t k = 0; k < a.layout.tensors[a.b_of[t]].count; k++) b_norm += B[k] * B[k];
        }
    cr_assert_gt(b_norm, 0.0, "B must have moved from zero");
    adapters_merge(&a, &m.index, &m.params, &m.masks);
    for (int t = 0; t < m.index.layout.count; t++) {
        if (!m.index.prunable[t]) continue;
        const float *W = pl_buffer_view(&m.params, t), *M = pl_buffer_view(&m.masks, t);
        for (size_t k = 0; k < m.index.layout.tensors[t].count; k++)
            if (M[k] == 0.0f) cr_assert_eq(W[k], 0.0f);
    }
    adapters_free(&a);
    free(before);
    vlm_free(&m);
}

typedef struct { /* what a run logged: per-step values of the state terms, the last progress line */
    int steps[2];
    double first[2];
    int nonfinite;
    char progress[512];
} seen_log;

static pl_status on_step(void *ctx, const char *name, int64_t step, double value, pl_error *err) {
    (void)err;
    seen_log *s = ctx;
    const int k = strcmp(name, "loss_hidden") == 0 ? 0 : strcmp(name, "loss_attn") == 0 ? 1 : -1;
    if (k < 0) return PL_OK;
    if (step == 0) s->first[k] = value;
    s->steps[k]++;
    s->nonfinite += !isfinite(value);
    return PL_OK;
}

static void on_progress(void *ctx, const char *line) {
    seen_log *s = ctx;
    snprintf(s->progress, sizeof s->progress, "%s", line);
}

Test(finetune, stage_distils_hidden_states_and_attention_maps, .init = open_data, .fini = close_data) {
    pl_experiment *e;
    pl_error err;
    cr_assert_eq(pl_experiment_load("tests/data/config/good/finetune_states.yaml", NULL, 0, &e, &err),
                 PL_OK, "%s", err.message);
    const cfg_node *run = e->runs[0].config, *section = cfg_get(run, "pipeline.finetune");
    cr_assert_not_null(section);
    vlm in, out;
    micro_pruned(&in);
    memset(&out, 0, sizeof out);
    seen_log log = {0};
    pl_metrics_sink sink = {.ctx = &log, .step = on_step, .progress = on_progress};
    pl_status st = pl_stage_find("finetune")->run(&in, section, run, &data, &out, &sink, &err);
    cr_assert_eq(st, PL_OK, "%s", err.message);
    cr_assert_eq(log.steps[0], 3, "loss_hidden logged %d times", log.steps[0]);
    cr_assert_eq(log.steps[1], 3, "loss_attn logged %d times", log.steps[1]);
    cr_assert_eq(log.nonfinite, 0);
    /* The pruned student differs from the unmasked teacher from the first step on. */
    cr_assert_gt(log.first[0], 0.0);
    cr_assert_gt(log.first[1], 0.0);
    cr_assert(strstr(log.progress, " hidden ") && strstr(log.progress, " attn "), "%s", log.progress);
    vlm_free(&in);
    vlm_free(&out);
    pl_experiment_free(e);
}

Test(finetune, state_terms_off_are_not_logged, .init = open_data, .fini = close_data) {
    vlm m;
    micro_pruned(&m);
    finetune_config cfg = quick(ADAPTER_NONE);
    cfg.steps = 2;
    seen_log log = {0};
    pl_metrics_sink sink = {.ctx = &log, .step = on_step, .progress = on_progress};
    pl_error err;
    cr_assert_eq(finetune_run(&m, NULL, &data, &cfg, NULL, &sink, &err), PL_OK, "%s", err.message);
    cr_assert_eq(log.steps[0] + log.steps[1], 0);
    cr_assert_null(strstr(log.progress, "hidden"), "%s", log.progress);
    vlm_free(&m);
}
