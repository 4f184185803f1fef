/* test_train_loop.c - the shared training loop against its definition: a short two-phase
 * pretrain (the first phase freezing two modules) and a short SparseLoRA finetune with
 * distillation from the default teacher each end bit-identical to the same steps written
 * out by hand here (batch stream, forward, backward, clipping over the stepping tensors,
 * AdamW with per-module step counts); the hooks run in order at every step; a NaN loss
 * fails with the stage, the phase and the step. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data/tokenizer.h"
#include "fashion_fixture.h"
#include "tune/finetune.h"
#include "tune/optimizer.h"
#include "tune/pretrain.h"

enum { BATCH = 4 };

static void micro(vlm *m) { fashion_micro_vlm(m, BATCH, 11); }

/* One hand-written optimizer step over tensors [0, count) of values/grads: global-norm clip
 * over the tensors whose module is in `mask`, then AdamW at step t[module]. */
static void reference_step(pl_buffer *values, pl_buffer *grads, pl_buffer *mo, pl_buffer *ve,
                           const pl_layout *lay, const unsigned char *module,
                           const unsigned char *decayed, unsigned mask, int *t, float lr,
                           adamw_config ac, float clip) {
    double sq = 0.0;
    for (int i = 0; i < lay->count; i++)
        if (mask & (1u << module[i])) sq += grad_sum_squares(pl_buffer_view(grads, i), lay->tensors[i].count);
    const float f = grad_clip_factor(sq, clip);
    for (int k = 0; k < MODULE_COUNT; k++)
        if (mask & (1u << k)) t[k]++;
    for (int i = 0; i < lay->count; i++) {
        if (!(mask & (1u << module[i]))) continue;
        float *g = pl_buffer_view(grads, i);
        if (f != 1.0f) grad_scale(g, lay->tensors[i].count, f);
        adamw_config a = ac;
        if (!decayed[i]) a.weight_decay = 0.0f;
        adamw_update(pl_buffer_view(values, i), g, pl_buffer_view(mo, i), pl_buffer_view(ve, i),
                     NULL, lay->tensors[i].count, lr, &a, t[module[i]]);
    }
}

static void assert_same_floats(const float *a, const float *b, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        cr_assert(memcmp(&a[i], &b[i], sizeof(float)) == 0, "%s[%zu]: %.9g vs %.9g by hand", what,
                  i, (double)a[i], (double)b[i]);
}

Test(train_loop, pretrain_equals_its_steps_written_out, .init = open_data, .fini = close_data) {
    pretrain_config pc;
    pretrain_config_default(&pc, 6);
    pc.batch_size = BATCH, pc.log_every = 1000, pc.eval_every = 0, pc.eval_samples = 8;
    pc.num_phases = 2;
    pc.phases[1] = pc.phases[0];
    pc.phases[0].steps = 5, pc.phases[0].warmup = 2, pc.phases[0].lr = 3e-3f;
    pc.phases[0].train_mask = 1u << MODULE_VISION;
    pc.phases[0].task_weight = 0.0f, pc.phases[0].aux_weight = 1.0f;
    pc.phases[1].warmup = 3, pc.phases[1].aux_weight = 0.3f, pc.phases[1].bridge_aux_weight = 0.2f;
    vlm a, b;
    micro(&a), micro(&b);
    pl_error err;
    cr_assert_eq(pretrain_run(&a, &data, &pc, NULL, &err), PL_OK, "%s", err.message);

    const pl_layout *lay = &b.index.layout;
    pl_buffer mo, ve;
    cr_assert_eq(pl_buffer_alloc(&mo, lay, NULL), PL_OK);
    cr_assert_eq(pl_buffer_alloc(&ve, lay, NULL), PL_OK);
    pl_batch batch;
    cr_assert_eq(pl_data_batch_alloc(&data, &batch, BATCH, NULL), PL_OK);
    int t[MODULE_COUNT] = {0};
    int64_t step = 0;
    for (int p = 0; p < 2; p++) {
        const train_phase *ph = &pc.phases[p];
        for (int k = 0; k < ph->steps; k++, step++) {
            cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TRAIN, step * BATCH, BATCH, &batch, NULL), PL_OK);
            vlm_input in = {.images = batch.images, .tokens = batch.tokens,
                            .targets = batch.targets, .cells = batch.cells, .batch = BATCH};
            weight_set w = vlm_weights(&b, 1, 1);
            vlm_zero_grad(&b);
            vlm_forward(&b, &w, &in, (vlm_loss_weights){.task_weight = ph->task_weight,
                                                         .aux_weight = ph->aux_weight,
                                                         .bridge_aux_weight = ph->bridge_aux_weight});
            vlm_backward(&b, &w);
            reference_step(&b.params, &b.grads, &mo, &ve, lay, b.index.module, b.index.decayed,
                           ph->train_mask, t,
                           lr_schedule(k, ph->steps, ph->warmup, ph->lr, pc.min_lr),
                           (adamw_config){pc.beta1, pc.beta2, pc.eps, pc.weight_decay}, pc.clip);
        }
    }
    assert_same_floats(a.params.data, b.params.data, lay->total, "parameters");
    pl_batch_free(&batch);
    pl_buffer_free(&mo), pl_buffer_free(&ve);
    vlm_free(&a), vlm_free(&b);
}

Test(train_loop, sparselora_finetune_equals_its_steps_written_out, .init = open_data, .fini = close_data) {
    finetune_config fc;
    finetune_config_default(&fc);
    fc.steps = 7, fc.batch_size = BATCH, fc.warmup = 2, fc.log_every = 1000;
    fc.lambda = 0.4f, fc.temperature = 2.0f, fc.weight_decay = 0.01f, fc.seed = 3;
    vlm a, b;
    micro(&a), micro(&b);
    cr_assert_eq(vlm_enable_masks(&a, NULL), PL_OK);
    cr_assert_eq(vlm_enable_masks(&b, NULL), PL_OK);
    for (int i = 0; i < a.index.layout.count; i++) /* every third weight pruned */
        if (a.index.prunable[i])
            for (size_t k = 0; k < a.index.layout.tensors[i].count; k += 3)
                pl_buffer_view(&a.masks, i)[k] = pl_buffer_view(&b.masks, i)[k] = 0.0f;
    adapter_set ad;
    pl_error err;
    cr_assert_eq(finetune_run(&a, NULL, &data, &fc, &ad, NULL, &err), PL_OK, "%s", err.message);

    adapter_set rd;
    cr_assert_eq(vlm_enable_weff(&b, NULL), PL_OK);
    cr_assert_eq(adapters_create(&rd, &b.index, fc.adapter, &fc.adapters, fc.seed, NULL), PL_OK);
    const pl_layout *lay = &rd.layout;
    unsigned char *module = calloc((size_t)lay->count, 1), *decayed = malloc((size_t)lay->count);
    memset(decayed, 1, (size_t)lay->count);
    for (int p = 0; p < rd.param_count; p++) {
        if (rd.a_of[p] >= 0) module[rd.a_of[p]] = b.index.module[p];
        if (rd.b_of[p] >= 0) module[rd.b_of[p]] = b.index.module[p];
    }
    pl_buffer mo, ve;
    cr_assert_eq(pl_buffer_alloc(&mo, lay, NULL), PL_OK);
    cr_assert_eq(pl_buffer_alloc(&ve, lay, NULL), PL_OK);
    pl_batch batch;
    cr_assert_eq(pl_data_batch_alloc(&data, &batch, BATCH, NULL), PL_OK);
    const size_t logits = (size_t)BATCH * model_lm_len(&b.cfg) * b.cfg.vocab_size;
    float *teacher = malloc(logits * sizeof(float));
    weight_set student = vlm_weights(&b, 1, 0), dense = vlm_weights(&b, 0, 0);
    student.adapters = &rd, student.adapter_grads = &rd.grads;
    int t[MODULE_COUNT] = {0};
    for (int step = 0; step < fc.steps; step++) {
        cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TRAIN, fc.first_sample + (int64_t)step * BATCH,
                                        BATCH, &batch, NULL), PL_OK);
        vlm_input in = {.images = batch.images, .tokens = batch.tokens, .targets = batch.targets,
                        .batch = BATCH};
        vlm_forward(&b, &dense, &in, (vlm_loss_weights){.task_weight = 1.0f});
        memcpy(teacher, b.logits, logits * sizeof(float));
        in.teacher_logits = teacher;
        pl_buffer_zero(&rd.grads);
        vlm_forward(&b, &student, &in, (vlm_loss_weights){.task_weight = 1.0f - fc.lambda,
                                                           .kd_weight = fc.lambda,
                                                           .temperature = fc.temperature});
        vlm_backward(&b, &student);
        reference_step(&rd.values, &rd.grads, &mo, &ve, lay, module, decayed, 7u, t,
                       lr_schedule(step, fc.steps, fc.warmup, fc.lr, fc.min_lr),
                       (adamw_config){0.9f, 0.999f, 1e-8f, fc.weight_decay}, fc.clip);
    }
    assert_same_floats(ad.values.data, rd.values.data, lay->total, "adapter factors");
    assert_same_floats(a.params.data, b.params.data, b.index.layout.total, "frozen W");
    free(teacher), free(module), free(decayed);
    pl_batch_free(&batch);
    pl_buffer_free(&mo), pl_buffer_free(&ve);
    adapters_free(&ad), adapters_free(&rd);
    vlm_free(&a), vlm_free(&b);
}

/* ---- hooks ------------------------------------------------------------------------- */

typedef struct {
    char trace[256];
    int at;
    int64_t last_step;
} hook_log;

static void note(hook_log *h, char c, int64_t step) {
    if (h->at < (int)sizeof h->trace - 1) h->trace[h->at++] = c;
    h->last_step = step;
}
static pl_status before(void *ctx, vlm_input *in, int64_t step, pl_error *err) {
    (void)in, (void)err;
    note(ctx, 'f', step);
    return PL_OK;
}
static pl_status backward(void *ctx, int64_t step, vlm_losses *l, pl_error *err) {
    (void)l, (void)err;
    note(ctx, 'b', step);
    return PL_OK;
}
static pl_status after(void *ctx, int64_t step, pl_error *err) {
    note(ctx, 's', step);
    if (step == 2) return PL_ERROR(err, PL_ERR_INVALID, "stop at step %lld", (long long)step);
    return PL_OK;
}

static train_schedule one_phase(float lr) {
    train_schedule s;
    memset(&s, 0, sizeof s);
    s.stage = "probe";
    s.batch_size = BATCH, s.min_lr = 0.0f, s.clip = 1.0f;
    s.adam = (adamw_config){0.9f, 0.999f, 1e-8f, 0.0f};
    s.log_every = 1000;
    s.num_phases = 1;
    s.phases[0] = (train_loop_phase){.name = "only", .steps = 5, .warmup = 0, .lr = lr,
                                     .train_mask = 7u, .loss = {.task_weight = 1.0f}};
    return s;
}

Test(train_loop, hooks_run_in_order_and_their_failure_stops_the_loop, .init = open_data,
     .fini = close_data) {
    vlm m;
    micro(&m);
    train_target tg;
    cr_assert_eq(train_target_params(&tg, &m, NULL), PL_OK);
    hook_log h = {0};
    train_hooks hooks = {.ctx = &h, .before_forward = before, .after_backward = backward, .after_step = after};
    const train_schedule s = one_phase(1e-3f);
    const weight_set w = vlm_weights(&m, 1, 1);
    pl_error err;
    cr_assert_eq(train_loop_run(&m, &w, &tg, &s, &hooks, &data, NULL, &err), PL_ERR_INVALID);
    cr_assert_str_eq(h.trace, "fbsfbsfbs");
    cr_assert_eq(h.last_step, 2);
    cr_assert(strstr(err.message, "stop at step 2") != NULL, "%s", err.message);
    train_target_free(&tg);
    vlm_free(&m);
}

Test(train_loop, a_nan_loss_names_the_stage_phase_and_step, .init = open_data, .fini = close_data) {
    vlm m;
    micro(&m);
    train_target tg;
    cr_assert_eq(train_target_params(&tg, &m, NULL), PL_OK);
    pl_buffer_view(&m.params, 0)[0] = NAN; /* the first tensor feeds every forward */
    const train_schedule s = one_phase(1e-3f);
    const weight_set w = vlm_weights(&m, 1, 1);
    pl_error err;
    cr_assert_eq(train_loop_run(&m, &w, &tg, &s, NULL, &data, NULL, &err), PL_ERR_NUMERIC);
    cr_assert(strstr(err.message, "step 0 (probe phase 'only')") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "lower probe.lr") != NULL, "%s", err.message);
    train_target_free(&tg);
    vlm_free(&m);
}
