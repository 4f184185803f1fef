/* pretrain.c - the training loop of the pretrain stage (see pretrain.h). */
#include "tune/pretrain.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timing.h"
#include "tune/evaluate.h"
#include "tune/optimizer.h"

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

typedef struct {
    pl_buffer m, v;       /* AdamW moments over the parameter layout */
    int t[MODULE_COUNT];  /* AdamW steps taken per module (bias correction) */
} adam_state;

static int total_steps(const pretrain_config *cfg) {
    int n = 0;
    for (int i = 0; i < cfg->num_phases; i++) n += cfg->phases[i].steps;
    return n;
}

static void format_duration(char *out, size_t cap, double seconds) {
    if (seconds < 0 || !isfinite(seconds)) seconds = 0;
    int s = (int)(seconds + 0.5);
    if (s >= 3600) snprintf(out, cap, "%dh%02dm", s / 3600, (s / 60) % 60);
    else snprintf(out, cap, "%dm%02ds", s / 60, s % 60);
}

/* Clips the trainable gradients to cfg->clip and applies one AdamW step to them. Returns
 * the gradient norm before clipping. */
static double optimizer_step(vlm *model, adam_state *st, const pretrain_config *cfg,
                             const train_phase *ph, float lr) {
    const param_index *pi = &model->index;
    double sq = 0.0;
    for (int i = 0; i < pi->layout.count; i++)
        if (ph->train_mask & (1u << pi->module[i]))
            sq += grad_sum_squares(pl_buffer_view(&model->grads, i), pi->layout.tensors[i].count);
    float factor = cfg->clip > 0 ? grad_clip_factor(sq, cfg->clip) : 1.0f;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        if (ph->train_mask & (1u << mod)) st->t[mod]++;
    for (int i = 0; i < pi->layout.count; i++) {
        if (!(ph->train_mask & (1u << pi->module[i]))) continue;
        size_t n = pi->layout.tensors[i].count;
        float *g = pl_buffer_view(&model->grads, i);
        if (factor != 1.0f) grad_scale(g, n, factor);
        adamw_config ac = {cfg->beta1, cfg->beta2, cfg->eps,
                           pi->decayed[i] ? cfg->weight_decay : 0.0f};
        const float *mask = model->masks.data ? pl_buffer_view(&model->masks, i) : NULL;
        adamw_update(pl_buffer_view(&model->params, i), g, pl_buffer_view(&st->m, i),
                     pl_buffer_view(&st->v, i), pi->prunable[i] ? mask : NULL, n, lr, &ac,
                     st->t[pi->module[i]]);
    }
    return sqrt(sq);
}

static pl_status run_eval(vlm *model, const pl_data *d, const pretrain_config *cfg,
                          const pl_metrics_sink *sink, int64_t step, pl_error *err) {
    eval_result r;
    weight_set w = vlm_weights(model, 1, 0);
    PL_TRY(evaluate_model(model, &w, d, cfg->eval_split, cfg->eval_samples, EVAL_FULL_RECOMPUTE, &r, err));
    PL_TRY(evaluate_report(&r, sink, step, err));
    char line[512];
    int at = snprintf(line, sizeof line, "eval  step %lld on %s: acc %.3f  ce %.3f |",
                      (long long)step, pl_split_name(cfg->eval_split), r.accuracy, r.ce);
    for (int t = 0; t < QTYPE_COUNT_TYPES && at < (int)sizeof line; t++)
        if (r.type_samples[t])
            at += snprintf(line + at, sizeof line - at, " %s %.2f", pl_qtype_name(t),
                           r.type_accuracy[t]);
    pl_metric_progress(sink, line);
    return PL_OK;
}

static pl_status log_step(const pl_metrics_sink *sink, int64_t step, const vlm_losses *loss,
                          float lr, double gnorm, double elapsed, pl_error *err) {
    PL_TRY(pl_metric_step(sink, "loss", step, loss->total, err));
    PL_TRY(pl_metric_step(sink, "loss_task", step, loss->task, err));
    PL_TRY(pl_metric_step(sink, "loss_aux", step, loss->aux, err));
    PL_TRY(pl_metric_step(sink, "loss_bridge_aux", step, loss->bridge_aux, err));
    PL_TRY(pl_metric_step(sink, "lr", step, lr, err));
    PL_TRY(pl_metric_step(sink, "grad_norm", step, gnorm, err));
    return pl_metric_step(sink, "time_s", step, elapsed, err);
}

static pl_status train(vlm *model, const pl_data *d, const pretrain_config *cfg,
                       const pl_metrics_sink *sink, adam_state *st, pl_batch *batch,
                       pl_error *err) {
    const int total = total_steps(cfg);
    const double start = pl_now();
    double window_start = start, loss_window = 0.0;
    int window_steps = 0;
    int64_t step = 0;
    float first_loss = -1.0f;
    for (int phase = 0; phase < cfg->num_phases; phase++) {
        const train_phase *ph = &cfg->phases[phase];
        pl_data view = *d; /* shares the loaded images; only the question mix may differ */
        if (ph->has_mix) memcpy(view.config.mix, ph->mix, sizeof ph->mix);
        vlm_loss_weights lw = {.task_weight = ph->task_weight, .aux_weight = ph->aux_weight, .bridge_aux_weight = ph->bridge_aux_weight};
        for (int k = 0; k < ph->steps; k++, step++) {
            float lr = lr_schedule(k, ph->steps, ph->warmup, ph->lr, cfg->min_lr);
            PL_TRY(pl_data_fill_batch(&view, PL_SPLIT_TRAIN, step * cfg->batch_size,
                                      cfg->batch_size, batch, err));
            vlm_input in = {.images = batch->images, .tokens = batch->tokens, .targets = batch->targets, .cells = batch->cells, .batch = cfg->batch_size};
            weight_set w = vlm_weights(model, 1, 1);
            vlm_zero_grad(model);
            vlm_losses loss = vlm_forward(model, &w, &in, lw);
            if (!isfinite(loss.total))
                return PL_ERROR(err, PL_ERR_NUMERIC,
                                "the training loss became %f at step %lld (phase '%s'); lower "
                                "the learning rate or raise the warm-up",
                                loss.total, (long long)step, ph->name);
            if (first_loss < 0) first_loss = loss.total;
            if (step > 200 && loss.total > 10.0f * first_loss + 10.0f)
                return PL_ERROR(err, PL_ERR_NUMERIC,
                                "the training loss diverged to %.3g at step %lld (it started "
                                "at %.3g); lower the learning rate", loss.total,
                                (long long)step, first_loss);
            vlm_backward(model, &w);
            double gnorm = optimizer_step(model, st, cfg, ph, lr);
            loss_window += loss.total;
            window_steps++;
            double now = pl_now();
            PL_TRY(log_step(sink, step, &loss, lr, gnorm, now - start, err));
            if ((step + 1) % cfg->log_every == 0 || step + 1 == total) {
                double rate = window_steps * cfg->batch_size / (now - window_start);
                char eta[32], line[256];
                format_duration(eta, sizeof eta, (total - step - 1) * cfg->batch_size / rate);
                snprintf(line, sizeof line,
                         "train step %lld/%d [%s] loss %.4f (task %.3f aux %.3f/%.3f) lr %.2e "
                         "gnorm %.2f | %.0f samples/s | ETA %s",
                         (long long)step + 1, total, ph->name, loss_window / window_steps,
                         loss.task, loss.aux, loss.bridge_aux, lr, gnorm, rate, eta);
                pl_metric_progress(sink, line);
                window_start = now, loss_window = 0.0, window_steps = 0;
            }
            int last = step + 1 == total;
            if (ph->task_weight > 0 && cfg->eval_every > 0 &&
                ((step + 1) % cfg->eval_every == 0) && !last)
                PL_TRY(run_eval(model, d, cfg, sink, step + 1, err));
        }
    }
    return run_eval(model, d, cfg, sink, step, err);
}

pl_status pretrain_run(vlm *model, const pl_data *d, const pretrain_config *cfg,
                       const pl_metrics_sink *sink, pl_error *err) {
    if (cfg->batch_size <= 0 || cfg->batch_size > model->max_batch)
        return PL_ERROR(err, PL_ERR_CONFIG, "pretrain.batch_size = %d must be in 1..%d",
                        cfg->batch_size, model->max_batch);
    if (cfg->num_phases < 1 || cfg->num_phases > PRETRAIN_MAX_PHASES)
        return PL_ERROR(err, PL_ERR_CONFIG, "pretrain needs 1 to %d phases, got %d",
                        PRETRAIN_MAX_PHASES, cfg->num_phases);
    if (cfg->log_every <= 0)
        return PL_ERROR(err, PL_ERR_CONFIG, "pretrain.log_every must be positive");
    adam_state st;
    memset(&st, 0, sizeof st);
    pl_batch batch;
    PL_TRY(pl_data_batch_alloc(d, &batch, cfg->batch_size, err));
    pl_status s = pl_buffer_alloc(&st.m, &model->index.layout, err);
    if (s == PL_OK) s = pl_buffer_alloc(&st.v, &model->index.layout, err);
    if (s == PL_OK) s = train(model, d, cfg, sink, &st, &batch, err);
    pl_buffer_free(&st.m);
    pl_buffer_free(&st.v);
    pl_batch_free(&batch);
    return s;
}
