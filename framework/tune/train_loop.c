/* train_loop.c - the shared training loop (see train_loop.h). */
#include "tune/train_loop.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timing.h"
#include "tune/evaluate.h"

/* ---- what trains ---------------------------------------------------------------------- */

static pl_status target_alloc(train_target *t, int count, pl_error *err) {
    t->module = pl_alloc((size_t)count, 1, err);
    t->decayed = pl_alloc((size_t)count, 1, err);
    t->mask = pl_alloc((size_t)count, sizeof *t->mask, err);
    if (t->module == NULL || t->decayed == NULL || t->mask == NULL) {
        train_target_free(t);
        return PL_ERR_NOMEM;
    }
    return PL_OK;
}

pl_status train_target_params(train_target *t, vlm *m, pl_error *err) {
    memset(t, 0, sizeof *t);
    const param_index *pi = &m->index;
    PL_TRY(target_alloc(t, pi->layout.count, err));
    t->values = &m->params, t->grads = &m->grads, t->layout = &pi->layout;
    for (int i = 0; i < pi->layout.count; i++) {
        t->module[i] = pi->module[i];
        t->decayed[i] = pi->decayed[i];
        t->mask[i] = (pi->prunable[i] && m->masks.data) ? pl_buffer_view(&m->masks, i) : NULL;
    }
    return PL_OK;
}

pl_status train_target_adapters(train_target *t, adapter_set *a, const param_index *pi,
                                pl_error *err) {
    memset(t, 0, sizeof *t);
    PL_TRY(target_alloc(t, a->layout.count, err));
    t->values = &a->values, t->grads = &a->grads, t->layout = &a->layout;
    memset(t->decayed, 1, (size_t)a->layout.count);
    for (int p = 0; p < a->param_count; p++) {
        if (a->a_of[p] >= 0) t->module[a->a_of[p]] = pi->module[p];
        if (a->b_of[p] >= 0) t->module[a->b_of[p]] = pi->module[p];
    }
    return PL_OK;
}

void train_target_free(train_target *t) {
    pl_free(t->module);
    pl_free(t->decayed);
    pl_free((void *)t->mask);
    t->module = t->decayed = NULL;
    t->mask = NULL;
}

/* ---- one optimizer step --------------------------------------------------------------- */

typedef struct {
    pl_buffer m, v;      /* AdamW moments over the target's layout */
    int t[MODULE_COUNT]; /* AdamW steps taken per module (bias correction) */
    adamw_tensor *step;  /* the tensors one optimizer step updates (layout count) */
    double *partials;    /* the gradient norm's partial sums (every tensor's chunks) */
} adam_state;

/* Clips the gradients of the tensors in ph's modules to s->clip and applies one AdamW step
 * to them, all in two parallel regions (tune/optimizer.h). Returns the gradient norm before
 * clipping. */
static double optimizer_step(const train_target *tg, adam_state *st, const train_schedule *s,
                             const train_loop_phase *ph, float lr) {
    const pl_layout *lay = tg->layout;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        if (ph->train_mask & (1u << mod)) st->t[mod]++;
    int count = 0;
    for (int i = 0; i < lay->count; i++) {
        if (!(ph->train_mask & (1u << tg->module[i]))) continue;
        st->step[count++] = (adamw_tensor){
            .param = pl_buffer_view(tg->values, i), .grad = pl_buffer_view(tg->grads, i),
            .m = pl_buffer_view(&st->m, i), .v = pl_buffer_view(&st->v, i), .mask = tg->mask[i],
            .n = lay->tensors[i].count, .weight_decay = tg->decayed[i] ? s->adam.weight_decay : 0.0f,
            .t = st->t[tg->module[i]]};
    }
    const double sq = grad_sum_squares_many(st->step, count, st->partials);
    const float factor = s->clip > 0 ? grad_clip_factor(sq, s->clip) : 1.0f;
    adamw_update_many(st->step, count, factor, lr, &s->adam);
    return sqrt(sq);
}

/* The optimizer's state and scratch for a target's layout. */
static pl_status adam_state_alloc(adam_state *st, const train_target *tg, pl_error *err) {
    memset(st, 0, sizeof *st);
    const pl_layout *lay = tg->layout;
    PL_TRY(pl_buffer_alloc(&st->m, lay, err));
    PL_TRY(pl_buffer_alloc(&st->v, lay, err));
    if ((st->step = pl_alloc((size_t)lay->count + 1, sizeof *st->step, err)) == NULL) return PL_ERR_NOMEM;
    /* Room for the norm's partial sums when every tensor trains (any phase needs fewer). */
    for (int i = 0; i < lay->count; i++) st->step[i].n = lay->tensors[i].count;
    const size_t chunks = grad_sum_squares_chunks(st->step, lay->count);
    if ((st->partials = pl_alloc(chunks + 1, sizeof *st->partials, err)) == NULL) return PL_ERR_NOMEM;
    return PL_OK;
}

static void adam_state_free(adam_state *st) {
    pl_buffer_free(&st->m);
    pl_buffer_free(&st->v);
    pl_free(st->step);
    pl_free(st->partials);
}

/* ---- logging -------------------------------------------------------------------------- */

void train_format_duration(char *out, size_t cap, double seconds) {
    if (seconds < 0 || !isfinite(seconds)) seconds = 0;
    const int sec = (int)(seconds + 0.5);
    if (sec >= 3600) snprintf(out, cap, "%dh%02dm", sec / 3600, (sec / 60) % 60);
    else snprintf(out, cap, "%dm%02ds", sec / 60, sec % 60);
}

/* The 1-based pass over the sample budget that step s's first sample belongs to. */
static int64_t epoch_of(const train_schedule *s, int64_t step) {
    return step * s->batch_size / s->sample_budget + 1;
}

static pl_status log_step(const pl_metrics_sink *sink, const train_schedule *s,
                          const train_loop_phase *ph, int64_t step, const vlm_losses *l,
                          float lr, double gnorm, double elapsed, pl_error *err) {
    PL_TRY(pl_metric_step(sink, "loss", step, l->total, err));
    PL_TRY(pl_metric_step(sink, "loss_task", step, l->task, err));
    if (s->log_parts & TRAIN_LOG_AUX) {
        PL_TRY(pl_metric_step(sink, "loss_aux", step, l->aux, err));
        PL_TRY(pl_metric_step(sink, "loss_bridge_aux", step, l->bridge_aux, err));
    }
    if (s->log_parts & TRAIN_LOG_KD) PL_TRY(pl_metric_step(sink, "loss_kd", step, l->kd, err));
    if (ph->loss.hidden_weight > 0.0f) PL_TRY(pl_metric_step(sink, "loss_hidden", step, l->hidden, err));
    if (ph->loss.attn_weight > 0.0f) PL_TRY(pl_metric_step(sink, "loss_attn", step, l->attn, err));
    if (s->sample_budget > 0)
        PL_TRY(pl_metric_step(sink, "epoch", step, (double)epoch_of(s, step), err));
    PL_TRY(pl_metric_step(sink, "lr", step, lr, err));
    PL_TRY(pl_metric_step(sink, "grad_norm", step, gnorm, err));
    return pl_metric_step(sink, "time_s", step, elapsed, err);
}

/* The loss parts of a progress line: "task 0.812 aux 0.10/0.20", "task 0.812 kd 0.104 hidden
 * 0.01", as the schedule logs them. */
static void loss_parts(char *buf, size_t cap, const train_schedule *s, const train_loop_phase *ph,
                       const vlm_losses *l) {
    size_t n = 0;
#define PART(...)                                                           \
    do {                                                                    \
        int w = n < cap ? snprintf(buf + n, cap - n, __VA_ARGS__) : 0;      \
        if (w > 0) n += (size_t)w;                                          \
    } while (0)
    PART("task %.3f", l->task);
    if (s->log_parts & TRAIN_LOG_AUX) PART(" aux %.3f/%.3f", l->aux, l->bridge_aux);
    if (s->log_parts & TRAIN_LOG_KD) PART(" kd %.3f", l->kd);
    if (ph->loss.hidden_weight > 0.0f) PART(" hidden %.3g", l->hidden);
    if (ph->loss.attn_weight > 0.0f) PART(" attn %.3g", l->attn);
#undef PART
}

static pl_status run_eval(vlm *m, const weight_set *w, const pl_data *d, const train_schedule *s,
                          const pl_metrics_sink *sink, int64_t step, pl_error *err) {
    eval_result r;
    PL_TRY(evaluate_model(m, w, d, s->eval_split, s->eval_samples, EVAL_FULL_RECOMPUTE, &r, err));
    PL_TRY(evaluate_report(&r, sink, step, err));
    char line[512];
    int at = snprintf(line, sizeof line, "eval  step %lld on %s: acc %.3f  ce %.3f |",
                      (long long)step, pl_split_name(s->eval_split), r.accuracy, r.ce);
    for (int t = 0; t < QTYPE_COUNT_TYPES && at > 0 && at < (int)sizeof line; t++)
        if (r.type_samples[t])
            at += snprintf(line + at, sizeof line - (size_t)at, " %s %.2f", pl_qtype_name(t),
                           r.type_accuracy[t]);
    pl_metric_progress(sink, line);
    return PL_OK;
}

/* ---- the loop ------------------------------------------------------------------------- */

static int total_steps(const train_schedule *s) {
    int n = 0;
    for (int i = 0; i < s->num_phases; i++) n += s->phases[i].steps;
    return n;
}

typedef struct { /* what one run of the loop carries from step to step */
    double start, window_start, loss_window;
    int window_steps;
    float first_loss;
} loop_clock;

/* The loss of a step is finite and has not run away from the first one. */
static pl_status check_loss(const train_schedule *s, const train_loop_phase *ph, int64_t step,
                            float loss, loop_clock *c, pl_error *err) {
    if (!isfinite(loss))
        return PL_ERROR(err, PL_ERR_NUMERIC,
                        "the training loss became %f at step %lld (%s phase '%s'); lower "
                        "%s.lr or raise its warm-up", loss, (long long)step, s->stage, ph->name,
                        s->stage);
    if (c->first_loss < 0) c->first_loss = loss;
    if (step > 200 && loss > 10.0f * c->first_loss + 10.0f)
        return PL_ERROR(err, PL_ERR_NUMERIC,
                        "the training loss diverged to %.3g at step %lld (it started at %.3g); "
                        "lower %s.lr", loss, (long long)step, c->first_loss, s->stage);
    return PL_OK;
}

/* The BF16 products of the last pass all ran (a set without them always did). */
static pl_status check_bf16(const weight_set *w, const train_schedule *s, int64_t step,
                            const char *pass, pl_error *err) {
    if (w->bf16 == NULL || ws_bf16_status(w->bf16, err) == PL_OK) return PL_OK;
    return pl_error_wrap(err, "%s step %lld, %s", s->stage, (long long)step, pass);
}

static void progress_line(const train_schedule *s, const train_loop_phase *ph, int64_t step,
                          int total, const vlm_losses *loss, float lr, double gnorm, double now,
                          loop_clock *c, const pl_metrics_sink *sink) {
    const double rate = c->window_steps * s->batch_size / (now - c->window_start);
    char eta[32], parts[160], line[384];
    train_format_duration(eta, sizeof eta, (double)(total - step - 1) * s->batch_size / rate);
    loss_parts(parts, sizeof parts, s, ph, loss);
    char phase[64] = "";
    int at = 0;
    if (s->num_phases > 1) at = snprintf(phase, sizeof phase, " [%s]", ph->name);
    if (s->sample_budget > 0 && at >= 0 && at < (int)sizeof phase)
        snprintf(phase + at, sizeof phase - (size_t)at, " epoch %lld", (long long)epoch_of(s, step));
    snprintf(line, sizeof line,
             "%s step %lld/%d%s loss %.4f (%s) lr %.2e gnorm %.2f | %.0f samples/s | ETA %s",
             s->stage, (long long)step + 1, total, phase, c->loss_window / c->window_steps, parts,
             lr, gnorm, rate, eta);
    pl_metric_progress(sink, line);
    c->window_start = now, c->loss_window = 0.0, c->window_steps = 0;
}

static pl_status train(vlm *m, const weight_set *w, train_target *tg, adam_state *st,
                       const train_schedule *s, const train_hooks *hooks, const pl_data *d,
                       pl_batch *batch, const pl_metrics_sink *sink, pl_error *err) {
    const int total = total_steps(s);
    weight_set w_eval = *w; /* evaluations run in FP32 */
    w_eval.bf16 = NULL;
    loop_clock clock = {.start = pl_now(), .first_loss = -1.0f};
    clock.window_start = clock.start;
    int64_t step = 0;
    for (int p = 0; p < s->num_phases; p++) {
        const train_loop_phase *ph = &s->phases[p];
        pl_data view = *d; /* shares the loaded images; only the question mix may differ */
        if (ph->mix != NULL) memcpy(view.config.mix, ph->mix, sizeof view.config.mix);
        for (int k = 0; k < ph->steps; k++, step++) {
            const float lr = lr_schedule(k, ph->steps, ph->warmup, ph->lr, s->min_lr);
            if (s->sample_budget > 0)
                PL_TRY(pl_data_fill_batch_cyclic(&view, PL_SPLIT_TRAIN, s->first_sample,
                                                 s->sample_budget,
                                                 step * s->batch_size % s->sample_budget,
                                                 s->batch_size, batch, err));
            else
                PL_TRY(pl_data_fill_batch(&view, PL_SPLIT_TRAIN, s->first_sample + step * s->batch_size,
                                          s->batch_size, batch, err));
            vlm_input in = {.images = batch->images, .tokens = batch->tokens,
                            .targets = batch->targets, .cells = batch->cells,
                            .batch = s->batch_size};
            if (hooks && hooks->before_forward)
                PL_TRY(hooks->before_forward(hooks->ctx, &in, step, err));
            pl_buffer_zero(tg->grads);
            vlm_losses loss = vlm_forward(m, w, &in, ph->loss);
            /* A failed BF16 product leaves its output unspecified: report it, not the loss. */
            PL_TRY(check_bf16(w, s, step, "forward", err));
            PL_TRY(check_loss(s, ph, step, loss.total, &clock, err));
            vlm_backward(m, w);
            PL_TRY(check_bf16(w, s, step, "backward", err));
            if (hooks && hooks->after_backward)
                PL_TRY(hooks->after_backward(hooks->ctx, step, &loss, err));
            const double gnorm = optimizer_step(tg, st, s, ph, lr);
            if (hooks && hooks->after_step) PL_TRY(hooks->after_step(hooks->ctx, step, err));
            clock.loss_window += loss.total;
            clock.window_steps++;
            const double now = pl_now();
            PL_TRY(log_step(sink, s, ph, step, &loss, lr, gnorm, now - clock.start, err));
            const int last = step + 1 == total;
            if ((step + 1) % s->log_every == 0 || last)
                progress_line(s, ph, step, total, &loss, lr, gnorm, now, &clock, sink);
            const int scores_answers = ph->loss.task_weight > 0 || ph->loss.kd_weight > 0;
            if (scores_answers && s->eval_every > 0 && (step + 1) % s->eval_every == 0 && !last)
                PL_TRY(run_eval(m, &w_eval, d, s, sink, step + 1, err));
        }
    }
    return s->eval_at_end ? run_eval(m, &w_eval, d, s, sink, step, err) : PL_OK;
}

pl_status train_loop_run(vlm *m, const weight_set *w, train_target *target,
                         const train_schedule *s, const train_hooks *hooks, const pl_data *d,
                         const pl_metrics_sink *sink, pl_error *err) {
    if (s->batch_size <= 0 || s->batch_size > m->max_batch)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s.batch_size = %d must be in 1..%d", s->stage,
                        s->batch_size, m->max_batch);
    if (s->num_phases < 1 || s->num_phases > TRAIN_MAX_PHASES)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s needs 1 to %d phases, got %d", s->stage,
                        TRAIN_MAX_PHASES, s->num_phases);
    if (s->log_every <= 0)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s.log_every must be positive", s->stage);
    if (s->sample_budget < 0 || (s->sample_budget > 0 && s->sample_budget < s->batch_size))
        return PL_ERROR(err, PL_ERR_CONFIG, "%s.train_samples = %lld must be at least one batch "
                        "(%d samples)", s->stage, (long long)s->sample_budget, s->batch_size);
    weight_set wb = *w;
    ws_bf16 bf16 = {0};
    if (s->precision == TRAIN_BF16) {
        PL_TRY(ws_bf16_create(&bf16, w->params->layout, err));
        wb.bf16 = &bf16;
    }
    adam_state st;
    pl_batch batch;
    pl_status rc = pl_data_batch_alloc(d, &batch, s->batch_size, err);
    if (rc == PL_OK) {
        rc = adam_state_alloc(&st, target, err);
        if (rc == PL_OK) rc = train(m, &wb, target, &st, s, hooks, d, &batch, sink, err);
        adam_state_free(&st);
        pl_batch_free(&batch);
    }
    ws_bf16_free(&bf16);
    return rc;
}
