/* model_config.h - the shape of a prunelab VLM (DESIGN §5) and its named presets. */
#ifndef PL_MODEL_CONFIG_H
#define PL_MODEL_CONFIG_H

#include <stddef.h>

#include "core/error.h"

typedef struct {
    int dim_vision, dim_query, dim_language;          /* Dv, Dq, Dl */
    int layers_vision, layers_query, layers_language; /* Lv, Lq, Ll */
    int heads;        /* attention heads in every module */
    int num_queries;  /* Nq learned bridge queries */
    int mlp_ratio;    /* MLP hidden width = ratio · model width */
    int image_size;   /* square grayscale images */
    int patch_size;   /* square patches: (image/patch)² tokens of patch² values */
    int vocab_size;   /* word-level vocabulary (from the tokenizer) */
    int text_len;     /* question + separator + answer tokens per sample */
    int aux_classes;  /* classes of the auxiliary per-cell vision head (0 = no head) */
    float init_std;   /* normal init of weights */
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

/* Checks every dimension for consistency (heads divide widths, patches tile the image...). */
pl_status model_config_check(const model_config *cfg, pl_error *err);

static inline int model_patch_side(const model_config *c) { return c->image_size / c->patch_size; }
static inline int model_num_patches(const model_config *c) {
    return model_patch_side(c) * model_patch_side(c);
}
static inline int model_patch_dim(const model_config *c) { return c->patch_size * c->patch_size; }
static inline int model_lm_len(const model_config *c) { return c->num_queries + c->text_len; }

#endif
