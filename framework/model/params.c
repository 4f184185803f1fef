/* params.c - building the VLM's named parameter layout and initialising it. */
#include "model/params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

/* Shared state while appending tensors: which module they belong to. */
typedef struct {
    param_index *pi;
    pl_module module;
    int capacity;
    pl_error *err;
} builder;

static pl_status add_tensor(builder *b, const char *name, int ndim, const int *shape,
                            int prunable, int decayed, int *index) {
    PL_TRY(pl_layout_add(&b->pi->layout, name, ndim, shape, index, b->err));
    int i = *index;
    if (i >= b->capacity) {
        int cap = b->capacity ? 2 * b->capacity : 256;
        unsigned char *arrays[3] = {b->pi->module, b->pi->prunable, b->pi->decayed};
        for (int k = 0; k < 3; k++) {
            unsigned char *grown = pl_realloc(arrays[k], (size_t)cap, 1, b->err);
            if (grown == NULL) return PL_ERR_NOMEM;
            arrays[k] = grown;
        }
        b->pi->module = arrays[0], b->pi->prunable = arrays[1], b->pi->decayed = arrays[2];
        b->capacity = cap;
    }
    b->pi->module[i] = (unsigned char)b->module;
    b->pi->prunable[i] = (unsigned char)prunable;
    b->pi->decayed[i] = (unsigned char)decayed;
    return PL_OK;
}

static pl_status add_linear(builder *b, const char *prefix, int in, int out, int prunable,
                            linear_ref *ref) {
    char name[2 * PL_NAME_MAX]; /* over-long names are rejected by pl_layout_add */
    ref->in = in, ref->out = out;
    snprintf(name, sizeof name, "%s.weight", prefix);
    PL_TRY(add_tensor(b, name, 2, (int[]){out, in}, prunable, 1, &ref->weight));
    snprintf(name, sizeof name, "%s.bias", prefix);
    return add_tensor(b, name, 1, (int[]){out}, 0, 0, &ref->bias);
}

static pl_status add_norm(builder *b, const char *prefix, int dim, norm_ref *ref) {
    char name[2 * PL_NAME_MAX]; /* over-long names are rejected by pl_layout_add */
    snprintf(name, sizeof name, "%s.weight", prefix);
    PL_TRY(add_tensor(b, name, 1, (int[]){dim}, 0, 0, &ref->weight));
    snprintf(name, sizeof name, "%s.bias", prefix);
    return add_tensor(b, name, 1, (int[]){dim}, 0, 0, &ref->bias);
}

/* A linear layer that exists only when it has units (out > 0 and in > 0); keep_bias keeps
 * an output projection's bias when it has none (the block's constant add). */
static pl_status add_linear_if(builder *b, const char *prefix, int in, int out, int keep_bias,
                               linear_ref *ref) {
    if (in > 0 && out > 0) return add_linear(b, prefix, in, out, 1, ref);
    char name[2 * PL_NAME_MAX];
    *ref = (linear_ref){-1, -1, in, out};
    if (!keep_bias) return PL_OK;
    snprintf(name, sizeof name, "%s.bias", prefix);
    return add_tensor(b, name, 1, (int[]){out}, 0, 0, &ref->bias);
}

static pl_status add_norm_if(builder *b, const char *prefix, int dim, int present, norm_ref *ref) {
    *ref = (norm_ref){-1, -1};
    return present ? add_norm(b, prefix, dim, ref) : PL_OK;
}

static pl_status add_block(builder *b, const char *prefix, int dim, int ctx_dim, int head_dim,
                           int causal, block_dims units, block_ref *blk) {
    char name[2 * PL_NAME_MAX]; /* over-long names are rejected by pl_layout_add */
    memset(blk, 0, sizeof *blk);
    blk->dim = dim, blk->ctx_dim = ctx_dim, blk->causal = causal;
    blk->has_cross = ctx_dim > 0;
    blk->heads = units.heads, blk->cross_heads = blk->has_cross ? units.cross_heads : 0;
    blk->head_dim = head_dim, blk->ffn = units.ffn;
    const int attn = block_attn_dim(blk), cross = block_cross_dim(blk);
    snprintf(name, sizeof name, "%s.ln_attn", prefix);
    PL_TRY(add_norm_if(b, name, dim, attn > 0, &blk->ln_attn));
    snprintf(name, sizeof name, "%s.attn.qkv", prefix);
    PL_TRY(add_linear_if(b, name, dim, 3 * attn, 0, &blk->qkv));
    snprintf(name, sizeof name, "%s.attn.proj", prefix);
    PL_TRY(add_linear_if(b, name, attn, dim, 1, &blk->proj));
    if (blk->has_cross) {
        snprintf(name, sizeof name, "%s.ln_cross", prefix);
        PL_TRY(add_norm_if(b, name, dim, cross > 0, &blk->ln_cross));
        snprintf(name, sizeof name, "%s.cross.q", prefix);
        PL_TRY(add_linear_if(b, name, dim, cross, 0, &blk->cross_q));
        snprintf(name, sizeof name, "%s.cross.kv", prefix);
        PL_TRY(add_linear_if(b, name, ctx_dim, 2 * cross, 0, &blk->cross_kv));
        snprintf(name, sizeof name, "%s.cross.proj", prefix);
        PL_TRY(add_linear_if(b, name, cross, dim, 1, &blk->cross_proj));
    }
    snprintf(name, sizeof name, "%s.ln_mlp", prefix);
    PL_TRY(add_norm_if(b, name, dim, units.ffn > 0, &blk->ln_mlp));
    snprintf(name, sizeof name, "%s.mlp.fc1", prefix);
    PL_TRY(add_linear_if(b, name, dim, units.ffn, 0, &blk->fc1));
    snprintf(name, sizeof name, "%s.mlp.fc2", prefix);
    return add_linear_if(b, name, units.ffn, dim, 1, &blk->fc2);
}

static pl_status add_blocks(builder *b, const model_config *c, pl_module m, int ctx_dim,
                            int causal, block_ref **out) {
    const int count = module_layers(c, m);
    *out = pl_alloc((size_t)(count > 0 ? count : 1), sizeof **out, b->err);
    if (*out == NULL) return PL_ERR_NOMEM;
    char prefix[PL_NAME_MAX];
    for (int l = 0; l < count; l++) {
        snprintf(prefix, sizeof prefix, "%s.blocks.%d", module_name(m), l);
        PL_TRY(add_block(b, prefix, module_dim(c, m), ctx_dim, module_head_dim(c, m), causal,
                         model_block(c, m, l), &(*out)[l]));
    }
    return PL_OK;
}

static pl_status build(param_index *pi, const model_config *c, builder *b) {
    const int dv = c->dim_vision, dq = c->dim_query, dl = c->dim_language;
    b->module = MODULE_VISION;
    PL_TRY(add_linear(b, "vision.patch", model_patch_dim(c), dv, 0, &pi->patch));
    PL_TRY(add_tensor(b, "vision.pos", 2, (int[]){model_num_patches(c), dv}, 0, 0,
                      &pi->vision_pos));
    PL_TRY(add_blocks(b, c, MODULE_VISION, 0, 0, &pi->vision_blocks));
    PL_TRY(add_norm(b, "vision.ln_final", dv, &pi->vision_norm));
    pi->aux_head.weight = pi->aux_head.bias = -1;
    if (c->aux_classes > 0)
        PL_TRY(add_linear(b, "vision.aux_head", dv, c->aux_classes, 0, &pi->aux_head));

    b->module = MODULE_BRIDGE;
    PL_TRY(add_tensor(b, "bridge.queries", 2, (int[]){c->num_queries, dq}, 0, 0, &pi->queries));
    PL_TRY(add_blocks(b, c, MODULE_BRIDGE, dv, 0, &pi->bridge_blocks));
    PL_TRY(add_norm(b, "bridge.ln_final", dq, &pi->bridge_norm));
    pi->bridge_aux_head.weight = pi->bridge_aux_head.bias = -1;
    if (c->aux_classes > 0 && c->num_queries >= 4)
        PL_TRY(add_linear(b, "bridge.aux_head", dq, c->aux_classes, 0, &pi->bridge_aux_head));
    PL_TRY(add_linear(b, "bridge.proj", dq, dl, 0, &pi->bridge_proj));

    b->module = MODULE_LANGUAGE;
    PL_TRY(add_tensor(b, "language.token_embedding", 2, (int[]){c->vocab_size, dl}, 0, 0,
                      &pi->token_embedding));
    PL_TRY(add_tensor(b, "language.pos", 2, (int[]){model_lm_len(c), dl}, 0, 0,
                      &pi->language_pos));
    PL_TRY(add_blocks(b, c, MODULE_LANGUAGE, 0, 1, &pi->language_blocks));
    return add_norm(b, "language.ln_final", dl, &pi->language_norm);
}

pl_status param_index_build(param_index *pi, const model_config *cfg, pl_error *err) {
    memset(pi, 0, sizeof *pi);
    PL_TRY(model_config_check(cfg, err));
    pl_layout_init(&pi->layout);
    builder b = {pi, MODULE_VISION, 0, err};
    pl_status st = build(pi, cfg, &b);
    if (st != PL_OK) param_index_free(pi);
    return st;
}

void param_index_free(param_index *pi) {
    pl_layout_free(&pi->layout);
    pl_free(pi->module);
    pl_free(pi->prunable);
    pl_free(pi->decayed);
    pl_free(pi->vision_blocks);
    pl_free(pi->bridge_blocks);
    pl_free(pi->language_blocks);
    memset(pi, 0, sizeof *pi);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

void param_init(const param_index *pi, const model_config *cfg, pl_buffer *params,
                uint64_t seed) {
    for (int i = 0; i < pi->layout.count; i++) {
        const pl_tensor_spec *t = &pi->layout.tensors[i];
        float *w = pl_buffer_view(params, i);
        pl_rng rng = {seed, (uint64_t)i + 1};
        if (ends_with(t->name, ".bias")) {
            for (size_t k = 0; k < t->count; k++) w[k] = 0.0f;
            continue;
        }
        if (strstr(t->name, ".ln_") != NULL) { /* layer-norm weight */
            for (size_t k = 0; k < t->count; k++) w[k] = 1.0f;
            continue;
        }
        float std = cfg->init_std;
        /* Residual branches end in attn.proj / cross.proj / mlp.fc2: shrink them so the
         * residual stream's variance does not grow with depth (GPT-2's scheme). */
        if (ends_with(t->name, "attn.proj.weight") || ends_with(t->name, "cross.proj.weight") ||
            ends_with(t->name, "mlp.fc2.weight"))
            std /= sqrtf(2.0f * (float)module_layers(cfg, (pl_module)pi->module[i]));
#pragma omp parallel for schedule(static)
        for (size_t k = 0; k < t->count; k++) w[k] = std * pl_rng_normal(rng, k);
    }
}

static int append_block_linears(const block_ref *blk, linear_ref *refs, int n) {
    const linear_ref *order[7];
    int count = 0;
    order[count++] = &blk->qkv;
    order[count++] = &blk->proj;
    if (blk->has_cross) {
        order[count++] = &blk->cross_q;
        order[count++] = &blk->cross_kv;
        order[count++] = &blk->cross_proj;
    }
    order[count++] = &blk->fc1;
    order[count++] = &blk->fc2;
    for (int k = 0; k < count; k++) {
        if (!linear_present(order[k])) continue;
        if (refs) refs[n] = *order[k];
        n++;
    }
    return n;
}

int param_block_linears(const param_index *pi, const model_config *cfg, linear_ref *refs,
                        pl_module *modules) {
    const block_ref *blocks[MODULE_COUNT] = {pi->vision_blocks, pi->bridge_blocks,
                                             pi->language_blocks};
    int n = 0;
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(cfg, (pl_module)m); l++) {
            int before = n;
            n = append_block_linears(&blocks[m][l], refs, n);
            if (modules)
                for (int k = before; k < n; k++) modules[k] = (pl_module)m;
        }
    return n;
}
