/* checkpoint.c - VLM <-> safetensors (see checkpoint.h). */
#include "model/checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "model/block_json.h"
#include "model/safetensors.h"

#define CHECKPOINT_KIND "prunelab-vlm"

pl_status model_config_to_json(const model_config *cfg, char **json, pl_error *err) {
    pl_json_buf buf = {0};
    pl_status st = pl_json_buf_printf(&buf, err, "{");
    for (int i = 0; st == PL_OK && i < MODEL_CONFIG_INT_FIELD_COUNT; i++) {
        const model_config_field *f = &MODEL_CONFIG_INT_FIELDS[i];
        st = pl_json_buf_printf(&buf, err, "\"%s\": %d, ", f->name,
                                *model_config_int((model_config *)cfg, f));
    }
    if (st == PL_OK) st = pl_json_buf_printf(&buf, err, "\"init_std\": %.9g}", (double)cfg->init_std);
    if (st != PL_OK) {
        pl_json_buf_free(&buf);
        return st;
    }
    *json = buf.data;
    return PL_OK;
}

pl_status model_config_from_json(model_config *cfg, const char *json, pl_error *err) {
    pl_json *root;
    PL_TRY(pl_json_parse(json, strlen(json), &root, err));
    memset(cfg, 0, sizeof *cfg);
    pl_status st = PL_OK;
    if (root->type != PL_JSON_OBJECT)
        st = PL_ERROR(err, PL_ERR_FORMAT, "the model config is not a JSON object");
    for (int i = 0; st == PL_OK && i < MODEL_CONFIG_INT_FIELD_COUNT; i++) {
        const model_config_field *f = &MODEL_CONFIG_INT_FIELDS[i];
        const pl_json *v = pl_json_get(root, f->name);
        if (v == NULL || v->type != PL_JSON_NUMBER || !v->is_int || v->integer < 0 ||
            v->integer > 1 << 24)
            st = PL_ERROR(err, PL_ERR_FORMAT, "the model config lacks a valid integer '%s'", f->name);
        else
            *model_config_int(cfg, f) = (int)v->integer;
    }
    const pl_json *std = pl_json_get(root, "init_std");
    if (st == PL_OK && (std == NULL || std->type != PL_JSON_NUMBER))
        st = PL_ERROR(err, PL_ERR_FORMAT, "the model config lacks a number 'init_std'");
    if (st == PL_OK) cfg->init_std = (float)std->number;
    pl_json_free(root);
    return st == PL_OK ? model_config_check(cfg, err) : st;
}

/* Refuses a model whose weights or adapter factors hold a NaN or an infinity, naming the
 * first such tensor: evaluating or fine-tuning it would give quiet nonsense. */
static pl_status check_finite_weights(const vlm *m, const char *path, pl_error *err) {
    const pl_buffer *buffers[2] = {&m->params, &m->adapters.values};
    for (int b = 0; b < 2; b++) {
        const pl_layout *l = buffers[b]->layout;
        if (l == NULL || buffers[b]->data == NULL) continue;
        for (int t = 0; t < l->count; t++) {
            const float *v = buffers[b]->data + l->tensors[t].offset;
            for (size_t i = 0; i < l->tensors[t].count; i++)
                if (!isfinite(v[i]))
                    return PL_ERROR(err, PL_ERR_NUMERIC, "%s: tensor %s holds %s at element %zu; the "
                                    "checkpoint is damaged or was saved from a diverged run, so it "
                                    "is refused (retrain or use another checkpoint)", path,
                                    l->tensors[t].name, isnan(v[i]) ? "NaN" : "an infinity", i);
        }
    }
    return PL_OK;
}

/* ---- unmerged adapters: "<weight>.lora_a" [r, in] and ".lora_b" [out, r] tensors, with
 * the kind and alpha in the metadata; ranks, modules and layer kinds are read back from
 * which factors the file holds and their shapes. */

static const char *adapter_kind_name(adapter_kind k) {
    return k == ADAPTER_LORA ? "lora" : k == ADAPTER_SPARSELORA ? "sparselora" : "none";
}

static pl_status save_adapters(safetensors_writer *w, const adapter_set *a, pl_error *err) {
    if (a->kind == ADAPTER_NONE) return PL_OK;
    float alpha = 0.0f;
    for (int t = 0; t < a->param_count && alpha == 0.0f; t++)
        if (a->a_of[t] >= 0) alpha = a->scale_of[t] * (float)a->rank_of[t];
    char text[32];
    snprintf(text, sizeof text, "%.9g", (double)alpha);
    PL_TRY(safetensors_writer_set_metadata(w, "adapter_kind", adapter_kind_name(a->kind), err));
    PL_TRY(safetensors_writer_set_metadata(w, "adapter_alpha", text, err));
    return safetensors_writer_add_layout(w, &a->layout, &a->values, NULL, NULL, NULL, err);
}

/* Whether name ends in suffix with something before it. */
static int has_suffix(const char *name, const char *suffix) {
    const size_t n = strlen(name), k = strlen(suffix);
    return n > k && strcmp(name + n - k, suffix) == 0;
}

static int is_factor_name(const char *name) {
    return has_suffix(name, ".lora_a") || has_suffix(name, ".lora_b");
}

/* What a name after its suffix is removed names: the part before the suffix. */
static void base_of(const char *name, const char *suffix, char *out, size_t cap) {
    snprintf(out, cap, "%.*s", (int)(strlen(name) - strlen(suffix)), name);
}

/* Why the tensor called name does not belong in the checkpoint of m as loaded (NULL when
 * it does): a parameter of its shape, the mask of a prunable parameter, the keep flags of
 * its heads or neurons, or an adapter factor the metadata's adapter set has. */
static const char *stray_reason(const vlm *m, const char *name) {
    char base[2 * PL_NAME_MAX];
    if (has_suffix(name, ".mask")) {
        base_of(name, ".mask", base, sizeof base);
        const int t = pl_layout_find(&m->index.layout, base);
        return t >= 0 && m->index.prunable[t] ? NULL : "a mask of no prunable weight of the model";
    }
    if (has_suffix(name, ".keep")) {
        base_of(name, ".keep", base, sizeof base);
        return m->units.layout != NULL && pl_layout_find(m->units.layout, base) >= 0
                   ? NULL : "the keep flags of no head or neuron group of the model";
    }
    if (is_factor_name(name)) {
        if (m->adapters.kind == ADAPTER_NONE)
            return "an adapter factor, but the metadata names no adapter set (adapter_kind and "
                   "adapter_alpha)";
        return pl_layout_find(&m->adapters.layout, name) >= 0 ? NULL
               : "an adapter factor the metadata's adapter set does not have";
    }
    return pl_layout_find(&m->index.layout, name) >= 0
               ? NULL : "a tensor that the model described by its metadata (config and blocks) does not have";
}

/* The file holds nothing but what the model as loaded uses: every tensor whose name ends in
 * suffix (NULL: every tensor) is refused by name unless stray_reason finds its place. */
static pl_status check_no_stray_tensors(const safetensors_file *f, const vlm *m, const char *suffix,
                                        pl_error *err) {
    for (int i = 0; i < safetensors_count(f); i++) {
        const char *name = safetensors_at(f, i)->name;
        if (suffix != NULL && !has_suffix(name, suffix)) continue;
        const char *why = stray_reason(m, name);
        if (why != NULL)
            return PL_ERROR(err, PL_ERR_FORMAT, "%s: holds tensor \"%s\", %s; refused rather than "
                            "ignored (was the file edited or written by another tool?)",
                            safetensors_path(f), name, why);
    }
    return PL_OK;
}

/* The adapter_config that recreates the factors f holds: the rank of each module's first
 * factor, the modules and layer kinds that have any. */
static pl_status adapter_config_of_file(const safetensors_file *f, const param_index *pi,
                                        adapter_config *cfg, pl_error *err) {
    memset(cfg, 0, sizeof *cfg);
    const char *alpha = safetensors_metadata(f, "adapter_alpha");
    char *end = NULL;
    cfg->alpha = alpha ? strtof(alpha, &end) : 0.0f;
    if (alpha == NULL || *end != '\0' || !(cfg->alpha > 0.0f))
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: adapter_alpha in the metadata is missing or not a "
                        "positive number", safetensors_path(f));
    for (int t = 0; t < pi->layout.count; t++) {
        char name[2 * PL_NAME_MAX];
        snprintf(name, sizeof name, "%s.lora_a", pi->layout.tensors[t].name);
        const safetensors_tensor *a = safetensors_find(f, name);
        if (a == NULL || !pi->prunable[t]) continue;
        const int module = pi->module[t];
        if (a->shape[0] > LINEAR_MAX_RANK)
            return PL_ERROR(err, PL_ERR_FORMAT, "%s: adapter %s has rank %d, above the %d prunelab "
                            "runs", safetensors_path(f), name, a->shape[0], LINEAR_MAX_RANK);
        if (cfg->rank[module] == 0) cfg->rank[module] = a->shape[0];
        cfg->modules |= 1u << module;
        cfg->layer_kinds |= adapter_layer_kind(pi->layout.tensors[t].name);
    }
    return PL_OK;
}

static pl_status load_adapters(const safetensors_file *f, vlm *m, pl_error *err) {
    const char *kind = safetensors_metadata(f, "adapter_kind");
    if (kind == NULL) return PL_OK;
    adapter_kind k = strcmp(kind, "lora") == 0 ? ADAPTER_LORA
                   : strcmp(kind, "sparselora") == 0 ? ADAPTER_SPARSELORA : ADAPTER_NONE;
    if (k == ADAPTER_NONE)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: adapter_kind '%s' in the metadata is neither lora "
                        "nor sparselora", safetensors_path(f), kind);
    adapter_config cfg;
    PL_TRY(adapter_config_of_file(f, &m->index, &cfg, err));
    PL_TRY(vlm_enable_weff(m, err));
    PL_TRY(adapters_create(&m->adapters, &m->index, k, &cfg, 0, err));
    PL_TRY(safetensors_load_into(f, &m->adapters.layout, &m->adapters.values, 1, err));
    PL_TRY(adapters_restrict(&m->adapters, &m->index, &m->cfg, &m->units, err));
    /* every factor in the file is one of the set (mixed ranks within a module failed the
     * shape check above) */
    PL_TRY(check_no_stray_tensors(f, m, ".lora_a", err));
    return check_no_stray_tensors(f, m, ".lora_b", err);
}

pl_status vlm_save(const vlm *m, const char *path, const checkpoint_meta *meta, int nmeta,
                   pl_error *err) {
    safetensors_writer *w;
    PL_TRY(safetensors_writer_create(&w, err));
    char *config = NULL, *blocks = NULL;
    pl_status st = model_config_to_json(&m->cfg, &config, err);
    if (st == PL_OK) st = safetensors_writer_set_metadata(w, "config", config, err);
    if (st == PL_OK) st = model_blocks_to_json(&m->cfg, &blocks, err);
    if (st == PL_OK) st = safetensors_writer_set_metadata(w, "blocks", blocks, err);
    if (st == PL_OK) st = safetensors_writer_set_metadata(w, "kind", CHECKPOINT_KIND, err);
    for (int i = 0; st == PL_OK && i < nmeta; i++)
        st = safetensors_writer_set_metadata(w, meta[i].key, meta[i].value, err);
    if (st == PL_OK)
        st = safetensors_writer_add_layout(w, &m->index.layout, &m->params, NULL, NULL, NULL, err);
    if (st == PL_OK && m->masks.data != NULL)
        st = safetensors_writer_add_layout(w, &m->index.layout, &m->masks, NULL, ".mask",
                                           m->index.prunable, err);
    if (st == PL_OK && m->units.layout != NULL)
        st = safetensors_writer_add_layout(w, m->units.layout, &m->units.keep, NULL, ".keep", NULL, err);
    if (st == PL_OK) st = save_adapters(w, &m->adapters, err);
    if (st == PL_OK) st = safetensors_writer_commit(w, path, err);
    free(config);
    free(blocks);
    safetensors_writer_free(w);
    return st;
}

/* Whether the file holds any pruning mask (then it must hold every prunable weight's). */
static int has_masks(const safetensors_file *f) {
    for (int i = 0; i < safetensors_count(f); i++)
        if (has_suffix(safetensors_at(f, i)->name, ".mask")) return 1;
    return 0;
}

/* Every mask element is 0 or 1: a mask of 0.5 or NaN would scale or poison its weights. */
static pl_status check_masks(const vlm *m, const char *path, pl_error *err) {
    const pl_layout *l = &m->index.layout;
    for (int t = 0; t < l->count; t++) {
        if (!m->index.prunable[t]) continue;
        const float *mask = pl_buffer_view(&m->masks, t);
        for (size_t i = 0; i < l->tensors[t].count; i++)
            if (mask[i] != 0.0f && mask[i] != 1.0f)
                return PL_ERROR(err, PL_ERR_FORMAT, "%s: %s.mask[%zu] is %g; mask elements are 0 (pruned) "
                                "or 1 (kept), so the file is damaged or was not written by prunelab",
                                path, l->tensors[t].name, i, (double)mask[i]);
    }
    return PL_OK;
}

/* The keep flags of heads and neurons, when the file has them (a structured pruning's
 * output): every one of the model's, each 0 or 1. */
static pl_status load_units(const safetensors_file *f, vlm *m, pl_error *err) {
    int any = 0;
    for (int i = 0; i < safetensors_count(f) && !any; i++) any = has_suffix(safetensors_at(f, i)->name, ".keep");
    if (!any) return PL_OK;
    PL_TRY(unit_masks_enable(&m->units, &m->cfg, &m->index, err));
    PL_TRY(check_no_stray_tensors(f, m, ".keep", err)); /* before they are looked for */
    PL_TRY(safetensors_load_layout(f, m->units.layout, &m->units.keep, NULL, ".keep", NULL, 1, err));
    for (int t = 0; t < m->units.layout->count; t++) {
        const pl_tensor_spec *spec = &m->units.layout->tensors[t];
        const float *keep = pl_buffer_view(&m->units.keep, t);
        for (size_t i = 0; i < spec->count; i++)
            if (keep[i] != 0.0f && keep[i] != 1.0f)
                return PL_ERROR(err, PL_ERR_FORMAT, "%s: %s.keep[%zu] is %g; keep flags are 0 or 1",
                                safetensors_path(f), spec->name, i, (double)keep[i]);
    }
    return PL_OK;
}

/* The model config and block shapes of an opened checkpoint's metadata. */
static pl_status config_of(safetensors_file *f, const char *path, model_config *cfg,
                           pl_error *err) {
    const char *kind = safetensors_metadata(f, "kind");
    const char *config = safetensors_metadata(f, "config");
    if (kind == NULL || strcmp(kind, CHECKPOINT_KIND) != 0 || config == NULL)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s is a safetensors file but not a prunelab model checkpoint (its "
                        "metadata lacks kind = %s and a model config)", path, CHECKPOINT_KIND);
    if (model_config_from_json(cfg, config, err) != PL_OK) return pl_error_wrap(err, "%s", path);
    /* Checkpoints written before per-block shapes have no "blocks": they are uniform. */
    const char *blocks = safetensors_metadata(f, "blocks");
    if (blocks != NULL && model_blocks_from_json(cfg, blocks, err) != PL_OK)
        return pl_error_wrap(err, "%s: its blocks metadata", path);
    return PL_OK;
}

pl_status vlm_checkpoint_config(const char *path, model_config *cfg, pl_error *err) {
    safetensors_file *f;
    PL_TRY(safetensors_open(&f, path, err));
    const pl_status st = config_of(f, path, cfg, err);
    safetensors_close(f);
    return st;
}

pl_status vlm_load(vlm *m, const char *path, int max_batch, pl_error *err) {
    safetensors_file *f;
    PL_TRY(safetensors_open(&f, path, err));
    model_config cfg;
    pl_status st = config_of(f, path, &cfg, err);
    if (st == PL_OK) st = vlm_create(m, &cfg, max_batch, err);
    if (st != PL_OK) {
        safetensors_close(f);
        return st;
    }
    st = safetensors_load_into(f, &m->index.layout, &m->params, 1, err);
    if (st == PL_OK && has_masks(f)) { /* then every prunable weight's, each 0 or 1 */
        st = vlm_enable_masks(m, err);
        if (st == PL_OK)
            st = safetensors_load_layout(f, &m->index.layout, &m->masks, NULL, ".mask",
                                         m->index.prunable, 1, err);
        if (st == PL_OK) st = check_masks(m, path, err);
    }
    if (st == PL_OK) st = load_units(f, m, err);
    if (st == PL_OK) st = load_adapters(f, m, err);
    if (st == PL_OK) st = check_no_stray_tensors(f, m, NULL, err);
    if (st == PL_OK) st = check_finite_weights(m, path, err);
    safetensors_close(f);
    if (st != PL_OK) vlm_free(m);
    return st;
}
