/* test_checkpoint.c - VLM save -> load is bit-exact, masks travel with the weights, and a
 * file that is not a prunelab checkpoint, or whose weights hold NaN or infinity, is refused
 * with a clear error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"

static model_config small_config(void) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = 16, c.dim_query = 16, c.dim_language = 24;
    c.layers_vision = 2, c.layers_query = 1, c.layers_language = 2;
    c.vocab_size = 20, c.text_len = 8;
    return c;
}

Test(checkpoint, save_load_is_bit_exact_with_masks) {
    model_config c = small_config();
    vlm a, b;
    cr_assert_eq(vlm_create(&a, &c, 2, NULL), PL_OK);
    vlm_init(&a, 3);
    cr_assert_eq(vlm_enable_masks(&a, NULL), PL_OK);
    pl_rng r = {1, 1};
    for (size_t i = 0; i < a.index.layout.total; i++)
        a.masks.data[i] = pl_rng_uniform(r, i) < 0.5f ? 0.0f : 1.0f;
    char path[64];
    snprintf(path, sizeof path, "/tmp/prunelab_ckpt_%d.safetensors", (int)getpid());
    checkpoint_meta meta[] = {{"stage", "pretrain"}};
    pl_error err;
    cr_assert_eq(vlm_save(&a, path, meta, 1, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&b, path, 4, &err), PL_OK, "%s", err.message);
    cr_assert_eq(memcmp(&a.cfg, &b.cfg, sizeof a.cfg), 0);
    cr_assert_eq(memcmp(a.params.data, b.params.data, a.index.layout.total * sizeof(float)), 0);
    cr_assert_not_null(b.masks.data);
    for (int t = 0; t < a.index.layout.count; t++) {
        if (!a.index.prunable[t]) continue;
        cr_assert_eq(memcmp(pl_buffer_view(&a.masks, t), pl_buffer_view(&b.masks, t),
                            a.index.layout.tensors[t].count * sizeof(float)), 0);
    }
    safetensors_file *f;
    cr_assert_eq(safetensors_open(&f, path, NULL), PL_OK);
    cr_assert_str_eq(safetensors_metadata(f, "stage"), "pretrain");
    cr_assert_not_null(safetensors_find(f, "language.blocks.1.mlp.fc2.weight.mask"));
    cr_assert_null(safetensors_find(f, "language.token_embedding.mask"));
    safetensors_close(f);
    vlm_free(&a);
    vlm_free(&b);
    unlink(path);
}

/* A model carrying unmerged SparseLoRA factors (nonzero B, so they change the output) saves
 * and loads them bit-exactly, with the same scales, and computes the same logits. */
Test(checkpoint, unmerged_adapters_travel_with_the_model) {
    model_config c = small_config();
    vlm a, b;
    pl_error err;
    cr_assert_eq(vlm_create(&a, &c, 2, NULL), PL_OK);
    vlm_init(&a, 5);
    cr_assert_eq(vlm_enable_masks(&a, NULL), PL_OK);
    for (int t = 0; t < a.index.layout.count; t++)
        for (size_t i = 0; a.index.prunable[t] && i < a.index.layout.tensors[t].count; i += 3)
            pl_buffer_view(&a.masks, t)[i] = 0.0f;
    adapter_config ac = {.rank = {2, 1, 3}, .alpha = 8.0f, .modules = 5u, .layer_kinds = LAYER_QKV | LAYER_FC2};
    cr_assert_eq(adapters_create(&a.adapters, &a.index, ADAPTER_SPARSELORA, &ac, 9, &err), PL_OK, "%s", err.message);
    pl_rng r = {2, 2};
    for (int t = 0; t < a.adapters.layout.count; t++) {
        float *v = pl_buffer_view(&a.adapters.values, t);
        for (size_t i = 0; i < a.adapters.layout.tensors[t].count; i++) v[i] += 0.1f * pl_rng_normal(r, i);
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/prunelab_ckpt_ad_%d.safetensors", (int)getpid());
    cr_assert_eq(vlm_save(&a, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&b, path, 2, &err), PL_OK, "%s", err.message);
    cr_assert_eq(b.adapters.kind, ADAPTER_SPARSELORA);
    cr_assert_eq(b.adapters.layout.count, a.adapters.layout.count);
    for (int t = 0; t < a.adapters.layout.count; t++)
        cr_assert_eq(memcmp(pl_buffer_view(&a.adapters.values, t), pl_buffer_view(&b.adapters.values, t),
                            a.adapters.layout.tensors[t].count * sizeof(float)), 0);
    for (int t = 0; t < a.index.layout.count; t++) {
        cr_assert_eq(a.adapters.a_of[t] >= 0, b.adapters.a_of[t] >= 0, "%s", a.index.layout.tensors[t].name);
        if (a.adapters.a_of[t] >= 0) cr_assert_eq(a.adapters.scale_of[t], b.adapters.scale_of[t]);
    }
    /* same logits from both, and different from the model without its adapters */
    float images[2 * 56 * 56];
    int tokens[2 * 8];
    for (int i = 0; i < 2 * 56 * 56; i++) images[i] = pl_rng_uniform(r, 1000 + (uint64_t)i);
    for (int i = 0; i < 2 * 8; i++) tokens[i] = 3 + i % 10;
    vlm_input in = {.images = images, .tokens = tokens, .batch = 2};
    const size_t nl = (size_t)2 * model_lm_len(&c) * c.vocab_size;
    weight_set wa = vlm_weights(&a, 1, 0), wb = vlm_weights(&b, 1, 0);
    cr_assert_not_null(wb.adapters);
    vlm_forward(&a, &wa, &in, (vlm_loss_weights){.task_weight = 1.0f});
    vlm_forward(&b, &wb, &in, (vlm_loss_weights){.task_weight = 1.0f});
    cr_assert_eq(memcmp(a.logits, b.logits, nl * sizeof(float)), 0);
    float first = a.logits[0];
    wb.adapters = NULL;
    vlm_forward(&b, &wb, &in, (vlm_loss_weights){.task_weight = 1.0f});
    cr_assert_neq(b.logits[0], first);
    /* the factors are named after their weights, with kind and alpha in the metadata */
    safetensors_file *f;
    cr_assert_eq(safetensors_open(&f, path, NULL), PL_OK);
    cr_assert_str_eq(safetensors_metadata(f, "adapter_kind"), "sparselora");
    cr_assert_str_eq(safetensors_metadata(f, "adapter_alpha"), "8");
    cr_assert_not_null(safetensors_find(f, "vision.blocks.0.attn.qkv.weight.lora_a"));
    cr_assert_null(safetensors_find(f, "bridge.blocks.0.attn.qkv.weight.lora_a"));
    safetensors_close(f);
    vlm_free(&a);
    vlm_free(&b);
    unlink(path);
}

Test(checkpoint, refuses_foreign_safetensors) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/prunelab_foreign_%d.safetensors", (int)getpid());
    safetensors_writer *w;
    cr_assert_eq(safetensors_writer_create(&w, NULL), PL_OK);
    float x[2] = {1, 2};
    cr_assert_eq(safetensors_writer_add(w, "x", 1, (int[]){2}, x, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_commit(w, path, NULL), PL_OK);
    safetensors_writer_free(w);
    vlm m;
    pl_error err;
    cr_assert_eq(vlm_load(&m, path, 1, &err), PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "not a prunelab model checkpoint") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, path) != NULL);
    unlink(path);
}

Test(checkpoint, config_json_round_trip_and_errors) {
    model_config c = small_config(), back;
    char *json;
    cr_assert_eq(model_config_to_json(&c, &json, NULL), PL_OK);
    cr_assert_eq(model_config_from_json(&back, json, NULL), PL_OK);
    cr_assert_eq(memcmp(&c, &back, sizeof c), 0);
    free(json);
    pl_error err;
    cr_assert_eq(model_config_from_json(&back, "{\"dim_vision\": 16}", &err), PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "dim_query") != NULL, "%s", err.message);
}

/* A model saved with one non-finite weight in tensor t must not load. */
static void expect_refused_with(float bad, int t, const char *what) {
    model_config c = small_config();
    vlm a, b;
    cr_assert_eq(vlm_create(&a, &c, 1, NULL), PL_OK);
    vlm_init(&a, 3);
    pl_buffer_view(&a.params, t)[1] = bad;
    char path[64];
    snprintf(path, sizeof path, "/tmp/prunelab_nonfinite_%d.safetensors", (int)getpid());
    pl_error err;
    cr_assert_eq(vlm_save(&a, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_expect_eq(vlm_load(&b, path, 1, &err), PL_ERR_NUMERIC, "a %s weight was accepted", what);
    cr_expect_not_null(strstr(err.message, a.index.layout.tensors[t].name), "%s", err.message);
    cr_expect_not_null(strstr(err.message, what), "%s", err.message);
    cr_expect_not_null(strstr(err.message, path), "%s", err.message);
    vlm_free(&a);
    unlink(path);
}

Test(checkpoint, refuses_nan_weights) { expect_refused_with(NAN, 5, "NaN"); }

Test(checkpoint, refuses_infinite_weights) { expect_refused_with(-INFINITY, 0, "infinity"); }
