/* test_finetune.c - the recovery loop on real fashion scenes with a micro model: masked
 * full fine-tuning keeps every pruned weight exactly zero after many steps, SparseLoRA
 * trains only the factors (W untouched) and merges without losing sparsity. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/rng.h"
#include "data/tokenizer.h"
#include "tune/finetune.h"

static pl_data data;

static void open_data(void) {
    pl_data_config dc;
    pl_data_config_default(&dc);
    dc.val_scenes = 64;
    pl_error err;
    cr_assert_eq(pl_data_open(&data, &dc, &err), PL_OK, "%s", err.message);
}
static void close_data(void) { pl_data_close(&data); }

static void micro_pruned(vlm *m) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = c.dim_query = c.dim_language = 16;
    c.layers_vision = c.layers_query = c.layers_language = 1;
    c.vocab_size = PL_VOCAB_SIZE, c.text_len = data.config.text_len;
    cr_assert_eq(vlm_create(m, &c, 8, NULL), PL_OK);
    vlm_init(m, 4);
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
