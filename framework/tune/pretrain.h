/* pretrain.h - training a VLM from scratch: phases (which modules learn, loss weights,
 * learning rate, question mix), run by the shared training loop (tune/train_loop.h: AdamW
 * with warm-up + cosine per phase, global-norm clipping, periodic evaluation, progress
 * lines). */
#ifndef PL_TUNE_PRETRAIN_H
#define PL_TUNE_PRETRAIN_H

#include "core/metrics.h"
#include "data/dataset.h"
#include "model/vlm.h"
#include "tune/train_loop.h"

enum { PRETRAIN_MAX_PHASES = TRAIN_MAX_PHASES };

typedef struct {
    char name[32];
    int steps;
    unsigned train_mask; /* bit (1u << pl_module) set for every module that learns */
    float task_weight;   /* answer cross-entropy weight (0: the language side is not run) */
    float aux_weight;    /* per-cell classification weight on the vision tokens */
    float bridge_aux_weight; /* per-cell classification weight on bridge queries 0..3 */
    float lr;            /* peak learning rate */
    int warmup;          /* linear warm-up steps, then cosine to min_lr */
    int has_mix;         /* 1: this phase draws questions with `mix` instead of the data's */
    float mix[QTYPE_COUNT_TYPES];
} train_phase;

typedef struct {
    int batch_size;
    float min_lr, weight_decay, clip, beta1, beta2, eps;
    int log_every, eval_every, eval_samples;
    pl_split eval_split;
    train_precision precision; /* of the linear layers' products (default FP32) */
    int num_phases;
    train_phase phases[PRETRAIN_MAX_PHASES];
} pretrain_config;

/* Sensible defaults for one joint phase of `steps` steps. */
void pretrain_config_default(pretrain_config *cfg, int steps);

/* Trains m in place (m->max_batch >= batch_size), evaluating every eval_every steps and at
 * the end. Fails with PL_ERR_NUMERIC if the loss becomes NaN/inf or diverges. */
pl_status pretrain_run(vlm *m, const pl_data *d, const pretrain_config *cfg,
                       const pl_metrics_sink *sink, pl_error *err);

#endif
