/* train_loop.h - the one training loop every training stage runs. pretrain, finetune and
 * distill differ only in what they hand it: the phases (steps, learning rate, loss weights,
 * modules that learn), what trains (a train_target) and hooks. Per step s of a phase:
 *
 *   lr     warm-up over the phase's warm-up steps, then cosine to min_lr at its last step
 *   batch  training samples first_sample + s·B, ..., + s·B + B-1 (the phase's question mix);
 *          with a sample budget N those offsets are taken mod N, so the stage cycles through
 *          the same N samples (an `epoch` metric counts the passes)
 *   hooks.before_forward   e.g. a teacher's pass, which fills the input's teacher fields
 *   loss   forward with the phase's weights; NaN/inf, or a loss 10x above the first after
 *          200 steps, fails the stage with the step and the phase
 *   backward, then hooks.after_backward (a penalty's own gradient, importance scores)
 *   clip   the global L2 norm of the stepping tensors' gradients to `clip` (0 = off)
 *   AdamW  on the tensors of the modules in the phase's train_mask, bias correction counted
 *          per module (a module frozen in earlier phases starts at step 1)
 *   hooks.after_step       (clamps, pruning schedules)
 *   metrics: loss, loss_task and the parts `log_parts` names, lr, grad_norm, time_s, every
 *   step; a progress line with samples/s and an ETA every log_every steps; an evaluation
 *   every eval_every steps in phases that score answers, and one at the end if asked. */
#ifndef PL_TUNE_TRAIN_LOOP_H
#define PL_TUNE_TRAIN_LOOP_H

#include <stdint.h>

#include "core/metrics.h"
#include "data/dataset.h"
#include "model/vlm.h"
#include "tune/optimizer.h"

enum { TRAIN_MAX_PHASES = 8 };

typedef struct {
    const char *name;       /* in progress lines and errors */
    int steps, warmup;
    float lr;               /* peak learning rate */
    unsigned train_mask;    /* bit (1u << pl_module) per module whose tensors step */
    vlm_loss_weights loss;
    const float *mix;       /* [QTYPE_COUNT_TYPES] question mix of this phase, or NULL */
} train_loop_phase;

/* Loss parts logged besides loss and loss_task (hidden and attention terms are logged in
 * phases whose weight for them is positive). */
enum { TRAIN_LOG_AUX = 1u, TRAIN_LOG_KD = 2u };

/* Arithmetic of the training passes' linear layers: FP32 SGEMM, or BF16 operands with FP32
 * accumulation (model/weights.h: ws_bf16); master weights, optimizer, every other kernel and
 * the periodic evaluations stay FP32 either way. */
typedef enum { TRAIN_FP32 = 0, TRAIN_BF16 } train_precision;

typedef struct {
    const char *stage;      /* "pretrain", "finetune", ...: progress lines and errors */
    train_precision precision;
    int batch_size;
    float min_lr, clip;
    adamw_config adam;      /* weight_decay applies to the tensors the target marks decayed */
    int64_t first_sample;
    int64_t sample_budget;  /* > 0: the training samples are first_sample .. + budget - 1,
                               read cyclically (epochs); 0: a fresh sample every time */
    int log_every;          /* steps between progress lines (> 0) */
    int eval_every, eval_samples; /* eval_every 0: no periodic evaluation */
    pl_split eval_split;
    int eval_at_end;
    unsigned log_parts;     /* TRAIN_LOG_* */
    int num_phases;
    train_loop_phase phases[TRAIN_MAX_PHASES];
} train_schedule;

/* What steps: one buffer of tensors and its gradient, with per tensor the module it belongs
 * to, whether weight decay applies and which of its elements are kept (mask entries NULL:
 * all). Masked elements keep a zero gradient, moments and value. */
typedef struct {
    pl_buffer *values, *grads;
    const pl_layout *layout;
    unsigned char *module, *decayed; /* [layout->count] */
    const float **mask;              /* [layout->count] */
} train_target;

/* Every parameter of m (masked where m has masks). */
pl_status train_target_params(train_target *t, vlm *m, pl_error *err);
/* The factors of a (each A and B in the module of the weight it adapts), all decayed. */
pl_status train_target_adapters(train_target *t, adapter_set *a, const param_index *pi,
                                pl_error *err);
void train_target_free(train_target *t);

typedef struct {
    void *ctx;
    pl_status (*before_forward)(void *ctx, vlm_input *in, int64_t step, pl_error *err);
    pl_status (*after_backward)(void *ctx, int64_t step, vlm_losses *loss, pl_error *err);
    pl_status (*after_step)(void *ctx, int64_t step, pl_error *err);
} train_hooks;

/* Runs the schedule on m through the weight set w (whose gradients land in target->grads).
 * hooks may be NULL. */
pl_status train_loop_run(vlm *m, const weight_set *w, train_target *target,
                         const train_schedule *s, const train_hooks *hooks, const pl_data *d,
                         const pl_metrics_sink *sink, pl_error *err);

/* "1h02m" or "3m07s". */
void train_format_duration(char *out, size_t cap, double seconds);

#endif
