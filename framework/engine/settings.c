/* settings.c - config tree -> lower-layer structs (see settings.h). */
#include "engine/settings.h"

#include <stdio.h>
#include <string.h>

#include "config/path.h"
#include "core/gemm_bf16.h"
#include "data/tokenizer.h"

/* Typed reads of one key under a node, with its dotted path in errors. */
static pl_status get_int(const cfg_node *n, const char *path, int *out, pl_error *err) {
    long long v;
    PL_TRY(cfg_get_int(n, path, &v, err));
    *out = (int)v;
    return PL_OK;
}
static pl_status get_float(const cfg_node *n, const char *path, float *out, pl_error *err) {
    double v;
    PL_TRY(cfg_get_float(n, path, &v, err));
    *out = (float)v;
    return PL_OK;
}

static const char *const MIX_NAMES[QTYPE_COUNT_TYPES] = {"what", "exists", "count",
                                                         "where", "relation", "caption"};

static pl_status get_mix(const cfg_node *mix, float out[QTYPE_COUNT_TYPES], pl_error *err) {
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) PL_TRY(get_float(mix, MIX_NAMES[t], &out[t], err));
    return PL_OK;
}

/* Copies the string at a data.* path into a fixed buffer; an absent optional key is "". */
static pl_status get_path(const cfg_node *run, const char *key, char *out, size_t cap,
                          pl_error *err) {
    const char *value = "";
    if (cfg_get(run, key) != NULL) PL_TRY(cfg_get_string(run, key, &value, err));
    if (strlen(value) >= cap)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s is longer than %zu characters", key, cap - 1);
    snprintf(out, cap, "%s", value);
    return PL_OK;
}

/* data.dataset: files needs data.tsv and data.images; fashion_scenes refuses them, so a
 * forgotten `dataset: files` never trains on the generated scenes by mistake. */
static pl_status check_data_source(const cfg_node *run, const pl_data_config *dc, pl_error *err) {
    const char *dataset;
    PL_TRY(cfg_get_string(run, "data.dataset", &dataset, err));
    const char *empty = dc->tsv[0] == '\0' ? "data.tsv" : dc->images[0] == '\0' ? "data.images" : NULL;
    const char *set = dc->tsv[0] != '\0' ? "data.tsv" : dc->images[0] != '\0' ? "data.images" : NULL;
    if (strcmp(dataset, "files") == 0 && empty != NULL)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "data.dataset is files but %s is empty; set data.tsv to your TSV of "
                        "samples and data.images to their IDX file or PGM directory",
                        empty);
    if (strcmp(dataset, "files") != 0 && set != NULL)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "%s is set but data.dataset is %s; set data.dataset: files to use your "
                        "own data, or remove %s",
                        set, dataset, set);
    return PL_OK;
}

pl_status settings_data(const cfg_node *run, pl_data_config *out, pl_error *err) {
    pl_data_config_default(out);
    long long seed, eval_seed;
    PL_TRY(get_path(run, "data.path", out->path, sizeof out->path, err));
    PL_TRY(get_path(run, "data.tsv", out->tsv, sizeof out->tsv, err));
    PL_TRY(get_path(run, "data.images", out->images, sizeof out->images, err));
    PL_TRY(check_data_source(run, out, err));
    PL_TRY(get_float(run, "data.item_prob", &out->item_prob, err));
    PL_TRY(get_int(run, "data.val_size", &out->val_size, err));
    PL_TRY(get_int(run, "data.val_scenes", &out->val_scenes, err));
    PL_TRY(get_int(run, "data.test_size", &out->test_size, err));
    PL_TRY(cfg_get_int(run, "data.seed", &seed, err));
    PL_TRY(cfg_get_int(run, "data.eval_seed", &eval_seed, err));
    out->seed = (uint64_t)seed, out->eval_seed = (uint64_t)eval_seed;
    PL_TRY(get_int(run, "data.question_len", &out->question_len, err));
    PL_TRY(get_int(run, "data.text_len", &out->text_len, err));
    PL_TRY(get_mix(cfg_get(run, "data.question_mix"), out->mix, err));
    return pl_data_config_check(out, err);
}

/* model.blocks (optional): the listed blocks' units over the uniform shape. The schema has
 * checked each list's length and every count's range. */
static pl_status get_blocks(const cfg_node *run, model_config *out, pl_error *err) {
    const cfg_node *blocks = cfg_get(run, "model.blocks");
    if (blocks == NULL) return PL_OK;
    model_blocks_make_custom(out);
    for (int m = 0; m < MODULE_COUNT; m++) {
        const cfg_node *list = cfg_map_get(blocks, module_name((pl_module)m));
        if (list == NULL) continue;
        for (int l = 0; l < list->u.list.count && l < module_layers(out, (pl_module)m); l++) {
            const cfg_node *e = list->u.list.items[l];
            block_dims *d = &out->blocks.dims[m][l];
            if (cfg_map_get(e, "heads")) PL_TRY(get_int(e, "heads", &d->heads, err));
            if (cfg_map_get(e, "cross_heads")) PL_TRY(get_int(e, "cross_heads", &d->cross_heads, err));
            if (cfg_map_get(e, "ffn")) PL_TRY(get_int(e, "ffn", &d->ffn, err));
        }
    }
    model_blocks_normalise(out);
    return PL_OK;
}

pl_status settings_model(const cfg_node *run, const pl_data_config *data, model_config *out,
                         pl_error *err) {
    PL_TRY(model_config_preset(out, "tiny", err)); /* fields the schema does not expose */
    char path[96];
    for (int i = 0; i < MODEL_CONFIG_INT_FIELD_COUNT; i++) {
        const model_config_field *f = &MODEL_CONFIG_INT_FIELDS[i];
        if (!f->in_config) continue;
        snprintf(path, sizeof path, "model.%s", f->name);
        PL_TRY(get_int(run, path, model_config_int(out, f), err));
    }
    PL_TRY(get_float(run, "model.init_std", &out->init_std, err));
    out->vocab_size = PL_VOCAB_SIZE;
    out->text_len = data->text_len;
    out->aux_classes = CELL_CLASSES;
    PL_TRY(get_blocks(run, out, err));
    if (out->image_size != SCENE_SIDE)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "model.image_size is %d but fashion scenes are %d pixels square",
                        out->image_size, SCENE_SIDE);
    return model_config_check(out, err);
}

static pl_status module_mask(const cfg_node *list, unsigned *mask, pl_error *err) {
    *mask = 0;
    for (int i = 0; i < list->u.list.count; i++) {
        const char *name = list->u.list.items[i]->u.s;
        int m = strcmp(name, "vision") == 0 ? MODULE_VISION
              : strcmp(name, "bridge") == 0 ? MODULE_BRIDGE
              : strcmp(name, "language") == 0 ? MODULE_LANGUAGE : -1;
        if (m < 0) return PL_ERROR(err, PL_ERR_CONFIG, "unknown module '%s' in phases[].train", name);
        *mask |= 1u << m;
    }
    return PL_OK;
}

static pl_status read_phase(const cfg_node *ph, float stage_lr,
                            int stage_warmup, train_phase *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    const char *name;
    PL_TRY(cfg_get_string(ph, "name", &name, err));
    snprintf(out->name, sizeof out->name, "%s", name);
    PL_TRY(get_int(ph, "steps", &out->steps, err));
    PL_TRY(module_mask(cfg_get(ph, "train"), &out->train_mask, err));
    PL_TRY(get_float(ph, "task_weight", &out->task_weight, err));
    PL_TRY(get_float(ph, "aux_weight", &out->aux_weight, err));
    PL_TRY(get_float(ph, "bridge_aux_weight", &out->bridge_aux_weight, err));
    out->lr = stage_lr, out->warmup = stage_warmup;
    if (cfg_get(ph, "lr")) PL_TRY(get_float(ph, "lr", &out->lr, err));
    if (cfg_get(ph, "warmup")) PL_TRY(get_int(ph, "warmup", &out->warmup, err));
    const cfg_node *mix = cfg_get(ph, "question_mix");
    if (mix) {
        out->has_mix = 1;
        PL_TRY(get_mix(mix, out->mix, err));
    }
    return PL_OK;
}

pl_status settings_pretrain(const cfg_node *stage, pretrain_config *out, pl_error *err) {
    int steps, warmup;
    float lr;
    PL_TRY(get_int(stage, "steps", &steps, err));
    pretrain_config_default(out, steps);
    PL_TRY(get_int(stage, "batch_size", &out->batch_size, err));
    PL_TRY(get_float(stage, "lr", &lr, err));
    PL_TRY(get_float(stage, "min_lr", &out->min_lr, err));
    PL_TRY(get_int(stage, "warmup", &warmup, err));
    PL_TRY(get_float(stage, "weight_decay", &out->weight_decay, err));
    PL_TRY(get_float(stage, "clip", &out->clip, err));
    PL_TRY(get_int(stage, "eval_every", &out->eval_every, err));
    PL_TRY(get_int(stage, "eval_samples", &out->eval_samples, err));
    PL_TRY(get_int(stage, "log_every", &out->log_every, err));
    const cfg_node *phases = cfg_get(stage, "phases");
    if (phases == NULL || phases->u.list.count == 0) {
        out->num_phases = 1;
        out->phases[0].lr = lr, out->phases[0].warmup = warmup;
        PL_TRY(get_float(stage, "aux_cell_weight", &out->phases[0].aux_weight, err));
        PL_TRY(get_float(stage, "bridge_aux_weight", &out->phases[0].bridge_aux_weight, err));
        return PL_OK;
    }
    if (phases->u.list.count > PRETRAIN_MAX_PHASES)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s:%d:%d: pretrain.phases has %d phases; at most %d",
                        phases->pos.file, phases->pos.line, phases->pos.col,
                        phases->u.list.count, PRETRAIN_MAX_PHASES);
    out->num_phases = phases->u.list.count;
    for (int i = 0; i < out->num_phases; i++)
        PL_TRY(read_phase(phases->u.list.items[i], lr, warmup, &out->phases[i], err));
    return PL_OK;
}

pl_status settings_precision(const cfg_node *run, train_precision *out, pl_error *err) {
    *out = TRAIN_FP32;
    const cfg_node *key = cfg_get(run, "numerics.precision");
    if (key == NULL) return PL_OK;
    const char *v;
    PL_TRY(cfg_get_string(run, "numerics.precision", &v, err));
    if (strcmp(v, "bf16") != 0) return PL_OK;
    /* Refused rather than run slowly in emulation or silently in FP32 under a bf16 run id. */
    char why[256];
    if (!pl_bf16_supported(why, sizeof why))
        return cfg_error_at(err, key->pos, "numerics.precision = bf16, but %s; remove the key (or "
                            "set fp32) to train in FP32", why);
    *out = TRAIN_BF16;
    return PL_OK;
}
