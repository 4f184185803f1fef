/* model_config.c - presets and consistency checks for the VLM's shape. */
#include "model/model_config.h"

#include <string.h>

pl_status model_config_preset(model_config *cfg, const char *name, pl_error *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->mlp_ratio = 4;
    cfg->image_size = 56;
    cfg->patch_size = 7;
    cfg->heads = 4;
    cfg->num_queries = 8;
    cfg->aux_classes = 11;
    cfg->init_std = 0.02f;
    if (strcmp(name, "tiny") == 0) {
        cfg->dim_vision = cfg->dim_query = cfg->dim_language = 64;
        cfg->layers_vision = 4, cfg->layers_query = 2, cfg->layers_language = 4;
    } else if (strcmp(name, "small") == 0) {
        cfg->dim_vision = cfg->dim_query = cfg->dim_language = 128;
        cfg->layers_vision = 6, cfg->layers_query = 2, cfg->layers_language = 6;
    } else if (strcmp(name, "base") == 0) {
        cfg->dim_vision = cfg->dim_query = 192;
        cfg->dim_language = 256;
        cfg->layers_vision = 8, cfg->layers_query = 2, cfg->layers_language = 8;
    } else {
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "unknown model preset '%s'; allowed: tiny, small, base", name);
    }
    return PL_OK;
}

const model_config_field MODEL_CONFIG_INT_FIELDS[] = {
    {"dim_vision", offsetof(model_config, dim_vision), 1, 1},
    {"dim_query", offsetof(model_config, dim_query), 1, 1},
    {"dim_language", offsetof(model_config, dim_language), 1, 1},
    {"layers_vision", offsetof(model_config, layers_vision), 1, 1},
    {"layers_query", offsetof(model_config, layers_query), 1, 1},
    {"layers_language", offsetof(model_config, layers_language), 1, 1},
    {"heads", offsetof(model_config, heads), 1, 1},
    {"num_queries", offsetof(model_config, num_queries), 1, 1},
    {"mlp_ratio", offsetof(model_config, mlp_ratio), 1, 1},
    {"image_size", offsetof(model_config, image_size), 1, 1},
    {"patch_size", offsetof(model_config, patch_size), 1, 1},
    {"vocab_size", offsetof(model_config, vocab_size), 1, 0},
    {"text_len", offsetof(model_config, text_len), 1, 0},
    {"aux_classes", offsetof(model_config, aux_classes), 0, 0},
};
const int MODEL_CONFIG_INT_FIELD_COUNT =
    (int)(sizeof MODEL_CONFIG_INT_FIELDS / sizeof MODEL_CONFIG_INT_FIELDS[0]);

pl_status model_config_check(const model_config *c, pl_error *err) {
    for (int i = 0; i < MODEL_CONFIG_INT_FIELD_COUNT; i++) {
        const model_config_field *f = &MODEL_CONFIG_INT_FIELDS[i];
        const int value = *model_config_int((model_config *)c, f);
        if (value < f->min)
            return PL_ERROR(err, PL_ERR_CONFIG, "model.%s must be at least %d, got %d", f->name,
                            f->min, value);
    }
    const int widths[3] = {c->dim_vision, c->dim_query, c->dim_language};
    const char *names[3] = {"dim_vision", "dim_query", "dim_language"};
    for (int i = 0; i < 3; i++)
        if (widths[i] % c->heads != 0)
            return PL_ERROR(err, PL_ERR_CONFIG, "model.%s = %d is not divisible by heads = %d",
                            names[i], widths[i], c->heads);
    if (c->image_size % c->patch_size != 0)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "model.patch_size = %d does not tile model.image_size = %d",
                        c->patch_size, c->image_size);
    if (c->aux_classes > 0 && (model_patch_side(c) % 2 != 0))
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "the auxiliary cell head needs an even patch grid (2x2 cells); got %d",
                        model_patch_side(c));
    if (!(c->init_std > 0.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "model.init_std must be positive");
    return PL_OK;
}
