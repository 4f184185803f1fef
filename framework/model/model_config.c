/* model_config.c - presets, per-block shapes and consistency checks for the VLM's shape. */
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

/* Every block's units fit its module: 0 <= heads <= the uniform head count (whose heads
 * fill the width), cross-attention heads only in the bridge, a non-negative MLP width. */
static pl_status check_blocks(const model_config *c, pl_error *err) {
    for (int m = 0; m < MODULE_COUNT; m++)
        if (module_layers(c, (pl_module)m) > VLM_MAX_LAYERS)
            return PL_ERROR(err, PL_ERR_CONFIG, "model: %d %s blocks; at most %d per module are "
                            "supported", module_layers(c, (pl_module)m), module_name((pl_module)m),
                            VLM_MAX_LAYERS);
    if (!c->blocks.custom) return PL_OK;
    for (int m = 0; m < MODULE_COUNT; m++) {
        const char *mod = module_name((pl_module)m);
        for (int l = 0; l < VLM_MAX_LAYERS; l++) {
            const block_dims d = c->blocks.dims[m][l];
            if (l >= module_layers(c, (pl_module)m)) {
                if (d.heads != 0 || d.cross_heads != 0 || d.ffn != 0)
                    return PL_ERROR(err, PL_ERR_CONFIG, "model.blocks.%s[%d] describes a block "
                                    "beyond the module's %d", mod, l,
                                    module_layers(c, (pl_module)m));
                continue;
            }
            if (d.heads < 0 || d.heads > c->heads)
                return PL_ERROR(err, PL_ERR_CONFIG, "model.blocks.%s[%d].heads = %d: a block holds "
                                "0 to %d heads of %d channels (model.heads splits the width %d)",
                                mod, l, d.heads, c->heads, module_head_dim(c, (pl_module)m),
                                module_dim(c, (pl_module)m));
            if (m == MODULE_BRIDGE && (d.cross_heads < 0 || d.cross_heads > c->heads))
                return PL_ERROR(err, PL_ERR_CONFIG, "model.blocks.%s[%d].cross_heads = %d: a block "
                                "holds 0 to %d cross-attention heads", mod, l, d.cross_heads,
                                c->heads);
            if (m != MODULE_BRIDGE && d.cross_heads != 0)
                return PL_ERROR(err, PL_ERR_CONFIG, "model.blocks.%s[%d].cross_heads = %d: only "
                                "bridge blocks have cross-attention", mod, l, d.cross_heads);
            if (d.ffn < 0 || d.ffn > (1 << 20))
                return PL_ERROR(err, PL_ERR_CONFIG, "model.blocks.%s[%d].ffn = %d: an MLP width "
                                "is 0 to %d", mod, l, d.ffn, 1 << 20);
        }
    }
    return PL_OK;
}

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
    return check_blocks(c, err);
}

const char *module_name(pl_module m) {
    switch (m) {
    case MODULE_VISION: return "vision";
    case MODULE_BRIDGE: return "bridge";
    case MODULE_LANGUAGE: return "language";
    default: return "?";
    }
}

int module_layers(const model_config *c, pl_module m) {
    return m == MODULE_VISION ? c->layers_vision
         : m == MODULE_BRIDGE ? c->layers_query : c->layers_language;
}

int module_dim(const model_config *c, pl_module m) {
    return m == MODULE_VISION ? c->dim_vision
         : m == MODULE_BRIDGE ? c->dim_query : c->dim_language;
}

block_dims model_uniform_block(const model_config *c, pl_module m) {
    return (block_dims){c->heads, m == MODULE_BRIDGE ? c->heads : 0,
                        c->mlp_ratio * module_dim(c, m)};
}

block_dims model_block(const model_config *c, pl_module m, int layer) {
    return c->blocks.custom ? c->blocks.dims[m][layer] : model_uniform_block(c, m);
}

void model_blocks_make_custom(model_config *c) {
    if (c->blocks.custom) return;
    memset(c->blocks.dims, 0, sizeof c->blocks.dims);
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(c, (pl_module)m) && l < VLM_MAX_LAYERS; l++)
            c->blocks.dims[m][l] = model_uniform_block(c, (pl_module)m);
    c->blocks.custom = 1;
}

static int same_dims(block_dims a, block_dims b) {
    return a.heads == b.heads && a.cross_heads == b.cross_heads && a.ffn == b.ffn;
}

int model_blocks_uniform(const model_config *c) {
    if (!c->blocks.custom) return 1;
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(c, (pl_module)m) && l < VLM_MAX_LAYERS; l++)
            if (!same_dims(c->blocks.dims[m][l], model_uniform_block(c, (pl_module)m))) return 0;
    return 1;
}

void model_blocks_normalise(model_config *c) {
    if (c->blocks.custom && model_blocks_uniform(c)) memset(&c->blocks, 0, sizeof c->blocks);
}
