/* finetune.c - the finetune (and distill) schedule for the shared training loop: one phase,
 * what trains (adapter factors or every parameter) and the teacher's pass as its hook. */
#include "tune/finetune.h"

#include <string.h>

#include "tune/teacher.h"
#include "tune/train_loop.h"

void finetune_config_default(finetune_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->adapter = ADAPTER_SPARSELORA;
    cfg->adapters = (adapter_config){.rank = {4, 2, 8}, .alpha = 16.0f, .modules = 7u,
                                     .layer_kinds = LAYER_ALL};
    cfg->steps = 500, cfg->batch_size = 32, cfg->warmup = 50;
    cfg->log_every = 50, cfg->eval_every = 0, cfg->eval_samples = 500;
    cfg->lr = 1e-3f, cfg->min_lr = 1e-5f, cfg->weight_decay = 0.0f, cfg->clip = 1.0f;
    cfg->lambda = 0.1f, cfg->temperature = 1.0f;
    cfg->eval_split = PL_SPLIT_VAL;
    cfg->first_sample = (int64_t)1 << 40; /* far from the samples pretraining saw first */
}

int finetune_uses_teacher(const finetune_config *cfg) {
    return cfg->lambda > 0.0f || cfg->hidden_weight > 0.0f || cfg->attn_weight > 0.0f;
}

/* One phase: every module's tensors step, the finetune loss throughout. */
static void schedule_of(const finetune_config *cfg, const char *stage, train_schedule *s) {
    memset(s, 0, sizeof *s);
    s->stage = stage;
    s->precision = cfg->precision;
    s->batch_size = cfg->batch_size;
    s->min_lr = cfg->min_lr, s->clip = cfg->clip;
    s->adam = (adamw_config){0.9f, 0.999f, 1e-8f, cfg->weight_decay};
    s->first_sample = cfg->first_sample;
    s->sample_budget = cfg->train_samples;
    s->log_every = cfg->log_every;
    s->eval_every = cfg->eval_every, s->eval_samples = cfg->eval_samples;
    s->eval_split = cfg->eval_split;
    s->log_parts = TRAIN_LOG_KD;
    s->num_phases = 1;
    s->phases[0] = (train_loop_phase){
        .name = stage, .steps = cfg->steps, .warmup = cfg->warmup, .lr = cfg->lr,
        .train_mask = (1u << MODULE_VISION) | (1u << MODULE_BRIDGE) | (1u << MODULE_LANGUAGE),
        .loss = {.task_weight = 1.0f - cfg->lambda, .kd_weight = cfg->lambda,
                 .temperature = cfg->temperature, .hidden_weight = cfg->hidden_weight,
                 .attn_weight = cfg->attn_weight}};
}

/* The teacher's pass and a stage's own hooks as one hook set. */
typedef struct {
    train_teacher *teacher;   /* NULL: no teacher term */
    const train_hooks *extra; /* NULL: none */
    pl_buffer *weight_grads;  /* zeroed before each step when computed (cfg->weight_grads) */
} hook_chain;

static pl_status chain_before(void *ctx, vlm_input *in, int64_t step, pl_error *err) {
    hook_chain *c = ctx;
    if (c->weight_grads != NULL) pl_buffer_zero(c->weight_grads);
    if (c->teacher != NULL) PL_TRY(train_teacher_before_forward(c->teacher, in, step, err));
    if (c->extra != NULL && c->extra->before_forward != NULL)
        return c->extra->before_forward(c->extra->ctx, in, step, err);
    return PL_OK;
}

static pl_status chain_backward(void *ctx, int64_t step, vlm_losses *loss, pl_error *err) {
    const hook_chain *c = ctx;
    if (c->extra != NULL && c->extra->after_backward != NULL)
        return c->extra->after_backward(c->extra->ctx, step, loss, err);
    return PL_OK;
}

static pl_status chain_step(void *ctx, int64_t step, pl_error *err) {
    const hook_chain *c = ctx;
    if (c->extra != NULL && c->extra->after_step != NULL)
        return c->extra->after_step(c->extra->ctx, step, err);
    return PL_OK;
}

pl_status finetune_run(vlm *m, vlm *teacher, const pl_data *d, const finetune_config *cfg,
                       adapter_set *adapters, const pl_metrics_sink *sink, pl_error *err) {
    const char *stage = cfg->stage != NULL ? cfg->stage : "finetune";
    if (cfg->batch_size <= 0 || cfg->batch_size > m->max_batch)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s.batch_size = %d must be in 1..%d", stage,
                        cfg->batch_size, m->max_batch);
    if (!(cfg->lambda >= 0.0f && cfg->lambda <= 1.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "%s.lambda = %g must be in [0, 1]", stage,
                        (double)cfg->lambda);
    if (!(cfg->hidden_weight >= 0.0f && cfg->attn_weight >= 0.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "%s.hidden_weight = %g and attn_weight = %g must "
                        "be >= 0", stage, (double)cfg->hidden_weight, (double)cfg->attn_weight);
    PL_TRY(vlm_enable_weff(m, err));
    train_target target;
    const int weight_grads = cfg->adapter != ADAPTER_NONE && cfg->weight_grads;
    weight_set student = vlm_weights(m, 1, cfg->adapter == ADAPTER_NONE || weight_grads);
    student.gates = cfg->gates;
    if (cfg->adapter == ADAPTER_NONE) {
        PL_TRY(train_target_params(&target, m, err));
    } else {
        PL_TRY(adapters_create(adapters, &m->index, cfg->adapter, &cfg->adapters, cfg->seed, err));
        pl_status rc = adapters_restrict(adapters, &m->index, &m->cfg, &m->units, err);
        if (rc == PL_OK) rc = train_target_adapters(&target, adapters, &m->index, err);
        if (rc != PL_OK) {
            adapters_free(adapters);
            return rc;
        }
        student.adapters = adapters;
        student.adapter_grads = &adapters->grads;
    }
    train_schedule s;
    schedule_of(cfg, stage, &s);
    train_teacher ts;
    memset(&ts, 0, sizeof ts);
    const int uses_teacher = finetune_uses_teacher(cfg);
    hook_chain chain = {.teacher = uses_teacher ? &ts : NULL, .extra = cfg->hooks,
                        .weight_grads = weight_grads ? &m->grads : NULL};
    const train_hooks hooks = {.ctx = &chain, .before_forward = chain_before,
                               .after_backward = chain_backward, .after_step = chain_step};
    const int hooked = uses_teacher || cfg->hooks != NULL || weight_grads;
    pl_status rc = PL_OK;
    if (uses_teacher) {
        const teacher_needs needs = {.logits = cfg->lambda > 0.0f,
                                     .hidden = cfg->hidden_weight > 0.0f,
                                     .attn = cfg->attn_weight > 0.0f,
                                     .params_train = cfg->adapter == ADAPTER_NONE,
                                     .batch_size = cfg->batch_size,
                                     .layer_map = cfg->layer_map};
        rc = train_teacher_setup(&ts, m, teacher, &needs, err);
    }
    if (rc == PL_OK)
        rc = train_loop_run(m, &student, &target, &s, hooked ? &hooks : NULL, d, sink, err);
    if (uses_teacher) train_teacher_free(&ts);
    train_target_free(&target);
    if (rc != PL_OK && cfg->adapter != ADAPTER_NONE) adapters_free(adapters);
    return rc;
}
