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

pl_status model_config_check(const model_config *c, pl_error *err) {
    const struct { const char *name; int value; } positive[] = {
        {"dim_vision", c->dim_vision},           {"dim_query", c->dim_query},
        {"dim_language", c->dim_language},       {"layers_vision", c->layers_vision},
        {"layers_query", c->layers_query},       {"layers_language", c->layers_language},
        {"heads", c->heads},                     {"num_queries", c->num_queries},
        {"mlp_ratio", c->mlp_ratio},             {"image_size", c->image_size},
        {"patch_size", c->patch_size},           {"vocab_size", c->vocab_size},
        {"text_len", c->text_len},
    };
    for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++)
        if (positive[i].value <= 0)
            return PL_ERROR(err, PL_ERR_CONFIG, "model.%s must be positive, got %d",
                            positive[i].name, positive[i].value);
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
    if (c->aux_classes < 0)
        return PL_ERROR(err, PL_ERR_CONFIG, "model.aux_classes must be >= 0");
    if (c->aux_classes > 0 && (model_patch_side(c) % 2 != 0))
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "the auxiliary cell head needs an even patch grid (2x2 cells); got %d",
                        model_patch_side(c));
    if (!(c->init_std > 0.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "model.init_std must be positive");
    return PL_OK;
}
