/* adapters.c - creating, initialising and merging LoRA / SparseLoRA factors. */
#include "model/adapters.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/rng.h"

static const struct {
    const char *suffix, *name;
    unsigned bit;
} KINDS[] = {
    {"attn.qkv.weight", "qkv", LAYER_QKV},          {"attn.proj.weight", "proj", LAYER_PROJ},
    {"cross.q.weight", "cross_q", LAYER_CROSS_Q},    {"cross.kv.weight", "cross_kv", LAYER_CROSS_KV},
    {"cross.proj.weight", "cross_proj", LAYER_CROSS_PROJ},
    {"mlp.fc1.weight", "fc1", LAYER_FC1},            {"mlp.fc2.weight", "fc2", LAYER_FC2},
};
enum { KIND_COUNT = sizeof KINDS / sizeof KINDS[0] };

unsigned adapter_layer_kind(const char *weight_name) {
    size_t n = strlen(weight_name);
    for (int k = 0; k < KIND_COUNT; k++) {
        size_t m = strlen(KINDS[k].suffix);
        if (n >= m && strcmp(weight_name + n - m, KINDS[k].suffix) == 0) return KINDS[k].bit;
    }
    return 0;
}

unsigned adapter_layer_kind_parse(const char *name) {
    for (int k = 0; k < KIND_COUNT; k++)
        if (strcmp(name, KINDS[k].name) == 0) return KINDS[k].bit;
    return 0;
}

static pl_status add_factors(adapter_set *a, const pl_tensor_spec *w, int t, int rank, float alpha,
                             pl_error *err) {
    char name[2 * PL_NAME_MAX];
    const int out = w->shape[0], in = w->shape[1];
    snprintf(name, sizeof name, "%s.lora_a", w->name);
    PL_TRY(pl_layout_add(&a->layout, name, 2, (int[]){rank, in}, &a->a_of[t], err));
    snprintf(name, sizeof name, "%s.lora_b", w->name);
    PL_TRY(pl_layout_add(&a->layout, name, 2, (int[]){out, rank}, &a->b_of[t], err));
    a->rank_of[t] = rank;
    a->scale_of[t] = alpha / (float)rank;
    return PL_OK;
}

static pl_status build(adapter_set *a, const param_index *pi, const adapter_config *cfg,
                       uint64_t seed, pl_error *err) {
    const int n = pi->layout.count;
    a->a_of = pl_alloc((size_t)n, sizeof(int), err);
    a->b_of = pl_alloc((size_t)n, sizeof(int), err);
    a->rank_of = pl_alloc((size_t)n, sizeof(int), err);
    a->scale_of = pl_alloc((size_t)n, sizeof(float), err);
    if (!a->a_of || !a->b_of || !a->rank_of || !a->scale_of) return PL_ERR_NOMEM;
    a->param_count = n;
    for (int t = 0; t < n; t++) {
        a->a_of[t] = a->b_of[t] = -1;
        const pl_tensor_spec *w = &pi->layout.tensors[t];
        int module = pi->module[t], rank = cfg->rank[module];
        if (!pi->prunable[t] || rank <= 0 || !(cfg->modules & (1u << module)) ||
            !(cfg->layer_kinds & adapter_layer_kind(w->name)))
            continue;
        PL_TRY(add_factors(a, w, t, rank, cfg->alpha, err));
    }
    if (a->layout.count == 0)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "the adapter settings select no layer: check finetune.targets, "
                        "finetune.layer_kinds and the ranks");
    PL_TRY(pl_buffer_alloc(&a->values, &a->layout, err));
    PL_TRY(pl_buffer_alloc(&a->grads, &a->layout, err));
    /* A ~ U(-1/sqrt(in), 1/sqrt(in)) (Kaiming-uniform with a = sqrt(5), PyTorch's Linear
     * default); B = 0 (already zero). Each A draws from its own stream. */
    for (int t = 0; t < n; t++) {
        if (a->a_of[t] < 0) continue;
        const pl_tensor_spec *spec = &a->layout.tensors[a->a_of[t]];
        float bound = 1.0f / sqrtf((float)spec->shape[1]);
        float *A = pl_buffer_view(&a->values, a->a_of[t]);
        pl_rng rng = {seed, 0xADA0000ull + (uint64_t)t};
        for (size_t k = 0; k < spec->count; k++) A[k] = bound * (2.0f * pl_rng_uniform(rng, k) - 1.0f);
    }
    return PL_OK;
}

pl_status adapters_create(adapter_set *a, const param_index *pi, adapter_kind kind,
                          const adapter_config *cfg, uint64_t seed, pl_error *err) {
    memset(a, 0, sizeof *a);
    if (kind != ADAPTER_LORA && kind != ADAPTER_SPARSELORA)
        return PL_ERROR(err, PL_ERR_INVALID, "adapters_create needs lora or sparselora");
    a->kind = kind;
    pl_layout_init(&a->layout);
    pl_status st = build(a, pi, cfg, seed, err);
    if (st != PL_OK) adapters_free(a);
    return st;
}

pl_status adapters_restrict(adapter_set *a, const param_index *pi, const model_config *cfg,
                            const unit_masks *units, pl_error *err) {
    if (a->kind != ADAPTER_LORA || units->layout == NULL || a->keep_rows != NULL) return PL_OK;
    a->keep_rows = pl_alloc((size_t)a->param_count, sizeof *a->keep_rows, err);
    a->keep_cols = pl_alloc((size_t)a->param_count, sizeof *a->keep_cols, err);
    if (a->keep_rows == NULL || a->keep_cols == NULL) return PL_ERR_NOMEM;
    for (int t = 0; t < a->param_count; t++) {
        if (a->a_of[t] < 0) continue;
        const pl_tensor_spec *w = &pi->layout.tensors[t];
        a->keep_rows[t] = pl_alloc((size_t)w->shape[0], sizeof(float), err);
        a->keep_cols[t] = pl_alloc((size_t)w->shape[1], sizeof(float), err);
        if (a->keep_rows[t] == NULL || a->keep_cols[t] == NULL) return PL_ERR_NOMEM;
        if (!unit_masks_linear_keep(units, pi, cfg, t, a->keep_rows[t], a->keep_cols[t])) {
            pl_free(a->keep_rows[t]), pl_free(a->keep_cols[t]);
            a->keep_rows[t] = a->keep_cols[t] = NULL;
        }
    }
    return PL_OK;
}

void adapters_refresh_restrict(adapter_set *a, const param_index *pi, const model_config *cfg,
                               const unit_masks *units) {
    if (a->keep_rows == NULL || a->keep_cols == NULL) return;
    for (int t = 0; t < a->param_count; t++)
        if (a->keep_rows[t] != NULL && a->keep_cols[t] != NULL)
            unit_masks_linear_keep(units, pi, cfg, t, a->keep_rows[t], a->keep_cols[t]);
}

void adapters_free(adapter_set *a) {
    for (int t = 0; a->keep_rows && a->keep_cols && t < a->param_count; t++) {
        pl_free(a->keep_rows[t]);
        pl_free(a->keep_cols[t]);
    }
    pl_free(a->keep_rows);
    pl_free(a->keep_cols);
    pl_buffer_free(&a->values);
    pl_buffer_free(&a->grads);
    pl_layout_free(&a->layout);
    pl_free(a->a_of);
    pl_free(a->b_of);
    pl_free(a->rank_of);
    pl_free(a->scale_of);
    memset(a, 0, sizeof *a);
}

void adapters_move(adapter_set *dst, adapter_set *src) {
    *dst = *src;
    memset(src, 0, sizeof *src);
    dst->values.layout = &dst->layout;
    dst->grads.layout = &dst->layout;
}

void adapters_merge(const adapter_set *a, const param_index *pi, pl_buffer *params,
                    pl_buffer *masks) {
    for (int t = 0; t < a->param_count; t++) {
        if (a->a_of[t] < 0) continue;
        const pl_tensor_spec *w = &pi->layout.tensors[t];
        const int out = w->shape[0], in = w->shape[1], r = a->rank_of[t];
        float *W = pl_buffer_view(params, t);
        float *M = masks && masks->data ? pl_buffer_view(masks, t) : NULL;
        if (a->kind == ADAPTER_LORA && M) /* W⊙M first; the delta lands on every entry */
            for (size_t k = 0; k < w->count; k++) W[k] *= M[k];
        /* W += s·B·A */
        pl_sgemm(false, false, out, in, r, a->scale_of[t], pl_buffer_view(&a->values, a->b_of[t]), r,
                 pl_buffer_view(&a->values, a->a_of[t]), in, 1.0f, W, in);
        if (M != NULL && a->kind == ADAPTER_SPARSELORA)
            for (size_t k = 0; k < w->count; k++) W[k] *= M[k];
        else if (M != NULL)
            for (size_t k = 0; k < w->count; k++) M[k] = 1.0f;
        const float *kr = a->keep_rows ? a->keep_rows[t] : NULL;
        const float *kc = a->keep_cols ? a->keep_cols[t] : NULL;
        for (int o = 0; kr != NULL && o < out; o++) /* W, M ⊙= U */
            for (int i = 0; i < in; i++)
                if (kr[o] == 0.0f || kc[i] == 0.0f) {
                    W[(size_t)o * in + i] = 0.0f;
                    if (M) M[(size_t)o * in + i] = 0.0f;
                }
    }
}
