/* test_model_shapes.c - models whose blocks each have their own heads and MLP widths: the
 * layout a shape gives, gradients against finite differences, a sublayer without units
 * computing exactly what the same sublayer fully masked computes, greedy decoding,
 * checkpoints (round trip, the blocks metadata, files from before per-block shapes, bad
 * metadata) and the checks the state distillation terms make between shapes. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/rng.h"
#include "model/block_json.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "model/state_loss.h"
#include "model_testutil.h"

static const vlm_loss_weights WEIGHTS = {.task_weight = 1.0f, .aux_weight = 0.5f,
                                         .bridge_aux_weight = 0.3f};

static int has_tensor(const vlm *m, const char *name) {
    return pl_layout_find(&m->index.layout, name) >= 0;
}

static vlm_input input_of(tm_batch *b) {
    return (vlm_input){.images = b->images, .tokens = b->tokens, .targets = b->targets,
                       .cells = b->cells, .batch = 2};
}

Test(model_shapes, a_sublayer_without_units_keeps_only_its_output_bias) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    /* vision 0: no attention */
    cr_assert(!has_tensor(&m, "vision.blocks.0.ln_attn.weight"));
    cr_assert(!has_tensor(&m, "vision.blocks.0.attn.qkv.weight"));
    cr_assert(!has_tensor(&m, "vision.blocks.0.attn.qkv.bias"));
    cr_assert(!has_tensor(&m, "vision.blocks.0.attn.proj.weight"));
    cr_assert(has_tensor(&m, "vision.blocks.0.attn.proj.bias"));
    /* vision 1: no MLP, one head of four channels */
    cr_assert(!has_tensor(&m, "vision.blocks.1.mlp.fc1.weight"));
    cr_assert(!has_tensor(&m, "vision.blocks.1.ln_mlp.weight"));
    cr_assert(has_tensor(&m, "vision.blocks.1.mlp.fc2.bias"));
    const pl_tensor_spec *qkv = &m.index.layout.tensors[m.index.vision_blocks[1].qkv.weight];
    cr_assert_eq(qkv->shape[0], 3 * 4);
    cr_assert_eq(qkv->shape[1], 8);
    /* bridge 0: two self heads, one cross head reading the vision width */
    const block_ref *q0 = &m.index.bridge_blocks[0];
    cr_assert_eq(m.index.layout.tensors[q0->cross_kv.weight].shape[0], 2 * 4);
    cr_assert_eq(m.index.layout.tensors[q0->cross_kv.weight].shape[1], c.dim_vision);
    cr_assert_eq(m.index.layout.tensors[q0->cross_proj.weight].shape[1], 4);
    /* bridge 1: no cross-attention heads */
    cr_assert(!has_tensor(&m, "bridge.blocks.1.cross.kv.weight"));
    cr_assert(has_tensor(&m, "bridge.blocks.1.cross.proj.bias"));
    /* language 0: a 20-wide MLP */
    cr_assert_eq(m.index.layout.tensors[m.index.language_blocks[0].fc2.weight].shape[1], 20);
    /* Only present matrices are linear layers of the model. */
    linear_ref refs[64];
    const int n = param_block_linears(&m.index, &m.cfg, refs, NULL);
    for (int i = 0; i < n; i++) cr_assert(linear_present(&refs[i]));
    cr_assert_eq(n, 2 + 2 + 7 + 4 + 4 + 4, "v0 mlp, v1 attn, q0 all, q1 attn+mlp, l0, l1");
    vlm_free(&m);
}

Test(model_shapes, gradients_match_finite_differences) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 21);
    static tm_batch b;
    tm_fill_batch(&b, 22);
    vlm_input in = input_of(&b);
    weight_set dense = vlm_weights(&m, 0, 1);
    tm_check_params(&m, &dense, &in, WEIGHTS);
    /* and through masks */
    cr_assert_eq(vlm_enable_masks(&m, NULL), PL_OK);
    pl_rng r = {23, 1};
    for (int t = 0; t < m.index.layout.count; t++) {
        if (!m.index.prunable[t]) continue;
        const pl_tensor_spec *spec = &m.index.layout.tensors[t];
        for (size_t k = 0; k < spec->count; k++)
            m.masks.data[spec->offset + k] = pl_rng_uniform(r, spec->offset + k) < 0.3f ? 0.0f : 1.0f;
    }
    weight_set masked = vlm_weights(&m, 1, 1);
    tm_check_params(&m, &masked, &in, WEIGHTS);
    vlm_free(&m);
}

/* Copies every tensor of dst from the tensor of the same name in src. */
static void copy_by_name(vlm *dst, const vlm *src) {
    for (int t = 0; t < dst->index.layout.count; t++) {
        const pl_tensor_spec *d = &dst->index.layout.tensors[t];
        const int s = pl_layout_find(&src->index.layout, d->name);
        cr_assert_geq(s, 0, "%s", d->name);
        cr_assert_eq(src->index.layout.tensors[s].count, d->count, "%s", d->name);
        memcpy(pl_buffer_view(&dst->params, t), pl_buffer_view(&src->params, s), d->count * sizeof(float));
    }
}

static void mask_all(vlm *m, const linear_ref *r) {
    float *mask = pl_buffer_view(&m->masks, r->weight);
    memset(mask, 0, m->index.layout.tensors[r->weight].count * sizeof(float));
}

/* The same model once with vision block 0's attention, bridge block 0's cross-attention and
 * language block 1's MLP fully masked, once without those units: equal logits and losses. */
Test(model_shapes, no_units_computes_what_all_units_masked_computes) {
    model_config full = tm_micro_config();
    full.layers_query = 1;
    model_config empty = full;
    model_blocks_make_custom(&empty);
    empty.blocks.dims[MODULE_VISION][0].heads = 0;
    empty.blocks.dims[MODULE_BRIDGE][0].cross_heads = 0;
    empty.blocks.dims[MODULE_LANGUAGE][1].ffn = 0;
    vlm a, b;
    cr_assert_eq(vlm_create(&a, &full, 2, NULL), PL_OK);
    cr_assert_eq(vlm_create(&b, &empty, 2, NULL), PL_OK);
    tm_randomise(&a, 31);
    copy_by_name(&b, &a);
    cr_assert_eq(vlm_enable_masks(&a, NULL), PL_OK);
    mask_all(&a, &a.index.vision_blocks[0].qkv);
    mask_all(&a, &a.index.vision_blocks[0].proj);
    mask_all(&a, &a.index.bridge_blocks[0].cross_q);
    mask_all(&a, &a.index.bridge_blocks[0].cross_kv);
    mask_all(&a, &a.index.bridge_blocks[0].cross_proj);
    mask_all(&a, &a.index.language_blocks[1].fc1);
    mask_all(&a, &a.index.language_blocks[1].fc2);
    static tm_batch batch;
    tm_fill_batch(&batch, 32);
    vlm_input in = input_of(&batch);
    weight_set wa = vlm_weights(&a, 1, 0), wb = vlm_weights(&b, 1, 0);
    const vlm_losses la = vlm_forward(&a, &wa, &in, WEIGHTS);
    const vlm_losses lb = vlm_forward(&b, &wb, &in, WEIGHTS);
    cr_assert_float_eq(la.total, lb.total, 1e-6f * fabsf(la.total));
    const size_t n = (size_t)2 * model_lm_len(&full) * full.vocab_size;
    for (size_t i = 0; i < n; i++)
        cr_assert_float_eq(a.logits[i], b.logits[i], 1e-5f, "logit %zu", i);
    vlm_free(&a);
    vlm_free(&b);
}

Test(model_shapes, greedy_decoding_follows_the_full_forward) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 41);
    static tm_batch b;
    tm_fill_batch(&b, 42);
    weight_set w = vlm_weights(&m, 0, 0);
    int tokens[12];
    memcpy(tokens, b.tokens, sizeof tokens);
    const int answer_start = 2, T = c.text_len, L = model_lm_len(&c), V = c.vocab_size;
    vlm_generate_full(&m, &w, b.images, tokens, 2, answer_start, -1, 0);
    /* With no end token every position after the separator is the argmax of a full pass. */
    vlm_input in = {.images = b.images, .tokens = tokens, .batch = 2};
    vlm_forward(&m, &w, &in, (vlm_loss_weights){.task_weight = 1.0f});
    for (int row = 0; row < 2; row++)
        for (int pos = answer_start; pos + 1 < T; pos++) {
            const float *logit = m.logits + ((size_t)row * L + c.num_queries + pos) * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (logit[v] > logit[best]) best = v;
            cr_assert_eq(tokens[row * T + pos + 1], best, "row %d position %d", row, pos + 1);
        }
    vlm_free(&m);
}

static void temp_path(char *path, size_t cap, const char *tag) {
    snprintf(path, cap, "/tmp/prunelab_shapes_%s_%d.safetensors", tag, (int)getpid());
}

Test(model_shapes, checkpoint_round_trip_is_bit_exact_and_carries_the_blocks) {
    model_config c = tm_hetero_config();
    vlm a, b;
    cr_assert_eq(vlm_create(&a, &c, 2, NULL), PL_OK);
    tm_randomise(&a, 51);
    char path[96];
    temp_path(path, sizeof path, "rt");
    pl_error err;
    cr_assert_eq(vlm_save(&a, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&b, path, 2, &err), PL_OK, "%s", err.message);
    cr_assert_eq(memcmp(&a.cfg, &b.cfg, sizeof a.cfg), 0);
    cr_assert_eq(a.index.layout.total, b.index.layout.total);
    for (int t = 0; t < a.index.layout.count; t++) {
        const pl_tensor_spec *s = &a.index.layout.tensors[t];
        cr_assert_eq(memcmp(pl_buffer_view(&a.params, t), pl_buffer_view(&b.params, t),
                            s->count * sizeof(float)), 0, "%s differs after the round trip", s->name);
    }
    safetensors_file *f;
    cr_assert_eq(safetensors_open(&f, path, NULL), PL_OK);
    const char *blocks = safetensors_metadata(f, "blocks");
    cr_assert_not_null(blocks);
    cr_assert(strstr(blocks, "\"bridge\": [{\"heads\": 2, \"cross_heads\": 1, \"ffn\": 6}") != NULL,
              "%s", blocks);
    safetensors_close(f);
    static tm_batch batch;
    tm_fill_batch(&batch, 52);
    vlm_input in = input_of(&batch);
    weight_set wa = vlm_weights(&a, 0, 0), wb = vlm_weights(&b, 0, 0);
    const float la = vlm_forward(&a, &wa, &in, WEIGHTS).total;
    const float lb = vlm_forward(&b, &wb, &in, WEIGHTS).total;
    cr_assert_eq(memcmp(&la, &lb, sizeof la), 0);
    vlm_free(&a);
    vlm_free(&b);
    unlink(path);
}

/* A file written before per-block shapes (no "blocks" entry), such as the shipped teacher,
 * loads as the uniform shape of its config; a uniform model's file round-trips to a config
 * equal to the preset's. */
Test(model_shapes, files_without_blocks_load_as_uniform) {
    pl_error err;
    safetensors_file *f;
    cr_assert_eq(safetensors_open(&f, "experiments/teachers/tiny.safetensors", &err), PL_OK, "%s",
                 err.message);
    cr_assert_null(safetensors_metadata(f, "blocks"), "the shipped teacher predates blocks");
    safetensors_close(f);
    vlm m;
    cr_assert_eq(vlm_load(&m, "experiments/teachers/tiny.safetensors", 1, &err), PL_OK, "%s",
                 err.message);
    cr_assert_eq(m.cfg.blocks.custom, 0);
    cr_assert_eq(model_block(&m.cfg, MODULE_LANGUAGE, 3).ffn, 4 * m.cfg.dim_language);
    vlm_free(&m);

    model_config c = tm_micro_config();
    vlm a, b;
    cr_assert_eq(vlm_create(&a, &c, 1, NULL), PL_OK);
    char path[96];
    temp_path(path, sizeof path, "uni");
    cr_assert_eq(vlm_save(&a, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&b, path, 1, &err), PL_OK, "%s", err.message);
    cr_assert_eq(memcmp(&a.cfg, &b.cfg, sizeof a.cfg), 0, "explicit uniform blocks normalise");
    vlm_free(&a);
    vlm_free(&b);
    unlink(path);
}

/* Writes m's tensors with config and blocks metadata of cfg (which may disagree with them). */
static void write_with_metadata(const vlm *m, const model_config *cfg, const char *blocks,
                                const char *path) {
    safetensors_writer *w;
    char *config;
    cr_assert_eq(safetensors_writer_create(&w, NULL), PL_OK);
    cr_assert_eq(model_config_to_json(cfg, &config, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_set_metadata(w, "config", config, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_set_metadata(w, "kind", "prunelab-vlm", NULL), PL_OK);
    cr_assert_eq(safetensors_writer_set_metadata(w, "blocks", blocks, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_add_layout(w, &m->index.layout, &m->params, NULL, NULL, NULL, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_commit(w, path, NULL), PL_OK);
    free(config);
    safetensors_writer_free(w);
}

static void expect_load_error(const char *path, const char *a, const char *b) {
    vlm m;
    pl_error err;
    cr_assert_neq(vlm_load(&m, path, 1, &err), PL_OK);
    cr_assert(strstr(err.message, path) != NULL, "names the file: %s", err.message);
    cr_assert(strstr(err.message, a) != NULL, "mentions '%s': %s", a, err.message);
    cr_assert(b == NULL || strstr(err.message, b) != NULL, "mentions '%s': %s", b, err.message);
}

Test(model_shapes, bad_block_metadata_is_refused_naming_file_and_block) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 1, NULL), PL_OK);
    char path[96], *good;
    temp_path(path, sizeof path, "bad");
    cr_assert_eq(model_blocks_to_json(&c, &good, NULL), PL_OK);
    /* The metadata claims vision block 0 has attention; the file has no such tensors. */
    model_config claims = c;
    claims.blocks.dims[MODULE_VISION][0].heads = 2;
    char *json;
    cr_assert_eq(model_blocks_to_json(&claims, &json, NULL), PL_OK);
    write_with_metadata(&m, &c, json, path);
    expect_load_error(path, "vision.blocks.0.ln_attn.weight", NULL);
    free(json);
    /* ... and the other way: tensors the metadata's shape does not have. */
    model_config fewer = c;
    fewer.blocks.dims[MODULE_LANGUAGE][0].heads = 0;
    cr_assert_eq(model_blocks_to_json(&fewer, &json, NULL), PL_OK);
    write_with_metadata(&m, &c, json, path);
    expect_load_error(path, "language.blocks.0.", "does not have");
    free(json);
    /* A wider MLP than the tensors. */
    model_config wider = c;
    wider.blocks.dims[MODULE_BRIDGE][1].ffn = 5;
    cr_assert_eq(model_blocks_to_json(&wider, &json, NULL), PL_OK);
    write_with_metadata(&m, &c, json, path);
    expect_load_error(path, "bridge.blocks.1.mlp.fc1.weight", "shape");
    free(json);
    /* A negative head count, more heads than the width holds, a wrong block count. */
    const struct {
        const char *from, *to, *says, *also;
    } edits[] = {{"\"vision\": [{\"heads\": 0", "\"vision\": [{\"heads\": -1", "vision[0].heads = -1", NULL},
                 {"\"language\": [{\"heads\": 1", "\"language\": [{\"heads\": 3", "language[0].heads = 3", "0 to 2"},
                 {"\"bridge\": [{\"heads\": 2, \"cross_heads\": 1", "\"bridge\": [{\"heads\": 2, \"cross_heads\": 9", "bridge[0].cross_heads = 9", NULL},
                 {", {\"heads\": 1, \"ffn\": 0}]", "]", "blocks.vision lists 1 blocks", "has 2"},
                 {"\"ffn\": 10}", "\"ffn\": -4}", "vision[0].ffn = -4", NULL},
                 {"\"ffn\": 10}", "\"ffm\": 10}", "blocks.vision[0] lacks an integer \"ffn\"", NULL}};
    for (size_t e = 0; e < sizeof edits / sizeof edits[0]; e++) {
        char edited[1024];
        const char *at = strstr(good, edits[e].from);
        cr_assert_not_null(at, "%s", edits[e].from);
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - good), good, edits[e].to,
                 at + strlen(edits[e].from));
        write_with_metadata(&m, &c, edited, path);
        expect_load_error(path, edits[e].says, edits[e].also);
    }
    free(good);
    vlm_free(&m);
    unlink(path);
}

Test(model_shapes, config_check_names_the_block) {
    model_config c = tm_micro_config();
    model_blocks_make_custom(&c);
    c.blocks.dims[MODULE_LANGUAGE][1].heads = 5;
    pl_error err;
    cr_assert_eq(model_config_check(&c, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "model.blocks.language[1].heads = 5") != NULL, "%s", err.message);
    c = tm_micro_config();
    model_blocks_make_custom(&c);
    c.blocks.dims[MODULE_VISION][0].cross_heads = 1;
    cr_assert_eq(model_config_check(&c, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "only bridge blocks") != NULL, "%s", err.message);
    c = tm_micro_config();
    model_blocks_make_custom(&c);
    cr_assert(model_blocks_uniform(&c));
    model_blocks_normalise(&c);
    cr_assert_eq(c.blocks.custom, 0);
}

/* Distillation between shapes: blocks that the map pairs must agree on what the terms
 * compare (hidden width; attention heads), and the map may not point past the teacher. */
Test(model_shapes, state_terms_check_the_paired_shapes) {
    model_config teacher = tm_micro_config(), student = tm_hetero_config();
    vlm_layer_map map;
    vlm_layer_map_identity(&map, &student);
    map.teacher[MODULE_VISION][1] = 0, map.teacher[MODULE_BRIDGE][1] = 0;
    pl_error err;
    /* hidden states: widths agree module by module */
    cr_assert_eq(state_loss_check(&map, &student, &teacher, 1, 0, &err), PL_OK, "%s", err.message);
    /* attention maps: vision block 1 has one head, the teacher's block 0 two */
    cr_assert_eq(state_loss_check(&map, &student, &teacher, 0, 1, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "student vision block 1 (1 heads)") != NULL, "%s", err.message);
    model_config narrow = teacher;
    narrow.dim_language = 16;
    cr_assert_eq(state_loss_check(&map, &student, &narrow, 1, 0, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "width 12") != NULL && strstr(err.message, "width 16") != NULL,
              "%s", err.message);
    map.teacher[MODULE_LANGUAGE][1] = 5;
    cr_assert_eq(state_loss_check(&map, &student, &teacher, 1, 0, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "teacher block 5") != NULL, "%s", err.message);
}
