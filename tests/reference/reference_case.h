/* reference_case.h - the models and batch that prunelab and the PyTorch twin both evaluate
 * (shared by the fixture writer and the Criterion test, so they cannot drift). Widths
 * differ per module (cross-attention from 16 to 24 wide sequences), every tensor gets
 * non-trivial values, 30 % of prunable weights are masked. The shaped case gives blocks
 * their own units: a vision block without attention, one without MLP, a bridge block with
 * one cross-attention head of two and one without cross-attention, narrower and wider MLPs. */
#ifndef PL_TESTS_REFERENCE_CASE_H
#define PL_TESTS_REFERENCE_CASE_H

#include "core/rng.h"
#include "model/vlm.h"

enum { REF_BATCH = 3, REF_TEXT = 8, REF_IMAGE = 56, REF_VOCAB = 20 };
#define REF_TASK_WEIGHT 1.0f
#define REF_AUX_WEIGHT 0.5f
#define REF_BRIDGE_AUX_WEIGHT 0.3f

typedef struct {
    float images[REF_BATCH * REF_IMAGE * REF_IMAGE];
    int tokens[REF_BATCH * REF_TEXT], targets[REF_BATCH * REF_TEXT], cells[REF_BATCH * 4];
} reference_batch;

static inline pl_status reference_model_case(vlm *m, int shaped, pl_error *err) {
    model_config c;
    PL_TRY(model_config_preset(&c, "tiny", err));
    c.dim_vision = 16, c.dim_query = 24, c.dim_language = 32;
    c.layers_vision = 2, c.layers_query = 1, c.layers_language = 2;
    c.heads = 2, c.num_queries = 4, c.vocab_size = REF_VOCAB, c.text_len = REF_TEXT;
    if (shaped) {
        c.layers_query = 2;
        model_blocks_make_custom(&c);
        c.blocks.dims[MODULE_VISION][0] = (block_dims){0, 0, 40};
        c.blocks.dims[MODULE_VISION][1] = (block_dims){1, 0, 0};
        c.blocks.dims[MODULE_BRIDGE][0] = (block_dims){2, 1, 30};
        c.blocks.dims[MODULE_BRIDGE][1] = (block_dims){1, 0, 20};
        c.blocks.dims[MODULE_LANGUAGE][0] = (block_dims){1, 0, 50};
        c.blocks.dims[MODULE_LANGUAGE][1] = (block_dims){2, 0, 0};
    }
    PL_TRY(vlm_create(m, &c, REF_BATCH, err));
    vlm_init(m, 2024);
    pl_rng r = {2024, 1};
    for (int t = 0; t < m->index.layout.count; t++) {
        float *p = pl_buffer_view(&m->params, t);
        for (size_t k = 0; k < m->index.layout.tensors[t].count; k++)
            p[k] += 0.05f * pl_rng_normal(r, m->index.layout.tensors[t].offset + k);
    }
    PL_TRY(vlm_enable_masks(m, err));
    for (size_t i = 0; i < m->index.layout.total; i++)
        m->masks.data[i] = pl_rng_uniform(r, (1ull << 40) + i) < 0.3f ? 0.0f : 1.0f;
    return PL_OK;
}

static inline pl_status reference_model(vlm *m, pl_error *err) {
    return reference_model_case(m, 0, err);
}

static inline void reference_fill_batch(reference_batch *b) {
    pl_rng r = {77, 3};
    for (int i = 0; i < REF_BATCH * REF_IMAGE * REF_IMAGE; i++)
        b->images[i] = pl_rng_normal(r, (uint64_t)i);
    for (int i = 0; i < REF_BATCH * REF_TEXT; i++) {
        b->tokens[i] = (int)pl_rng_below(r, 100000 + (uint64_t)i, REF_VOCAB);
        b->targets[i] = (i % REF_TEXT) >= 4 ? (int)pl_rng_below(r, 200000 + (uint64_t)i, REF_VOCAB) : -1;
    }
    for (int i = 0; i < REF_BATCH * 4; i++) b->cells[i] = (int)pl_rng_below(r, 300000 + (uint64_t)i, 11);
}

#endif
