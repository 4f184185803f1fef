/* finetune.h - recovery training of a pruned VLM: masked full fine-tuning
 * (adapter none: pruned weights stay exactly zero), LoRA or SparseLoRA adapters (only the
 * factors train), with the loss
 *
 *   L = (1−λ)·L_task + λ·T²·KL(teacher ‖ student) + w_h·L_hidden + w_a·L_attn
 *
 * L_hidden and L_attn (model/state_loss.h) are the MSE between each transformer block's
 * output, resp. self-attention probabilities, in student and teacher: per block the mean
 * over its elements, then the mean over every block of every module the layer map pairs
 * (default: student block k ↔ teacher block k). The default teacher's pass runs first
 * through the model's own activation buffers, and its logits and, when w_h or w_a > 0, its
 * block states are copied out before the student's pass; a teacher model runs through its
 * own buffers, which the student's pass reads in place.
 *
 * The default teacher is the model's own weights evaluated without masks and without
 * adapters: for LoRA/SparseLoRA that costs no memory (the frozen W is the dense teacher);
 * masked full fine-tuning changes W, so it keeps one copy of the parameters as the teacher
 * (the only case with a second copy). A teacher from another checkpoint can be passed in.
 * The steps run on the shared training loop (tune/train_loop.h), the teacher's pass as its
 * before-forward hook (tune/teacher.h). */
#ifndef PL_TUNE_FINETUNE_H
#define PL_TUNE_FINETUNE_H

#include "core/metrics.h"
#include "data/dataset.h"
#include "model/adapters.h"
#include "model/layer_map.h"
#include "model/vlm.h"
#include "tune/train_loop.h"

typedef struct {
    adapter_kind adapter;
    adapter_config adapters;
    int steps, batch_size, warmup, log_every, eval_every, eval_samples;
    float lr, min_lr, weight_decay, clip;
    float lambda, temperature;
    float hidden_weight, attn_weight; /* w_h, w_a above */
    pl_split eval_split;
    uint64_t seed;            /* adapter initialisation */
    int64_t first_sample;     /* training samples first_sample, first_sample+1, ... */
    int64_t train_samples;    /* > 0: only first_sample .. + train_samples - 1, cyclically */
    const vlm_layer_map *layer_map; /* student block -> teacher block; NULL: the identity */
    const char *stage;        /* the stage's name in errors and progress lines (NULL: finetune) */
    int weight_grads;         /* adapters: each step also computes dL/dW_eff into m->grads
                                 (not stepped; zeroed before every step) for the hooks */
    const struct vlm_gates *gates; /* unit gates the student's passes apply (L0 gates), or NULL */
    train_precision precision; /* of the linear layers' products (default FP32) */
    const train_hooks *hooks; /* per-step hooks of a stage built on finetune (LoRAPrune): run
                                 after the teacher's pass; NULL: none */
} finetune_config;

void finetune_config_default(finetune_config *cfg);

/* Whether the loss has a teacher term (λ, w_h or w_a > 0). */
int finetune_uses_teacher(const finetune_config *cfg);

/* Trains m (masks enabled, or dense). When cfg->adapter is lora/sparselora, *adapters is
 * created (the caller frees it with adapters_free, merges it or saves it). teacher may be
 * NULL (default teacher, see above) or a frozen model with buffers of its own (at least
 * batch_size rows), of any shape the layer map pairs with m (state_loss_check). */
pl_status finetune_run(vlm *m, vlm *teacher, const pl_data *d, const finetune_config *cfg,
                       adapter_set *adapters, const pl_metrics_sink *sink, pl_error *err);

#endif
