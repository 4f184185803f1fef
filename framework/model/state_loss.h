/* state_loss.h - the hidden-state and attention-map MSE distillation terms over a student's
 * transformer blocks, forward and backward:
 *
 *   L_hidden = (1/P) Σ_(k,t) mean over the N = B·T·C elements of (h_k − h'_t)²
 *   L_attn   = (1/P) Σ_(k,t) mean over the N = B·H·T·T entries of (A_k − A'_t)²
 *
 * h_k = student block k's residual-stream output, A_k = its self-attention probabilities
 * (the bridge's cross-attention is not compared; a block without self-attention has no
 * map and no attention pair); h'_t, A'_t the teacher's at block t.
 * Pairs (k, t) run over the student blocks of every module that the layer map matches, P
 * their count. Each pair's MSE is a mean over its own elements, so pairs weigh the same
 * whatever their module's width and length; causal maps count their masked entries, 0 in
 * both. Gradients: ∂L_hidden/∂h_k = 2(h_k − h'_t)/(N·P), added to the residual stream's
 * gradient at block k's output; ∂L_attn/∂A_k likewise, handed to the attention backward
 * before its softmax backward. */
#ifndef PL_MODEL_STATE_LOSS_H
#define PL_MODEL_STATE_LOSS_H

#include <stddef.h>

#include "model/block.h"
#include "model/layer_map.h"

typedef struct { /* one module's student blocks, for the current batch */
    const block_acts *acts;
    int layers;
    size_t hidden_floats;                /* per block: B·T·C */
    size_t att_floats[VLM_MAX_LAYERS];   /* by block: B·H·T·T, H its own heads (0: no map) */
} state_module;

typedef struct { /* written by forward, read by backward */
    const float *hidden[MODULE_COUNT][VLM_MAX_LAYERS]; /* by student block; NULL = no term */
    const float *att[MODULE_COUNT][VLM_MAX_LAYERS];
    float hidden_scale, att_scale; /* weight / P: the loss's derivative by each pair's MSE */
} state_targets;

/* Resolves map and teacher into *t (a term of weight 0 gets no targets) and returns the
 * unweighted means in *hidden and *attn (0 without pairs). Every matched teacher state of
 * a term with weight > 0 must be present. */
void state_loss_forward(state_targets *t, const vlm_layer_map *map, const vlm_states *teacher,
                        const state_module mods[MODULE_COUNT], float hidden_weight,
                        float attn_weight, float *hidden, float *attn);

/* Backward at student block `layer` of module mod: adds the hidden term's gradient into
 * d_out (∂L/∂block output) and returns the attention term's ∂L/∂A built in d_att
 * (att_floats), or NULL when the block has no attention target. */
const float *state_loss_block_backward(const state_targets *t, const state_module *sm,
                                       pl_module mod, int layer, float *d_out, float *d_att);

/* Whether map can pair student and teacher for the terms in use (hidden, att nonzero):
 * every matched teacher block exists, hidden states are equally wide, attention maps have
 * equal heads. An error names the module, both blocks and what differs. */
pl_status state_loss_check(const vlm_layer_map *map, const model_config *student,
                           const model_config *teacher, int hidden, int att, pl_error *err);

#endif
