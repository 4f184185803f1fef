/* params.h - the VLM's parameter layout: every tensor's stable hierarchical name, shape,
 * module (vision / bridge / language) and whether pruning may touch it, plus indices that
 * let the forward pass find each layer's tensors in the flat buffers. */
#ifndef PL_MODEL_PARAMS_H
#define PL_MODEL_PARAMS_H

#include <stdint.h>

#include "core/buffer.h"
#include "model/model_config.h"

typedef enum { MODULE_VISION = 0, MODULE_BRIDGE, MODULE_LANGUAGE, MODULE_COUNT } pl_module;
const char *module_name(pl_module m);
/* Transformer blocks of module m under cfg (Lv, Lq or Ll). */
int module_layers(const model_config *cfg, pl_module m);

typedef struct { /* tensor indices of a linear layer (out × in weight, out bias) */
    int weight, bias;
    int in, out;
} linear_ref;

typedef struct { /* tensor indices of a layer norm */
    int weight, bias;
} norm_ref;

typedef struct { /* one pre-LN transformer block: attention, optional cross-attention, MLP */
    norm_ref ln_attn;
    linear_ref qkv, proj;
    int has_cross;
    norm_ref ln_cross;
    linear_ref cross_q, cross_kv, cross_proj;
    norm_ref ln_mlp;
    linear_ref fc1, fc2;
    int dim, ctx_dim, causal;
} block_ref;

typedef struct {
    pl_layout layout;
    unsigned char *module;   /* [layout.count] pl_module of each tensor */
    unsigned char *prunable; /* [layout.count] 1 for linear weights inside blocks */
    unsigned char *decayed;  /* [layout.count] 1 where AdamW weight decay applies */
    linear_ref patch;
    int vision_pos;
    block_ref *vision_blocks;
    norm_ref vision_norm;
    linear_ref aux_head; /* weight = -1 when the config has no auxiliary head */
    int queries;
    block_ref *bridge_blocks;
    norm_ref bridge_norm;
    linear_ref bridge_aux_head; /* queries 0..3 -> cell classes; weight = -1 when absent */
    linear_ref bridge_proj;
    int token_embedding; /* tied with the output head */
    int language_pos;
    block_ref *language_blocks;
    norm_ref language_norm;
} param_index;

pl_status param_index_build(param_index *pi, const model_config *cfg, pl_error *err);
void param_index_free(param_index *pi);

/* Deterministic initialisation: every tensor draws from its own RNG stream. Matrices
 * N(0, init_std), residual output projections scaled by 1/sqrt(2·layers), biases 0, norms
 * weight 1. */
void param_init(const param_index *pi, const model_config *cfg, pl_buffer *params,
                uint64_t seed);

/* All linear layers of all blocks, in a fixed order: fills refs (may be NULL to count),
 * returns the count; modules[i] receives each one's module when non-NULL. */
int param_block_linears(const param_index *pi, const model_config *cfg, linear_ref *refs,
                        pl_module *modules);

#endif
