/* vlm.h - the BLIP-2-shaped vision-language model: vision encoder, bridge of
 * learned queries, causal language model; full forward, backward and greedy decoding.
 *
 * Buffers, one per role, all over named layouts: params, grads, masks (optional), weff
 * (effective weights when masks are used) over the parameter layout; acts over an
 * activation layout sized for max_batch. */
#ifndef PL_MODEL_VLM_H
#define PL_MODEL_VLM_H

#include <stdint.h>

#include "core/buffer.h"
#include "model/block.h"
#include "model/model_config.h"
#include "model/params.h"
#include "model/state_loss.h"
#include "model/units.h"
#include "model/weights.h"

typedef struct { /* one batch, rows b = 0..batch-1 */
    const float *images;  /* [batch, image_size²] normalised pixels */
    const int *tokens;    /* [batch, text_len] */
    const int *targets;   /* [batch, text_len] next-token targets, -1 = not scored (may be NULL) */
    const int *cells;     /* [batch, 4] per-cell classes for the auxiliary head (may be NULL) */
    const float *teacher_logits; /* [batch, Nq + text_len, vocab] for distillation (may be NULL) */
    /* Hidden-state / attention-map distillation (model/state_loss.h; both may be NULL): the
     * teacher's per-block states and which of its blocks each student block matches. Read
     * again by backward, so they must outlive it. */
    const vlm_states *teacher_states;
    const vlm_layer_map *layer_map;
    int batch;
} vlm_input;

typedef struct {
    float task_weight; /* weight of the answer cross-entropy (0: language model not run) */
    float aux_weight;  /* weight of the per-cell classification loss on vision tokens */
    float bridge_aux_weight; /* weight of the per-cell classification loss on queries 0..3 */
    float kd_weight;   /* weight of KL(teacher ‖ student) on the scored answer positions */
    float temperature; /* of the distillation softmaxes (used when kd_weight > 0) */
    float hidden_weight; /* weight of the hidden-state MSE (needs teacher_states, layer_map) */
    float attn_weight;   /* weight of the attention-map MSE (likewise) */
} vlm_loss_weights;

typedef struct {
    float total, task, aux, bridge_aux, kd, hidden, attn; /* weighted sum and the unweighted parts */
    int task_tokens;        /* answer tokens scored */
} vlm_losses;

typedef struct {
    model_config cfg;
    param_index index;
    int max_batch;
    pl_buffer params, grads, masks, weff; /* masks.data / weff.data NULL until enabled */
    adapter_set adapters; /* unmerged adapters the model carries (finetune merge: false);
                             kind ADAPTER_NONE when there are none */
    unit_masks units;     /* heads and neurons a structured pruning removed (model/units.h);
                             layout NULL when none */
    pl_layout act_layout;
    pl_buffer acts;
    block_acts *vision_acts, *bridge_acts, *language_acts;
    block_scratch scratch;
    float *scratch_mem, *dweff;
    /* Named activations outside the blocks (views into acts). */
    float *patches, *vision_x0, *vision_out, *vision_mean, *vision_rstd;
    float *cell_feat, *aux_logits, *aux_probs;
    float *query_feat, *bridge_aux_logits, *bridge_aux_probs; /* queries 0..3 per sample */
    float *bridge_x0, *bridge_out, *bridge_mean, *bridge_rstd, *prefix;
    float *language_x0, *language_out, *language_mean, *language_rstd, *logits, *probs;
    float *kd_teacher, *kd_student; /* softmax(teacher/T), softmax(student/T) */
    unsigned char *kd_use;          /* [B·L] rows that distillation scores */
    int *lm_targets, *aux_targets;
    /* Gradient buffers of the residual streams (the last three double as scratch). */
    float *d_vision, *d_vision_out, *d_bridge, *d_prefix, *d_language, *d_logits, *d_aux, *d_cell,
        *d_query_feat;
    /* What the last forward ran, so backward replays it. */
    vlm_input last_input;
    vlm_loss_weights last_weights;
    vlm_losses last_losses;
    state_targets last_targets; /* the state terms' teacher states by student block */
} vlm;

pl_status vlm_create(vlm *m, const model_config *cfg, int max_batch, pl_error *err);
void vlm_free(vlm *m);
/* Moves src into dst (no copy of the buffers) and leaves src empty: the buffers' layout
 * pointers refer into the struct itself, so a plain struct copy would dangle. */
void vlm_move(vlm *dst, vlm *src);
void vlm_init(vlm *m, uint64_t seed);

/* Allocates masks (all ones) and the effective-weight buffer; idempotent. */
pl_status vlm_enable_masks(vlm *m, pl_error *err);
/* Allocates the effective-weight buffer alone (adapters on a dense model); idempotent. */
pl_status vlm_enable_weff(vlm *m, pl_error *err);

/* Weight set for a pass. masked = the model as deployed: its masks (if enabled) and the
 * unmerged adapters it carries (if any); masked = 0 is the dense W alone (the default
 * distillation teacher). with_grads = write parameter gradients. A trainer attaches its own
 * adapters and their gradients (w.adapters, w.adapter_grads). */
weight_set vlm_weights(vlm *m, int masked, int with_grads);

/* Forward; returns the losses (zero parts when their inputs are absent). */
vlm_losses vlm_forward(vlm *m, const weight_set *w, const vlm_input *in, vlm_loss_weights lw);

/* The model's blocks per module as the state losses see them for `batch` rows. */
void vlm_state_modules(const vlm *m, int batch, state_module out[MODULE_COUNT]);

/* Backward of the last forward; accumulates into w->grads (call vlm_zero_grad first). */
void vlm_backward(vlm *m, const weight_set *w);
void vlm_zero_grad(vlm *m);

/* Runs the vision encoder and the bridge: the projected queries, the language model's
 * prefix, are left in m->prefix. */
void vlm_encode(vlm *m, const weight_set *w, const float *images, int batch);

/* The language model over the first len positions of each row (the prefix, then len − Nq
 * text tokens of tokens [batch, text_len]), packed [batch, len]: block activations over
 * those positions and logits [batch·len, vocab] in m->logits. Needs vlm_encode first. */
void vlm_language_forward_len(vlm *m, const weight_set *w, const int *tokens, int batch,
                              int len);

/* Greedy decoding by full recomputation: tokens [batch, text_len] hold questions with SEP
 * at answer_start; the model's argmax fills positions answer_start+1 ... until every row
 * produced eos (eos < 0: never, so every row is decoded to its full length) or the row is
 * full; positions after a row's eos are set to pad. Runs the whole language model once per
 * answer position: the reference the KV-cached decoder (model/decode.h) is tested against,
 * and what the training stages' periodic evaluations use. */
void vlm_generate_full(vlm *m, const weight_set *w, const float *images, int *tokens, int batch,
                       int answer_start, int eos, int pad);

#endif
