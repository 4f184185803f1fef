/* test_model.c - the whole VLM: gradients against finite differences, masks, thread-count
 * independence, greedy decoding. A micro configuration keeps it fast. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/rng.h"
#include "model/decode.h"
#include "model/vlm.h"
#include "model_testutil.h"

static const vlm_loss_weights WEIGHTS = {.task_weight = 1.0f, .aux_weight = 0.5f, .bridge_aux_weight = 0.3f};

static void check_gradients(vlm *m, const weight_set *w, const vlm_input *in) {
    tm_check_params(m, w, in, WEIGHTS);
}

Test(model, gradients_match_finite_differences) {
    model_config c = tm_micro_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 1);
    static tm_batch b;
    tm_fill_batch(&b, 3);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .cells = b.cells, .batch = 2};
    weight_set w = vlm_weights(&m, 0, 1);
    check_gradients(&m, &w, &in);
    vlm_free(&m);
}

Test(model, masked_gradients_match_and_stay_masked) {
    model_config c = tm_micro_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 2);
    cr_assert_eq(vlm_enable_masks(&m, NULL), PL_OK);
    pl_rng r = {4, 4};
    for (int t = 0; t < m.index.layout.count; t++) {
        if (!m.index.prunable[t]) continue;
        float *mask = pl_buffer_view(&m.masks, t);
        for (size_t k = 0; k < m.index.layout.tensors[t].count; k++)
            mask[k] = pl_rng_uniform(r, (uint64_t)t * 100000 + k) < 0.4f ? 0.0f : 1.0f;
    }
    static tm_batch b;
    tm_fill_batch(&b, 8);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .cells = b.cells, .batch = 2};
    weight_set w = vlm_weights(&m, 1, 1);
    check_gradients(&m, &w, &in);
    /* A masked model equals the dense model with the pruned weights zeroed. */
    float masked = vlm_forward(&m, &w, &in, WEIGHTS).total;
    for (int t = 0; t < m.index.layout.count; t++) {
        if (!m.index.prunable[t]) continue;
        float *p = pl_buffer_view(&m.params, t), *mask = pl_buffer_view(&m.masks, t);
        for (size_t k = 0; k < m.index.layout.tensors[t].count; k++) p[k] *= mask[k];
    }
    weight_set dense = vlm_weights(&m, 0, 0);
    float zeroed = vlm_forward(&m, &dense, &in, WEIGHTS).total;
    cr_assert_float_eq(masked, zeroed, 1e-6f);
    vlm_free(&m);
}

static void run_once(int threads, float *loss, pl_buffer *grads_out, int *generated) {
    omp_set_num_threads(threads);
    model_config c = tm_micro_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 11);
    static tm_batch b;
    tm_fill_batch(&b, 12);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .cells = b.cells, .batch = 2};
    weight_set w = vlm_weights(&m, 0, 1);
    vlm_zero_grad(&m);
    *loss = vlm_forward(&m, &w, &in, WEIGHTS).total;
    vlm_backward(&m, &w);
    cr_assert_eq(pl_buffer_alloc(grads_out, &m.index.layout, NULL), PL_OK);
    memcpy(grads_out->data, m.grads.data, m.index.layout.total * sizeof(float));
    grads_out->layout = NULL;
    memcpy(generated, b.tokens, sizeof b.tokens);
    vlm_generate_full(&m, &w, b.images, generated, 2, 2, 1, 0);
    int cached[12];
    memcpy(cached, b.tokens, sizeof cached);
    vlm_decoder dec;
    cr_assert_eq(vlm_decoder_create(&dec, &m, NULL), PL_OK);
    weight_set frozen = vlm_inference_weights(&m, &w);
    vlm_generate(&m, &dec, &frozen, b.images, cached, 2, 2, 1, 0);
    vlm_decoder_free(&dec);
    memcpy(generated + 12, cached, sizeof cached);
    vlm_free(&m);
}

Test(model, bit_identical_across_thread_counts) {
    float l1, l2;
    pl_buffer g1, g2;
    int gen1[24], gen2[24]; /* full recomputation, then KV-cached */
    run_once(1, &l1, &g1, gen1);
    run_once(2, &l2, &g2, gen2);
    cr_assert_eq(memcmp(&l1, &l2, sizeof l1), 0);
    model_config c = tm_micro_config();
    param_index pi;
    cr_assert_eq(param_index_build(&pi, &c, NULL), PL_OK);
    cr_assert_eq(memcmp(g1.data, g2.data, pi.layout.total * sizeof(float)), 0);
    cr_assert_eq(memcmp(gen1, gen2, sizeof gen1), 0);
    param_index_free(&pi);
    pl_buffer_free(&g1);
    pl_buffer_free(&g2);
}

Test(model, names_modules_and_prunability) {
    model_config c;
    model_config_preset(&c, "small", NULL);
    c.vocab_size = 60, c.text_len = 22;
    param_index pi;
    cr_assert_eq(param_index_build(&pi, &c, NULL), PL_OK);
    int t = pl_layout_find(&pi.layout, "vision.blocks.3.attn.qkv.weight");
    cr_assert_geq(t, 0);
    cr_assert_eq(pi.module[t], MODULE_VISION);
    cr_assert(pi.prunable[t]);
    t = pl_layout_find(&pi.layout, "language.blocks.0.mlp.fc2.weight");
    cr_assert_eq(pi.module[t], MODULE_LANGUAGE);
    cr_assert(pi.prunable[t]);
    t = pl_layout_find(&pi.layout, "bridge.blocks.1.cross.kv.weight");
    cr_assert_eq(pi.module[t], MODULE_BRIDGE);
    cr_assert_eq(pi.layout.tensors[t].shape[1], 128);
    const char *never[] = {"vision.patch.weight", "vision.pos", "bridge.queries",
                           "bridge.proj.weight", "language.token_embedding",
                           "language.ln_final.weight", "vision.blocks.0.attn.qkv.bias"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        int k = pl_layout_find(&pi.layout, never[i]);
        cr_assert_geq(k, 0, "%s missing", never[i]);
        cr_assert_eq(pi.prunable[k], 0, "%s must never be pruned", never[i]);
    }
    cr_assert_eq(param_block_linears(&pi, &c, NULL, NULL), 6 * 4 + 2 * 7 + 6 * 4);
    param_index_free(&pi);
}

Test(model, rejects_inconsistent_configs) {
    model_config c = tm_micro_config();
    c.heads = 3;
    pl_error err;
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "heads") != NULL);
    c = tm_micro_config();
    c.patch_size = 5;
    cr_assert_eq(vlm_create(&m, &c, 2, &err), PL_ERR_CONFIG);
    cr_assert_eq(model_config_preset(&c, "huge", &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "tiny, small, base") != NULL);
}
