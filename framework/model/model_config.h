/* model_config.h - the shape of a prunelab VLM and its named presets.
 *
 * Widths, depths and sequence lengths are scalars. Each transformer block has its own
 * number of attention heads (and, in the bridge, cross-attention heads) and its own MLP
 * width; a head is always dim / heads channels wide in its module (the scalar `heads`
 * fixes the head width), so removing a head removes a whole unit. A count of 0 means the
 * block has no such sublayer: the residual stream passes through it plus the sublayer's
 * output bias. The presets, and any config without per-block entries, are the uniform
 * case: `heads` heads and mlp_ratio · dim MLP channels in every block. */
#ifndef PL_MODEL_CONFIG_H
#define PL_MODEL_CONFIG_H

#include <stddef.h>

#include "core/error.h"

typedef enum { MODULE_VISION = 0, MODULE_BRIDGE, MODULE_LANGUAGE, MODULE_COUNT } pl_module;

enum { VLM_MAX_LAYERS = 64 }; /* transformer blocks per module */

typedef struct { /* the units of one transformer block */
    int heads;       /* self-attention heads (0: no self-attention sublayer) */
    int cross_heads; /* cross-attention heads, bridge blocks only (0 elsewhere) */
    int ffn;         /* MLP hidden width (0: no MLP sublayer) */
} block_dims;

typedef struct {
    int custom; /* 0: every block is uniform and dims is unused; 1: dims holds each block */
    block_dims dims[MODULE_COUNT][VLM_MAX_LAYERS];
} model_blocks;

typedef struct {
    int dim_vision, dim_query, dim_language;          /* Dv, Dq, Dl */
    int layers_vision, layers_query, layers_language; /* Lv, Lq, Ll */
    int heads;        /* attention heads of a uniform block; fixes each module's head width */
    int num_queries;  /* Nq learned bridge queries */
    int mlp_ratio;    /* MLP hidden width of a uniform block = ratio · model width */
    int image_size;   /* square grayscale images */
    int patch_size;   /* square patches: (image/patch)² tokens of patch² values */
    int vocab_size;   /* word-level vocabulary (from the tokenizer) */
    int text_len;     /* question + separator + answer tokens per sample */
    int aux_classes;  /* classes of the auxiliary per-cell vision head (0 = no head) */
    float init_std;   /* normal init of weights */
    model_blocks blocks; /* per-block units; custom = 0 for the uniform shape */
} model_config;

/* Every integer field of model_config, by the name checkpoints and configs use. */
typedef struct {
    const char *name;
    size_t offset;
    int min;          /* smallest valid value */
    int in_config;    /* 1: set from the experiment's model section; 0: from data/defaults */
} model_config_field;
extern const model_config_field MODEL_CONFIG_INT_FIELDS[];
extern const int MODEL_CONFIG_INT_FIELD_COUNT;

static inline int *model_config_int(model_config *c, const model_config_field *f) {
    return (int *)((char *)c + f->offset);
}

/* Fills cfg with preset `name` (tiny, small, base); vocab_size and text_len are left for
 * the data layer to set. */
pl_status model_config_preset(model_config *cfg, const char *name, pl_error *err);

/* Checks every dimension for consistency (heads divide widths, patches tile the image,
 * every block's units fit its module...). */
pl_status model_config_check(const model_config *cfg, pl_error *err);

const char *module_name(pl_module m);
/* Transformer blocks of module m under cfg (Lv, Lq or Ll). */
int module_layers(const model_config *cfg, pl_module m);
/* Residual-stream width of module m (Dv, Dq or Dl) and the width of one of its heads. */
int module_dim(const model_config *cfg, pl_module m);
static inline int module_head_dim(const model_config *c, pl_module m) {
    return module_dim(c, m) / c->heads;
}

/* The units of block `layer` of module m: its own entry when blocks are custom, else the
 * uniform shape (heads, cross-attention heads in the bridge, mlp_ratio · dim). */
block_dims model_block(const model_config *cfg, pl_module m, int layer);
/* The uniform shape's block of module m. */
block_dims model_uniform_block(const model_config *cfg, pl_module m);

/* Makes every block explicit (custom = 1, dims filled from the current shape) so a caller
 * can change single blocks; model_blocks_normalise undoes it when nothing differs. */
void model_blocks_make_custom(model_config *cfg);
/* custom = 0 (and dims cleared) when every block equals the uniform shape, so configs that
 * describe the same model compare equal whichever way they were written. */
void model_blocks_normalise(model_config *cfg);
/* 1 when every block has the uniform shape. */
int model_blocks_uniform(const model_config *cfg);

static inline int model_patch_side(const model_config *c) { return c->image_size / c->patch_size; }
static inline int model_num_patches(const model_config *c) {
    return model_patch_side(c) * model_patch_side(c);
}
static inline int model_patch_dim(const model_config *c) { return c->patch_size * c->patch_size; }
static inline int model_lm_len(const model_config *c) { return c->num_queries + c->text_len; }

#endif
