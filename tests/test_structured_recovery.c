/* test_structured_recovery.c - heads and neurons removed by structured pruning stay dead
 * through recovery: masked full fine-tuning, LoRA and SparseLoRA train for a few steps on
 * fashion scenes, and every removed unit's rows and columns of the effective weights are
 * exactly 0 before the merge, after it (with the masks still 0 there, so a later full
 * fine-tuning cannot revive them) and after an unmerged checkpoint's round trip. Without
 * the unit keep vectors LoRA's delta there would not be 0 (checked, so the test can fail).
 * Compacting the recovered model (adapters merged) gives the same logits to 1e-5. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/rng.h"
#include "data/tokenizer.h"
#include "model/checkpoint.h"
#include "model/compact.h"
#include "model/decode.h"
#include "prune/prune.h"
#include "fashion_fixture.h"
#include "tune/finetune.h"

/* A micro model with half of every module's heads and neurons and of the bridge's
 * cross-attention heads removed by magnitude. */
static void structurally_pruned(vlm *m) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = c.dim_query = c.dim_language = 16;
    c.layers_vision = c.layers_query = c.layers_language = 1;
    c.heads = 2, c.mlp_ratio = 2;
    c.vocab_size = PL_VOCAB_SIZE, c.text_len = data.config.text_len;
    cr_assert_eq(vlm_create(m, &c, 8, NULL), PL_OK);
    vlm_init(m, 4);
    /* Nonzero biases too: a removed unit's input side then computes something, which only
     * its zero output side keeps out of the residual stream. */
    pl_rng r = {4, 4};
    for (size_t i = 0; i < m->index.layout.total; i++) m->params.data[i] += 0.05f * pl_rng_normal(r, i);
    prune_config pc;
    prune_config_default(&pc);
    pc.method = PRUNE_MAGNITUDE, pc.structured = 1, pc.cross_heads = 0.5f;
    for (int mod = 0; mod < MODULE_COUNT; mod++) pc.heads[mod] = pc.neurons[mod] = 0.5f;
    pl_error err;
    cr_assert_eq(prune_model(m, NULL, &pc, NULL, &err), PL_OK, "%s", err.message);
}

static finetune_config quick(adapter_kind kind) {
    finetune_config cfg;
    finetune_config_default(&cfg);
    cfg.adapter = kind;
    cfg.steps = 12, cfg.batch_size = 8, cfg.warmup = 2, cfg.log_every = 1000;
    cfg.lambda = 0.0f, cfg.lr = 1e-2f, cfg.weight_decay = 0.01f;
    return cfg;
}

typedef const float *(*matrix_of)(const vlm *m, int tensor, void *ctx);

/* Calls check(value) on every entry of a removed unit's rows or columns; returns how many. */
static int removed_entries(const vlm *m, matrix_of view, void *ctx, const char *what) {
    int n = 0;
    unit_linear uls[UNIT_LINEARS_MAX];
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++) {
            const int count = unit_linears_of_block(&param_blocks(&m->index, (pl_module)mod)[l], uls);
            for (int i = 0; i < count; i++) {
                const float *keep = unit_masks_keep(&m->units, (pl_module)mod, l, uls[i].kind);
                const float *x = view(m, uls[i].ref.weight, ctx);
                for (int r = 0; r < uls[i].ref.out; r++)
                    for (int c = 0; c < uls[i].ref.in; c++) {
                        if (keep[unit_of_channel(&uls[i], uls[i].along_cols ? c : r)] != 0.0f) continue;
                        cr_assert_eq(x[(size_t)r * uls[i].ref.in + c], 0.0f, "%s of %s[%d, %d]", what,
                                     m->index.layout.tensors[uls[i].ref.weight].name, r, c);
                        n++;
                    }
            }
        }
    return n;
}

static const float *weff_view(const vlm *m, int t, void *ctx) { return (void)ctx, pl_buffer_view(&m->weff, t); }
static const float *mask_view(const vlm *m, int t, void *ctx) { return (void)ctx, pl_buffer_view(&m->masks, t); }

/* W ⊙ M into a scratch tensor. */
static const float *masked_view(const vlm *m, int t, void *ctx) {
    float *out = ctx;
    const float *w = pl_buffer_view(&m->params, t), *mask = pl_buffer_view(&m->masks, t);
    for (size_t i = 0; i < m->index.layout.tensors[t].count; i++) out[i] = w[i] * mask[i];
    return out;
}

/* Runs one forward through ws, which leaves every masked or adapted layer's W_eff in m->weff. */
static void forward_once(vlm *m, const weight_set *ws) {
    pl_batch b;
    cr_assert_eq(pl_data_batch_alloc(&data, &b, 2, NULL), PL_OK);
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_VAL, 0, 2, &b, NULL), PL_OK);
    const vlm_input in = {.images = b.images, .tokens = b.tokens, .batch = 2};
    vlm_forward(m, ws, &in, (vlm_loss_weights){.task_weight = 1.0f});
    pl_batch_free(&b);
}

/* s·B·A of tensor t, as if no unit keep vectors applied. */
static const float *raw_delta(const vlm *m, int t, void *ctx) {
    const adapter_set *a = ((void **)ctx)[0];
    float *out = ((void **)ctx)[1];
    const pl_tensor_spec *w = &m->index.layout.tensors[t];
    memset(out, 0, w->count * sizeof(float));
    if (a->a_of[t] >= 0)
        pl_sgemm(false, false, w->shape[0], w->shape[1], a->rank_of[t], a->scale_of[t],
                 pl_buffer_view(&a->values, a->b_of[t]), a->rank_of[t],
                 pl_buffer_view(&a->values, a->a_of[t]), w->shape[1], 0.0f, out, w->shape[1]);
    return out;
}

static int nonzero_raw_delta_at_removed_columns(const vlm *m, const adapter_set *a, float *scratch) {
    int nonzero = 0;
    unit_linear uls[UNIT_LINEARS_MAX];
    void *ctx[2] = {(void *)a, scratch};
    const int count = unit_linears_of_block(&m->index.language_blocks[0], uls);
    for (int i = 0; i < count; i++) {
        if (!uls[i].along_cols || a->a_of[uls[i].ref.weight] < 0) continue;
        const float *keep = unit_masks_keep(&m->units, MODULE_LANGUAGE, 0, uls[i].kind);
        const float *d = raw_delta(m, uls[i].ref.weight, ctx);
        for (int r = 0; r < uls[i].ref.out; r++)
            for (int c = 0; c < uls[i].ref.in; c++)
                nonzero += keep[unit_of_channel(&uls[i], c)] == 0.0f && d[(size_t)r * uls[i].ref.in + c] != 0.0f;
    }
    return nonzero;
}

/* The compacted model's logits against m's (masked, with what it carries) to 1e-5. */
static void expect_compaction_equal(vlm *m) {
    weight_set wm = vlm_weights(m, 1, 0);
    forward_once(m, &wm);
    const size_t n = (size_t)2 * model_lm_len(&m->cfg) * m->cfg.vocab_size;
    float *want = malloc(n * sizeof(float));
    cr_assert_not_null(want);
    memcpy(want, m->logits, n * sizeof(float));
    vlm_merge_carried_adapters(m);
    vlm small;
    pl_error err;
    cr_assert_eq(vlm_compact(m, &small, &err), PL_OK, "%s", err.message);
    cr_assert_lt(small.index.layout.total, m->index.layout.total);
    weight_set ws = vlm_weights(&small, 1, 0);
    forward_once(&small, &ws);
    for (size_t i = 0; i < n; i++)
        cr_assert(fabsf(small.logits[i] - want[i]) <= 1e-5f, "logit %zu: %.8g vs %.8g", i, small.logits[i], want[i]);
    free(want);
    vlm_free(&small);
}

static void recover_and_check(adapter_kind kind) {
    vlm m;
    structurally_pruned(&m);
    float *scratch = malloc(m.index.layout.total * sizeof(float));
    cr_assert_not_null(scratch);
    finetune_config cfg = quick(kind);
    adapter_set a;
    memset(&a, 0, sizeof a);
    pl_error err;
    cr_assert_eq(finetune_run(&m, NULL, &data, &cfg, kind == ADAPTER_NONE ? NULL : &a, NULL, &err), PL_OK,
                 "%s", err.message);
    weight_set ws = vlm_weights(&m, 1, 0);
    if (kind != ADAPTER_NONE) ws.adapters = &a;
    forward_once(&m, &ws);
    const int checked = removed_entries(&m, weff_view, NULL, "W_eff after training");
    cr_assert_gt(checked, 100);
    if (kind == ADAPTER_LORA)
        cr_assert_gt(nonzero_raw_delta_at_removed_columns(&m, &a, scratch), 0,
                     "LoRA's unmasked delta would revive removed units: the keep vectors matter");
    if (kind != ADAPTER_NONE) {
        adapters_merge(&a, &m.index, &m.params, &m.masks);
        adapters_free(&a);
    }
    removed_entries(&m, masked_view, scratch, "W ⊙ M after the merge");
    removed_entries(&m, mask_view, NULL, "M after the merge");
    expect_compaction_equal(&m);

    /* Masked full fine-tuning afterwards: the masks still hold the units. */
    finetune_config full = quick(ADAPTER_NONE);
    cr_assert_eq(finetune_run(&m, NULL, &data, &full, NULL, NULL, &err), PL_OK, "%s", err.message);
    removed_entries(&m, masked_view, scratch, "W ⊙ M after full fine-tuning");
    free(scratch);
    vlm_free(&m);
}

Test(structured_recovery, full_finetuning_keeps_removed_units_dead, .init = open_data, .fini = close_data) {
    recover_and_check(ADAPTER_NONE);
}
Test(structured_recovery, lora_keeps_removed_units_dead_before_and_after_the_merge, .init = open_data,
     .fini = close_data) {
    recover_and_check(ADAPTER_LORA);
}
Test(structured_recovery, sparselora_keeps_removed_units_dead_before_and_after_the_merge, .init = open_data,
     .fini = close_data) {
    recover_and_check(ADAPTER_SPARSELORA);
}

Test(structured_recovery, unmerged_lora_reloads_with_its_units_masked, .init = open_data, .fini = close_data) {
    vlm m, back;
    structurally_pruned(&m);
    finetune_config cfg = quick(ADAPTER_LORA);
    pl_error err;
    cr_assert_eq(finetune_run(&m, NULL, &data, &cfg, &m.adapters, NULL, &err), PL_OK, "%s", err.message);
    char path[] = "/tmp/prunelab_unmerged_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(vlm_save(&m, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&back, path, 8, &err), PL_OK, "%s", err.message);
    unlink(path);
    cr_assert_not_null(back.adapters.keep_rows, "the loaded adapters know the removed units");
    weight_set ws = vlm_weights(&back, 1, 0);
    forward_once(&back, &ws);
    cr_assert_gt(removed_entries(&back, weff_view, NULL, "W_eff of the reloaded model"), 100);
    const size_t logits = (size_t)2 * model_lm_len(&m.cfg) * m.cfg.vocab_size;
    float *want = malloc(logits * sizeof(float));
    cr_assert_not_null(want);
    memcpy(want, back.logits, logits * sizeof(float));
    weight_set wm = vlm_weights(&m, 1, 0);
    forward_once(&m, &wm);
    for (size_t i = 0; i < logits; i++) cr_assert_eq(m.logits[i], want[i], "logit %zu", i);
    /* As deployed (frozen weights, the KV-cached evaluation's): the same to 1e-5. */
    const weight_set frozen = vlm_inference_weights(&m, &wm);
    forward_once(&m, &frozen);
    for (size_t i = 0; i < logits; i++)
        cr_assert(fabsf(m.logits[i] - want[i]) <= 1e-5f, "frozen logit %zu: %.8g vs %.8g", i, m.logits[i], want[i]);
    free(want);
    expect_compaction_equal(&back); /* merges the carried adapters, then compacts */
    vlm_free(&back);
    vlm_free(&m);
}
