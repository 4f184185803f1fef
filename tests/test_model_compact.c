/* test_model_compact.c - compaction removes the units a structured pruning masked: the
 * compacted model has the smaller per-block shape (a block whose every head went has no
 * self-attention, one whose every neuron went no MLP) and computes the masked model's
 * logits and losses to 1e-5, also with an unstructured mask on the kept weights and through
 * a checkpoint; a model without removed units compacts to itself. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/checkpoint.h"
#include "model/compact.h"
#include "model_testutil.h"

/* Two blocks per module (the micro model's widths and cross-attention across widths). */
static model_config two_per_module(void) {
    model_config c = tm_micro_config();
    c.layers_vision = 2, c.layers_query = 2, c.layers_language = 2;
    return c;
}

static void drop(vlm *m, pl_module mod, int l, unit_kind k, int unit) {
    float *keep = unit_masks_keep(&m->units, mod, l, k);
    cr_assert_not_null(keep);
    keep[unit] = 0.0f;
}

/* Removes: every head of vision block 0, half the neurons of vision block 1, a self- and a
 * cross-attention head of bridge block 0, every neuron of bridge block 1, a head of
 * language block 0, every neuron and a head of language block 1. */
static void remove_units(vlm *m) {
    cr_assert_eq(vlm_enable_masks(m, NULL), PL_OK);
    cr_assert_eq(unit_masks_enable(&m->units, &m->cfg, &m->index, NULL), PL_OK);
    drop(m, MODULE_VISION, 0, UNIT_HEADS, 0), drop(m, MODULE_VISION, 0, UNIT_HEADS, 1);
    const int fv = m->index.vision_blocks[1].ffn, fb = m->index.bridge_blocks[1].ffn;
    const int fl = m->index.language_blocks[1].ffn;
    for (int j = 0; j < fv; j += 2) drop(m, MODULE_VISION, 1, UNIT_NEURONS, j);
    drop(m, MODULE_BRIDGE, 0, UNIT_HEADS, 1), drop(m, MODULE_BRIDGE, 0, UNIT_CROSS_HEADS, 0);
    for (int j = 0; j < fb; j++) drop(m, MODULE_BRIDGE, 1, UNIT_NEURONS, j);
    drop(m, MODULE_LANGUAGE, 0, UNIT_HEADS, 0);
    for (int j = 0; j < fl; j++) drop(m, MODULE_LANGUAGE, 1, UNIT_NEURONS, j);
    drop(m, MODULE_LANGUAGE, 1, UNIT_HEADS, 1);
    unit_masks_apply(&m->units, &m->index, &m->cfg, NULL, &m->masks);
}

typedef struct {
    vlm_losses loss;
    float *logits;
} pass;

static pass run(vlm *m, const tm_batch *b) {
    const vlm_input in = {.images = b->images, .tokens = b->tokens, .targets = b->targets,
                          .cells = b->cells, .batch = 2};
    const weight_set w = vlm_weights(m, 1, 0);
    pass p = {vlm_forward(m, &w, &in, (vlm_loss_weights){.task_weight = 1.0f, .aux_weight = 0.5f,
                                                          .bridge_aux_weight = 0.5f}), NULL};
    const size_t n = (size_t)2 * model_lm_len(&m->cfg) * m->cfg.vocab_size;
    p.logits = malloc(n * sizeof(float));
    cr_assert_not_null(p.logits);
    memcpy(p.logits, m->logits, n * sizeof(float));
    return p;
}

static void expect_same(const pass *a, const pass *b, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs(a->logits[i] - b->logits[i]) <= tol, "logit %zu: %.8g vs %.8g", i, a->logits[i],
                  b->logits[i]);
    cr_assert(fabs(a->loss.total - b->loss.total) <= tol, "loss %.8g vs %.8g", a->loss.total, b->loss.total);
}

Test(model_compact, compacted_model_computes_the_masked_one) {
    model_config c = two_per_module();
    vlm m, small;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 21);
    remove_units(&m);
    /* An unstructured mask on top, so kept weights' masks must carry over. */
    pl_rng r = {6, 6};
    for (int t = 0; t < m.index.layout.count; t++)
        if (m.index.prunable[t])
            for (size_t i = 0; i < m.index.layout.tensors[t].count; i++)
                if (pl_rng_uniform(r, m.index.layout.tensors[t].offset + i) < 0.2f)
                    m.masks.data[m.index.layout.tensors[t].offset + i] = 0.0f;
    tm_batch b;
    tm_fill_batch(&b, 5);
    pass want = run(&m, &b);
    pl_error err;
    cr_assert_eq(vlm_compact(&m, &small, &err), PL_OK, "%s", err.message);

    const block_dims v0 = model_block(&small.cfg, MODULE_VISION, 0), v1 = model_block(&small.cfg, MODULE_VISION, 1);
    const block_dims q0 = model_block(&small.cfg, MODULE_BRIDGE, 0), q1 = model_block(&small.cfg, MODULE_BRIDGE, 1);
    const block_dims l0 = model_block(&small.cfg, MODULE_LANGUAGE, 0), l1 = model_block(&small.cfg, MODULE_LANGUAGE, 1);
    const int fv = m.index.vision_blocks[1].ffn;
    cr_assert(v0.heads == 0 && v0.ffn == m.index.vision_blocks[0].ffn, "vision 0 loses its attention");
    cr_assert(v1.heads == 2 && v1.ffn == fv / 2);
    cr_assert(q0.heads == 1 && q0.cross_heads == 1 && q1.ffn == 0 && q1.cross_heads == 2);
    cr_assert(l0.heads == 1 && l1.heads == 1 && l1.ffn == 0, "language 1 loses its MLP");
    cr_assert_eq(small.index.vision_blocks[0].qkv.weight, -1, "no self-attention matrices left");
    cr_assert_geq(small.index.vision_blocks[0].proj.bias, 0, "only the output bias remains");
    cr_assert_lt(small.index.layout.total, m.index.layout.total);
    cr_assert_null(small.units.layout, "every unit of the compacted model is kept");

    pass got = run(&small, &b);
    const size_t n = (size_t)2 * model_lm_len(&c) * c.vocab_size;
    expect_same(&want, &got, n, 1e-5);

    /* The checkpoint carries the shape; it loads and computes the same. */
    char path[] = "/tmp/prunelab_compact_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    vlm back;
    cr_assert_eq(vlm_save(&small, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&back, path, 2, &err), PL_OK, "%s", err.message);
    unlink(path);
    cr_assert_eq(back.index.layout.total, small.index.layout.total);
    pass loaded = run(&back, &b);
    expect_same(&got, &loaded, n, 0.0);
    free(want.logits), free(got.logits), free(loaded.logits);
    vlm_free(&back);
    vlm_free(&small);
    vlm_free(&m);
}

Test(model_compact, a_model_without_removed_units_compacts_to_itself) {
    model_config c = two_per_module();
    vlm m, same;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 8);
    pl_error err;
    cr_assert_eq(vlm_compact(&m, &same, &err), PL_OK, "%s", err.message);
    cr_assert_eq(same.cfg.blocks.custom, 0, "the uniform shape stays uniform");
    cr_assert_eq(same.index.layout.total, m.index.layout.total);
    for (int t = 0; t < m.index.layout.count; t++) {
        const pl_tensor_spec *s = &m.index.layout.tensors[t];
        cr_assert(memcmp(pl_buffer_view(&same.params, t), pl_buffer_view(&m.params, t), s->count * sizeof(float)) == 0,
                  "%s", s->name);
    }
    cr_assert_null(same.masks.data);
    vlm_free(&same);

    /* Unmerged adapters are refused: they must be merged first. */
    adapter_config ac = {.rank = {2, 2, 2}, .alpha = 4.0f, .modules = 7u, .layer_kinds = LAYER_ALL};
    cr_assert_eq(vlm_enable_weff(&m, NULL), PL_OK);
    cr_assert_eq(adapters_create(&m.adapters, &m.index, ADAPTER_LORA, &ac, 1, NULL), PL_OK);
    cr_assert_eq(vlm_compact(&m, &same, &err), PL_ERR_INVALID);
    cr_assert(strstr(err.message, "merged") != NULL, "%s", err.message);
    vlm_merge_carried_adapters(&m);
    cr_assert_eq(m.adapters.kind, ADAPTER_NONE);
    cr_assert_eq(vlm_compact(&m, &same, &err), PL_OK, "%s", err.message);
    vlm_free(&same);
    vlm_free(&m);
}
