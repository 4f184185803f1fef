/* finetune.c - the recovery loop of the finetune stage (see finetune.h). */
#include "tune/finetune.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timing.h"
#include "model/state_copy.h"
#include "model/state_loss.h"
#include "tune/evaluate.h"
#include "tune/optimizer.h"

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

/* What trains: the adapter factors, or the parameters themselves (masked). */
typedef struct {
    pl_buffer *values, *grads;
    pl_buffer m, v;
    const pl_layout *layout;
} trainable;

static double clip_and_step(vlm *model, trainable *tr, const finetune_config *cfg, float lr, int t) {
    const pl_layout *lay = tr->layout;
    double sq = 0.0;
    for (int i = 0; i < lay->count; i++)
        sq += grad_sum_squares(pl_buffer_view(tr->grads, i), lay->tensors[i].count);
    float factor = cfg->clip > 0 ? grad_clip_factor(sq, cfg->clip) : 1.0f;
    const int full = tr->values == &model->params;
    for (int i = 0; i < lay->count; i++) {
        size_t n = lay->tensors[i].count;
        float *g = pl_buffer_view(tr->grads, i);
        if (factor != 1.0f) grad_scale(g, n, factor);
        /* Full fine-tuning: pruned weights keep a zero gradient, moment and value. */
        const float *mask = (full && model->index.prunable[i] && model->masks.data)
                                ? pl_buffer_view(&model->masks, i) : NULL;
        adamw_config ac = {0.9f, 0.999f, 1e-8f,
                           (!full || model->index.decayed[i]) ? cfg->weight_decay : 0.0f};
        adamw_update(pl_buffer_view(tr->values, i), g, pl_buffer_view(&tr->m, i),
                     pl_buffer_view(&tr->v, i), mask, n, lr, &ac, t);
    }
    return sqrt(sq);
}

/* The state terms are logged only when on: a weight of 0 does not compute them. */
static pl_status log_step(const pl_metrics_sink *sink, const finetune_config *cfg, int64_t step,
                          const vlm_losses *l, float lr, double gnorm, double elapsed,
                          pl_error *err) {
    PL_TRY(pl_metric_step(sink, "loss", step, l->total, err));
    PL_TRY(pl_metric_step(sink, "loss_task", step, l->task, err));
    PL_TRY(pl_metric_step(sink, "loss_kd", step, l->kd, err));
    if (cfg->hidden_weight > 0.0f) PL_TRY(pl_metric_step(sink, "loss_hidden", step, l->hidden, err));
    if (cfg->attn_weight > 0.0f) PL_TRY(pl_metric_step(sink, "loss_attn", step, l->attn, err));
    PL_TRY(pl_metric_step(sink, "lr", step, lr, err));
    PL_TRY(pl_metric_step(sink, "grad_norm", step, gnorm, err));
    return pl_metric_step(sink, "time_s", step, elapsed, err);
}

/* The loss parts for the progress line: "task 0.812 kd 0.104", then the state terms when on. */
static void loss_parts(char *buf, size_t cap, const vlm_losses *l, const finetune_config *cfg) {
    int n = snprintf(buf, cap, "task %.3f kd %.3f", l->task, l->kd);
    if (cfg->hidden_weight > 0.0f && n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, " hidden %.3g", l->hidden);
    if (cfg->attn_weight > 0.0f && n >= 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, " attn %.3g", l->attn);
}

/* The teacher's pass and what it leaves for the student's. The default teacher runs through
 * the model's own activation buffers, so its logits and states are copied out first; a
 * teacher model (a checkpoint, or distill's full-depth teacher) runs through its own buffers
 * and the student reads them in place. */
typedef struct {
    int active;           /* the loss has a teacher term */
    vlm *model;           /* the model whose buffers the teacher's pass uses */
    pl_buffer copy;       /* masked full fine-tuning: the parameters before training */
    weight_set weights;
    float *logits;        /* own buffers: the teacher's logits; shared: [max_batch, L, V] copy */
    vlm_state_copy states; /* shared buffers: block outputs / attention maps when w_h / w_a > 0 */
    vlm_states view;      /* own buffers: the teacher's states in place */
    vlm_layer_map map;    /* student block -> teacher block (identity unless cfg->layer_map) */
} teacher_state;

static pl_status teacher_setup(teacher_state *ts, vlm *m, vlm *teacher,
                               const finetune_config *cfg, pl_error *err) {
    memset(ts, 0, sizeof *ts);
    ts->active = finetune_uses_teacher(cfg);
    if (!ts->active) return PL_OK;
    const int states = cfg->hidden_weight > 0.0f || cfg->attn_weight > 0.0f;
    if (cfg->layer_map != NULL) ts->map = *cfg->layer_map;
    else vlm_layer_map_identity(&ts->map, &m->cfg);
    if (teacher != NULL) {
        if (teacher->max_batch < cfg->batch_size)
            return PL_ERROR(err, PL_ERR_INVALID, "the teacher holds %d rows, the batch is %d",
                            teacher->max_batch, cfg->batch_size);
        const model_config *t = &teacher->cfg, *s = &m->cfg;
        if (t->vocab_size != s->vocab_size || t->text_len != s->text_len ||
            t->num_queries != s->num_queries || t->image_size != s->image_size ||
            t->patch_size != s->patch_size || t->aux_classes != s->aux_classes)
            return PL_ERROR(err, PL_ERR_CONFIG, "the teacher's image or patch size, vocabulary, "
                            "text length, query count or cell classes differ from the student's: "
                            "it cannot read the same inputs and answer in the same words");
        if (states)
            PL_TRY(state_loss_check(&ts->map, &m->cfg, &teacher->cfg, cfg->hidden_weight > 0.0f,
                                    cfg->attn_weight > 0.0f, err));
        ts->model = teacher;
        ts->weights = vlm_weights(teacher, 0, 0); /* unmasked, no adapters */
        ts->logits = teacher->logits;
        vlm_states_of(&ts->view, teacher);
        return PL_OK;
    }
    ts->model = m;
    if (cfg->lambda > 0.0f) {
        const size_t logits = (size_t)m->max_batch * model_lm_len(&m->cfg) * m->cfg.vocab_size;
        ts->logits = pl_alloc(logits, sizeof(float), err);
        if (ts->logits == NULL) return PL_ERR_NOMEM;
    }
    if (states)
        PL_TRY(vlm_state_copy_alloc(&ts->states, m, cfg->hidden_weight > 0.0f,
                                    cfg->attn_weight > 0.0f, err));
    ts->weights = vlm_weights(m, 0, 0); /* unmasked, no adapters */
    if (cfg->adapter == ADAPTER_NONE) {
        PL_TRY(pl_buffer_alloc(&ts->copy, &m->index.layout, err));
        memcpy(ts->copy.data, m->params.data, m->index.layout.total * sizeof(float));
        ts->weights.params = &ts->copy;
    }
    return PL_OK;
}

static pl_status train(vlm *m, const pl_data *d, const finetune_config *cfg, trainable *tr,
                       weight_set *student, teacher_state *ts, const pl_metrics_sink *sink,
                       pl_error *err) {
    pl_batch batch;
    PL_TRY(pl_data_batch_alloc(d, &batch, cfg->batch_size, err));
    const size_t logit_floats = (size_t)cfg->batch_size * model_lm_len(&m->cfg) * m->cfg.vocab_size;
    const double start = pl_now();
    double window = start;
    pl_status st = PL_OK;
    for (int step = 0; step < cfg->steps && st == PL_OK; step++) {
        float lr = lr_schedule(step, cfg->steps, cfg->warmup, cfg->lr, cfg->min_lr);
        st = pl_data_fill_batch(d, PL_SPLIT_TRAIN, cfg->first_sample + (int64_t)step * cfg->batch_size,
                                cfg->batch_size, &batch, err);
        if (st != PL_OK) break;
        vlm_input in = {.images = batch.images, .tokens = batch.tokens, .targets = batch.targets,
                        .batch = cfg->batch_size};
        if (ts->active) {
            vlm_forward(ts->model, &ts->weights, &in, (vlm_loss_weights){.task_weight = 1.0f});
            if (ts->model != m) { /* its own buffers: read in place */
                in.teacher_logits = ts->logits;
                in.teacher_states = &ts->view;
                in.layer_map = &ts->map;
            } else {
                if (ts->logits != NULL) {
                    memcpy(ts->logits, m->logits, logit_floats * sizeof(float));
                    in.teacher_logits = ts->logits;
                }
                if (ts->states.mem != NULL) {
                    vlm_state_copy_take(&ts->states, m, cfg->batch_size);
                    in.teacher_states = &ts->states.view;
                    in.layer_map = &ts->map;
                }
            }
        }
        pl_buffer_zero(tr->grads);
        vlm_loss_weights lw = {.task_weight = 1.0f - cfg->lambda, .kd_weight = cfg->lambda,
                               .temperature = cfg->temperature,
                               .hidden_weight = cfg->hidden_weight,
                               .attn_weight = cfg->attn_weight};
        vlm_losses loss = vlm_forward(m, student, &in, lw);
        if (!isfinite(loss.total)) {
            st = PL_ERROR(err, PL_ERR_NUMERIC, "the fine-tuning loss became %f at step %d; lower "
                          "finetune.lr", loss.total, step);
            break;
        }
        vlm_backward(m, student);
        double gnorm = clip_and_step(m, tr, cfg, lr, step + 1);
        st = log_step(sink, cfg, step, &loss, lr, gnorm, pl_now() - start, err);
        if (st == PL_OK && ((step + 1) % cfg->log_every == 0 || step + 1 == cfg->steps)) {
            double now = pl_now();
            char parts[128], line[320];
            loss_parts(parts, sizeof parts, &loss, cfg);
            snprintf(line, sizeof line, "finetune step %d/%d loss %.4f (%s) lr %.2e | %.0f samples/s",
                     step + 1, cfg->steps, loss.total, parts, lr,
                     cfg->log_every * cfg->batch_size / (now - window));
            pl_metric_progress(sink, line);
            window = now;
        }
        if (st == PL_OK && cfg->eval_every > 0 && (step + 1) % cfg->eval_every == 0 && step + 1 < cfg->steps) {
            eval_result r;
            st = evaluate_model(m, student, d, cfg->eval_split, cfg->eval_samples,
                                EVAL_FULL_RECOMPUTE, &r, err);
            if (st == PL_OK) st = evaluate_report(&r, sink, step + 1, err);
        }
    }
    pl_batch_free(&batch);
    return st;
}

pl_status finetune_run(vlm *m, vlm *teacher, const pl_data *d, const finetune_config *cfg,
                       adapter_set *adapters, const pl_metrics_sink *sink, pl_error *err) {
    if (cfg->batch_size <= 0 || cfg->batch_size > m->max_batch)
        return PL_ERROR(err, PL_ERR_CONFIG, "finetune.batch_size = %d must be in 1..%d",
                        cfg->batch_size, m->max_batch);
    if (!(cfg->lambda >= 0.0f && cfg->lambda <= 1.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "finetune.lambda = %g must be in [0, 1]", (double)cfg->lambda);
    if (!(cfg->hidden_weight >= 0.0f && cfg->attn_weight >= 0.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "finetune.hidden_weight = %g and attn_weight = %g must "
                        "be >= 0", (double)cfg->hidden_weight, (double)cfg->attn_weight);
    PL_TRY(vlm_enable_weff(m, err));
    trainable tr;
    memset(&tr, 0, sizeof tr);
    weight_set student = vlm_weights(m, 1, cfg->adapter == ADAPTER_NONE);
    if (cfg->adapter == ADAPTER_NONE) {
        tr.values = &m->params, tr.grads = &m->grads, tr.layout = &m->index.layout;
    } else {
        PL_TRY(adapters_create(adapters, &m->index, cfg->adapter, &cfg->adapters, cfg->seed, err));
        const pl_status restricted = adapters_restrict(adapters, &m->index, &m->cfg, &m->units, err);
        if (restricted != PL_OK) {
            adapters_free(adapters);
            return restricted;
        }
        tr.values = &adapters->values, tr.grads = &adapters->grads, tr.layout = &adapters->layout;
        student.adapters = adapters;
        student.adapter_grads = &adapters->grads;
    }
    teacher_state ts;
    pl_status st = teacher_setup(&ts, m, teacher, cfg, err);
    if (st == PL_OK) st = pl_buffer_alloc(&tr.m, tr.layout, err);
    if (st == PL_OK) st = pl_buffer_alloc(&tr.v, tr.layout, err);
    if (st == PL_OK) st = train(m, d, cfg, &tr, &student, &ts, sink, err);
    pl_buffer_free(&tr.m);
    pl_buffer_free(&tr.v);
    pl_buffer_free(&ts.copy);
    if (ts.model == m) pl_free(ts.logits); /* else the teacher's own buffer */
    vlm_state_copy_free(&ts.states);
    if (st != PL_OK && cfg->adapter != ADAPTER_NONE) adapters_free(adapters);
    return st;
}
