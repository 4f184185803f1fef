/* test_model_adapters.c - LoRA and SparseLoRA through the whole VLM, and distillation:
 * finite-difference gradients of the factors through the mask in both forms, merge keeping
 * (sparselora) or losing (lora) the sparsity with unchanged outputs, and the KD term's
 * gradients and limits (lambda = 0 and 1). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "model/adapters.h"
#include "model/vlm.h"
#include "model_testutil.h"

static model_config micro(void) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = 8, c.dim_query = 8, c.dim_language = 12;
    c.layers_vision = 1, c.layers_query = 1, c.layers_language = 1;
    c.heads = 2, c.num_queries = 4, c.image_size = 28, c.patch_size = 7;
    c.vocab_size = 11, c.text_len = 6;
    return c;
}

/* Blocks of their own shapes: narrower attention and MLP matrices, a block without MLP and
 * one without attention, a bridge block with one cross-attention head of two. */
static model_config micro_shaped(void) {
    model_config c = micro();
    c.layers_language = 2;
    model_blocks_make_custom(&c);
    c.blocks.dims[MODULE_VISION][0] = (block_dims){1, 0, 5};
    c.blocks.dims[MODULE_BRIDGE][0] = (block_dims){2, 1, 0};
    c.blocks.dims[MODULE_LANGUAGE][0] = (block_dims){1, 0, 7};
    c.blocks.dims[MODULE_LANGUAGE][1] = (block_dims){0, 0, 9};
    return c;
}

typedef struct {
    float images[2 * 28 * 28], teacher[2 * 10 * 11];
    int tokens[12], targets[12], cells[8];
} micro_batch;

static void setup_model(vlm *m, micro_batch *b, adapter_set *a, adapter_kind kind,
                        model_config c) {
    cr_assert_eq(vlm_create(m, &c, 2, NULL), PL_OK);
    vlm_init(m, 9);
    cr_assert_eq(vlm_enable_masks(m, NULL), PL_OK);
    pl_rng r = {21, 1};
    for (size_t i = 0; i < m->index.layout.total; i++) {
        m->params.data[i] += 0.1f * pl_rng_normal(r, i);
        m->masks.data[i] = pl_rng_uniform(r, (1ull << 32) + i) < 0.5f ? 0.0f : 1.0f;
    }
    for (int i = 0; i < 2 * 28 * 28; i++) b->images[i] = pl_rng_normal(r, (2ull << 32) + (uint64_t)i);
    for (int i = 0; i < 2 * 10 * 11; i++) b->teacher[i] = 2.0f * pl_rng_normal(r, (3ull << 32) + (uint64_t)i);
    for (int i = 0; i < 12; i++) {
        b->tokens[i] = (int)pl_rng_below(r, (4ull << 32) + (uint64_t)i, 11);
        b->targets[i] = i % 6 >= 3 ? (int)pl_rng_below(r, (5ull << 32) + (uint64_t)i, 11) : -1;
    }
    for (int i = 0; i < 8; i++) b->cells[i] = (int)pl_rng_below(r, (6ull << 32) + (uint64_t)i, 11);
    if (a == NULL) return;
    adapter_config ac = {.rank = {2, 1, 3}, .alpha = 4.0f, .modules = 7u, .layer_kinds = LAYER_ALL};
    cr_assert_eq(adapters_create(a, &m->index, kind, &ac, 5, NULL), PL_OK);
    /* B starts at zero; give it values so both factors' gradients are non-trivial. */
    for (size_t i = 0; i < a->layout.total; i++) a->values.data[i] += 0.2f * pl_rng_normal(r, (7ull << 32) + i);
}

static void setup(vlm *m, micro_batch *b, adapter_set *a, adapter_kind kind) {
    setup_model(m, b, a, kind, micro());
}

static vlm_input input_of(const micro_batch *b) {
    vlm_input in = {.images = b->images, .tokens = b->tokens, .targets = b->targets,
                    .cells = b->cells, .teacher_logits = b->teacher, .batch = 2};
    return in;
}

static const vlm_loss_weights KD = {.task_weight = 0.6f, .kd_weight = 0.4f, .temperature = 2.0f};

static void adapter_gradients(adapter_kind kind, model_config c) {
    vlm m;
    adapter_set a;
    static micro_batch b;
    setup_model(&m, &b, &a, kind, c);
    weight_set w = vlm_weights(&m, 1, 0);
    w.adapters = &a;
    w.adapter_grads = &a.grads;
    vlm_input in = input_of(&b);
    pl_buffer_zero(&a.grads);
    vlm_forward(&m, &w, &in, KD);
    vlm_backward(&m, &w);
    tm_check_fd(&m, &w, a.values.data, a.grads.data, a.layout.total, &in, KD, 40, "adapter");
    adapters_free(&a);
    vlm_free(&m);
}

Test(adapters, lora_factor_gradients_match_finite_differences) {
    adapter_gradients(ADAPTER_LORA, micro());
}
Test(adapters, sparselora_factor_gradients_match_finite_differences) {
    adapter_gradients(ADAPTER_SPARSELORA, micro());
}
Test(adapters, factor_gradients_on_blocks_of_their_own_shapes) {
    adapter_gradients(ADAPTER_LORA, micro_shaped());
    adapter_gradients(ADAPTER_SPARSELORA, micro_shaped());
}

Test(adapters, distillation_gradients_match_finite_differences) {
    vlm m;
    static micro_batch b;
    setup(&m, &b, NULL, ADAPTER_NONE);
    weight_set w = vlm_weights(&m, 1, 1);
    vlm_input in = input_of(&b);
    vlm_zero_grad(&m);
    vlm_losses l = vlm_forward(&m, &w, &in, KD);
    cr_assert_gt(l.kd, 0.0f);
    vlm_backward(&m, &w);
    tm_check_fd(&m, &w, m.params.data, m.grads.data, m.index.layout.total, &in, KD, 40, "param");
    vlm_free(&m);
}

/* With kd_weight 0 the teacher has no effect; with task_weight 0 the targets' tokens only
 * matter through which positions are distilled. */
Test(adapters, lambda_limits) {
    vlm m;
    static micro_batch b;
    setup(&m, &b, NULL, ADAPTER_NONE);
    weight_set w = vlm_weights(&m, 1, 1);
    vlm_input in = input_of(&b);
    vlm_loss_weights no_kd = {.task_weight = 1.0f, .kd_weight = 0.0f, .temperature = 2.0f};
    vlm_zero_grad(&m);
    float l1 = vlm_forward(&m, &w, &in, no_kd).total;
    vlm_backward(&m, &w);
    float *g1 = malloc(m.index.layout.total * sizeof(float));
    memcpy(g1, m.grads.data, m.index.layout.total * sizeof(float));
    for (int i = 0; i < 2 * 10 * 11; i++) b.teacher[i] *= -3.0f; /* a very different teacher */
    vlm_zero_grad(&m);
    float l2 = vlm_forward(&m, &w, &in, no_kd).total;
    vlm_backward(&m, &w);
    cr_assert_eq(l1, l2);
    cr_assert_eq(memcmp(g1, m.grads.data, m.index.layout.total * sizeof(float)), 0);
    /* lambda = 1: the answer tokens themselves no longer matter, only the positions. */
    vlm_loss_weights only_kd = {.task_weight = 0.0f, .kd_weight = 1.0f, .temperature = 2.0f};
    vlm_zero_grad(&m);
    float k1 = vlm_forward(&m, &w, &in, only_kd).total;
    vlm_backward(&m, &w);
    memcpy(g1, m.grads.data, m.index.layout.total * sizeof(float));
    for (int i = 0; i < 12; i++)
        if (b.targets[i] >= 0) b.targets[i] = (b.targets[i] + 5) % 11;
    vlm_zero_grad(&m);
    float k2 = vlm_forward(&m, &w, &in, only_kd).total;
    vlm_backward(&m, &w);
    cr_assert_eq(k1, k2);
    cr_assert_eq(memcmp(g1, m.grads.data, m.index.layout.total * sizeof(float)), 0);
    free(g1);
    vlm_free(&m);
}

static double sparsity_of_prunable(const vlm *m) {
    size_t zeros = 0, total = 0;
    for (int t = 0; t < m->index.layout.count; t++) {
        if (!m->index.prunable[t]) continue;
        const float *W = pl_buffer_view(&m->params, t), *M = pl_buffer_view(&m->masks, t);
        for (size_t k = 0; k < m->index.layout.tensors[t].count; k++) {
            zeros += (W[k] * M[k] == 0.0f);
            total++;
        }
    }
    return (double)zeros / (double)total;
}

static void merge_case(adapter_kind kind, model_config c) {
    vlm m;
    adapter_set a;
    static micro_batch b;
    setup_model(&m, &b, &a, kind, c);
    weight_set w = vlm_weights(&m, 1, 0);
    w.adapters = &a;
    vlm_input in = input_of(&b);
    vlm_forward(&m, &w, &in, KD);
    float *before = malloc(2 * 10 * 11 * sizeof(float));
    memcpy(before, m.logits, 2 * 10 * 11 * sizeof(float));
    double sparsity_before = sparsity_of_prunable(&m);
    adapters_merge(&a, &m.index, &m.params, &m.masks);
    weight_set merged = vlm_weights(&m, 1, 0);
    vlm_forward(&m, &merged, &in, KD);
    for (int i = 0; i < 2 * 10 * 11; i++)
        cr_assert_float_eq(m.logits[i], before[i], 1e-4f, "logit %d", i);
    double sparsity_after = sparsity_of_prunable(&m);
    if (kind == ADAPTER_SPARSELORA) {
        cr_assert_eq(sparsity_after, sparsity_before);
        for (int t = 0; t < m.index.layout.count; t++) {
            if (a.a_of[t] < 0) continue;
            const float *W = pl_buffer_view(&m.params, t), *M = pl_buffer_view(&m.masks, t);
            for (size_t k = 0; k < m.index.layout.tensors[t].count; k++)
                if (M[k] == 0.0f) cr_assert_eq(W[k], 0.0f);
        }
    } else {
        cr_assert_gt(sparsity_before, 0.3);
        cr_assert_lt(sparsity_after, 0.05, "a merged LoRA delta is dense");
    }
    free(before);
    adapters_free(&a);
    vlm_free(&m);
}

Test(adapters, sparselora_merge_keeps_sparsity_exactly) {
    merge_case(ADAPTER_SPARSELORA, micro());
    merge_case(ADAPTER_SPARSELORA, micro_shaped());
}
Test(adapters, lora_merge_is_dense) {
    merge_case(ADAPTER_LORA, micro());
    merge_case(ADAPTER_LORA, micro_shaped());
}
