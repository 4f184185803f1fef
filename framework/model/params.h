/* params.h - the VLM's parameter layout: every tensor's stable hierarchical name, shape,
 * module (vision / bridge / language) and whether pruning may touch it, plus indices that
 * let the forward pass find each layer's tensors in the flat buffers. */
#ifndef PL_MODEL_PARAMS_H
#define PL_MODEL_PARAMS_H

#include <stdint.h>

#include "core/buffer.h"
#include "model/model_config.h"

typedef struct { /* tensor indices of a linear layer (out × in weight, out bias) */
    int weight, bias; /* weight -1: the layer has no units (bias -1 too, but for a block's
                         output projections, whose bias stays a constant add) */
    int in, out;
} linear_ref;

static inline int linear_present(const linear_ref *r) { return r->weight >= 0; }

typedef struct { /* tensor indices of a layer norm */
    int weight, bias;
} norm_ref;

/* One pre-LN transformer block: self-attention, cross-attention (bridge blocks), MLP. A
 * sublayer with no units (heads, cross_heads or ffn 0) has no norm and no matrices: only
 * its output projection's bias, added to the residual stream. */
typedef struct {
    norm_ref ln_attn;
    linear_ref qkv, proj;       /* qkv: dim -> 3·heads·head_dim; proj: heads·head_dim -> dim */
    int has_cross;              /* a bridge block (ctx_dim > 0), whatever its cross_heads */
    norm_ref ln_cross;
    linear_ref cross_q, cross_kv, cross_proj; /* kv reads the context width ctx_dim */
    norm_ref ln_mlp;
    linear_ref fc1, fc2;        /* fc1: dim -> ffn; fc2: ffn -> dim */
    int dim, ctx_dim, causal;
    int heads, cross_heads, head_dim, ffn;
} block_ref;

/* Channels of the block's self- and cross-attention (heads · head width). */
static inline int block_attn_dim(const block_ref *b) { return b->heads * b->head_dim; }
static inline int block_cross_dim(const block_ref *b) { return b->cross_heads * b->head_dim; }

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

/* The blocks of module m. */
static inline const block_ref *param_blocks(const param_index *pi, pl_module m) {
    return m == MODULE_VISION ? pi->vision_blocks
         : m == MODULE_BRIDGE ? pi->bridge_blocks : pi->language_blocks;
}

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
