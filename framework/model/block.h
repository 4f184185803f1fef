/* block.h - one pre-LayerNorm transformer block, forward and backward:
 *   r1  = x  + proj(attn(qkv(ln_attn(x))))                 self-attention (causal or not)
 *   r2  = r1 + cross_proj(attn(cross_q(ln_cross(r1)), cross_kv(ctx)))   bridge blocks only
 *   out = r2 + fc2(gelu(fc1(ln_mlp(r2))))
 * Each block has its own head counts and MLP width (block_ref); a sublayer without units
 * reduces to its output bias: r1 = x + proj.bias, and so on. Activations live in named
 * views of one flat buffer (block_acts), sized by the block's own units; backward reads
 * them. */
#ifndef PL_MODEL_BLOCK_H
#define PL_MODEL_BLOCK_H

#include "core/buffer.h"
#include "model/params.h"
#include "model/weights.h"

typedef struct {
    int batch, tokens, ctx_tokens;
} block_shape;

/* What forward keeps for backward; rows n = batch·tokens, C the width, A = heads·head_dim,
 * X = cross_heads·head_dim, F = ffn. A sublayer without units has none of its views (NULL). */
typedef struct {
    float *ln_attn, *ln_attn_mean, *ln_attn_rstd, *qkv, *att, *attn_y, *res_attn;
    float *ln_cross, *ln_cross_mean, *ln_cross_rstd, *cross_q, *cross_kv, *cross_att, *cross_y,
        *res_cross;
    /* fc1_grad: fc1's output, which the GELU pass replaces by gelu'(fc1) for backward */
    float *ln_mlp, *ln_mlp_mean, *ln_mlp_rstd, *fc1_grad, *gelu, *out;
} block_acts;

/* Gates on the block's units (learned structured pruning, nn/hard_concrete.h): a factor
 * per self-attention head, cross-attention head and MLP neuron multiplying that unit's
 * output before its sublayer's output projection (the head's slice of attn_y / cross_y, the
 * neuron's GELU value), in place: those views then hold the gated values. A NULL vector: no
 * gates of that kind. The d_ vectors (may be NULL) accumulate dL/dz; a gate at exactly 0
 * gets none (its unit's ungated output is gone, and a hard-concrete gate at 0 has no
 * gradient anyway). */
typedef struct {
    const float *heads, *cross, *neurons;
    float *d_heads, *d_cross, *d_neurons;
} block_gates;

/* Every block's gates, by module and block (weight_set.gates). */
typedef struct vlm_gates {
    block_gates block[MODULE_COUNT][VLM_MAX_LAYERS];
} vlm_gates;

enum { BLOCK_SCRATCH_ROLES = 7 };

typedef struct { /* backward scratch shared by all blocks, sized by block_scratch_sizes */
    float *tmp;       /* forward: a branch output before the residual add, [n, C] */
    float *d_narrow;  /* [n, C] */
    float *d_narrow2; /* [n, C] */
    float *d_wide;    /* [n, F]: ∂L/∂gelu, then in place ∂L/∂fc1 */
    float *d_qkv;     /* [n, 3A] (self) or [n, X] (cross queries) */
    float *d_kv;      /* [batch·ctx_tokens, 2X] */
    float *d_att;     /* [batch·heads·tokens²]: where a caller builds block_backward's d_att */
} block_scratch;

/* Adds the block's activation tensors "<prefix>.<name>" to layout; *first receives the index
 * of the first one (pass it to block_acts_bind). */
pl_status block_acts_declare(pl_layout *layout, const char *prefix, const block_ref *blk,
                             block_shape s, int *first, pl_error *err);
void block_acts_bind(block_acts *a, const pl_buffer *buf, const block_ref *blk, int first);

/* Floats of each scratch role, in block_scratch's field order, for a block (take the max
 * over all blocks). */
void block_scratch_sizes(const block_ref *blk, block_shape s, size_t sizes[BLOCK_SCRATCH_ROLES]);

/* Floats of the block's self-attention map a->att for batch·tokens rows: B·heads·T·T. */
size_t block_att_floats(const block_ref *blk, block_shape s);

/* g may be NULL (no gates). */
void block_forward(const weight_set *w, const block_ref *blk, const block_acts *a,
                   const block_scratch *sc, const float *x, const float *ctx, block_shape s,
                   const block_gates *g);

/* A sublayer without units: out[n, c] = x + bias, the bias broadcast over the n rows
 * (out may be x). */
void block_bias_residual_forward(float *out, const float *x, const float *bias, int n, int c);

/* d_res: in, ∂L/∂out; out, ∂L/∂x. d_ctx (may be NULL) accumulates ∂L/∂ctx. d_att (may be
 * NULL; ignored by a block without self-attention) is a loss's own gradient with respect to
 * the self-attention probabilities a->att ([batch, heads, tokens, tokens]), e.g. from
 * attention-map distillation. */
void block_backward(const weight_set *w, const block_ref *blk, const block_acts *a,
                    const block_scratch *sc, float *d_res, float *d_ctx, const float *d_att,
                    const float *x, const float *ctx, block_shape s, const block_gates *g);

#endif
