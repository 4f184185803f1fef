/* pretrain.c - the pretrain stage's schedule for the shared training loop (see pretrain.h):
 * its phases, every parameter training, an evaluation at the end. */
#include "tune/pretrain.h"

#include <stdio.h>
#include <string.h>

#include "tune/train_loop.h"

void pretrain_config_default(pretrain_config *cfg, int steps) {
    memset(cfg, 0, sizeof *cfg);
    cfg->batch_size = 32;
    cfg->min_lr = 1e-4f;
    cfg->weight_decay = 0.01f;
    cfg->clip = 1.0f;
    cfg->beta1 = 0.9f, cfg->beta2 = 0.999f, cfg->eps = 1e-8f;
    cfg->log_every = 50;
    cfg->eval_every = 500;
    cfg->eval_samples = 500;
    cfg->eval_split = PL_SPLIT_VAL;
    cfg->num_phases = 1;
    train_phase *p = &cfg->phases[0];
    snprintf(p->name, sizeof p->name, "joint");
    p->steps = steps;
    p->train_mask = (1u << MODULE_VISION) | (1u << MODULE_BRIDGE) | (1u << MODULE_LANGUAGE);
    p->task_weight = 1.0f;
    p->aux_weight = 0.0f;
    p->lr = 2e-3f;
    p->warmup = 100;
}

/* The phases as the loop runs them: every phase's loss weights, mix and modules. */
static void schedule_of(const pretrain_config *cfg, train_schedule *s) {
    memset(s, 0, sizeof *s);
    s->stage = "pretrain";
    s->precision = cfg->precision;
    s->batch_size = cfg->batch_size;
    s->min_lr = cfg->min_lr, s->clip = cfg->clip;
    s->adam = (adamw_config){cfg->beta1, cfg->beta2, cfg->eps, cfg->weight_decay};
    s->first_sample = 0;
    s->log_every = cfg->log_every;
    s->eval_every = cfg->eval_every, s->eval_samples = cfg->eval_samples;
    s->eval_split = cfg->eval_split;
    s->eval_at_end = 1;
    s->log_parts = TRAIN_LOG_AUX;
    s->num_phases = cfg->num_phases;
    for (int i = 0; i < cfg->num_phases && i < TRAIN_MAX_PHASES; i++) {
        const train_phase *ph = &cfg->phases[i];
        s->phases[i] = (train_loop_phase){
            .name = ph->name, .steps = ph->steps, .warmup = ph->warmup, .lr = ph->lr,
            .train_mask = ph->train_mask,
            .loss = {.task_weight = ph->task_weight, .aux_weight = ph->aux_weight,
                     .bridge_aux_weight = ph->bridge_aux_weight},
            .mix = ph->has_mix ? ph->mix : NULL};
    }
}

pl_status pretrain_run(vlm *model, const pl_data *d, const pretrain_config *cfg,
                       const pl_metrics_sink *sink, pl_error *err) {
    if (cfg->num_phases < 1 || cfg->num_phases > PRETRAIN_MAX_PHASES)
        return PL_ERROR(err, PL_ERR_CONFIG, "pretrain needs 1 to %d phases, got %d",
                        PRETRAIN_MAX_PHASES, cfg->num_phases);
    train_schedule s;
    schedule_of(cfg, &s);
    train_target target;
    PL_TRY(train_target_params(&target, model, err));
    const weight_set w = vlm_weights(model, 1, 1);
    const pl_status rc = train_loop_run(model, &w, &target, &s, NULL, d, sink, err);
    train_target_free(&target);
    return rc;
}
