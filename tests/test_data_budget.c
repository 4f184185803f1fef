/* test_data_budget.c - a training stage's data budget (train_samples: N): the batches the
 * training loop sees are training samples first + (k mod N) for the k-th sample of the run,
 * so the stream repeats with period N exactly (the same scene, question and answer each
 * time); none of its scenes is a validation scene or one of the calibration scenes a
 * pruning stage reads; a budget the run never exhausts changes nothing (bit-identical to no
 * budget); a budget below one batch is refused. */
#include <criterion/criterion.h>
#include <string.h>

#include "data/tokenizer.h"
#include "fashion_fixture.h"
#include "tune/finetune.h"
#include "tune/train_loop.h"

enum { BATCH = 4, BUDGET = 10, STEPS = 9 };

static void micro(vlm *m) { fashion_micro_vlm(m, BATCH, 5); }

/* What the loop fed each row of each step: tokens and images, copied by a hook. */
typedef struct {
    int tokens[STEPS * BATCH][64];
    float pixel_sum[STEPS * BATCH];
    int text_len, rows;
} stream_log;

static pl_status record(void *ctx, vlm_input *in, int64_t step, pl_error *err) {
    (void)step, (void)err;
    stream_log *s = ctx;
    for (int r = 0; r < in->batch && s->rows < STEPS * BATCH; r++, s->rows++) {
        memcpy(s->tokens[s->rows], in->tokens + (size_t)r * s->text_len, (size_t)s->text_len * sizeof(int));
        double sum = 0.0;
        for (int p = 0; p < SCENE_PIXELS; p++) sum += in->images[(size_t)r * SCENE_PIXELS + p];
        s->pixel_sum[s->rows] = (float)sum;
    }
    return PL_OK;
}

static train_schedule schedule(int64_t budget) {
    train_schedule s;
    memset(&s, 0, sizeof s);
    s.stage = "finetune";
    s.batch_size = BATCH, s.clip = 1.0f;
    s.adam = (adamw_config){0.9f, 0.999f, 1e-8f, 0.0f};
    s.first_sample = 777;
    s.sample_budget = budget;
    s.log_every = 1000;
    s.num_phases = 1;
    s.phases[0] = (train_loop_phase){.name = "only", .steps = STEPS, .lr = 1e-3f,
                                     .train_mask = 7u, .loss = {.task_weight = 1.0f}};
    return s;
}

Test(data_budget, the_stream_cycles_through_exactly_the_budget, .init = open_data, .fini = close_data) {
    cr_assert_leq(data.config.text_len, 64);
    vlm m;
    micro(&m);
    train_target tg;
    cr_assert_eq(train_target_params(&tg, &m, NULL), PL_OK);
    static stream_log log;
    memset(&log, 0, sizeof log);
    log.text_len = data.config.text_len;
    train_hooks hooks = {.ctx = &log, .before_forward = record};
    const train_schedule s = schedule(BUDGET);
    const weight_set w = vlm_weights(&m, 1, 1);
    pl_error err;
    cr_assert_eq(train_loop_run(&m, &w, &tg, &s, &hooks, &data, NULL, &err), PL_OK, "%s", err.message);
    cr_assert_eq(log.rows, STEPS * BATCH);
    pl_batch one;
    cr_assert_eq(pl_data_batch_alloc(&data, &one, 1, NULL), PL_OK);
    for (int k = 0; k < STEPS * BATCH; k++) {
        /* the k-th sample is training sample first + k mod N, question and answer included */
        cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TRAIN, s.first_sample + k % BUDGET, 1, &one, NULL), PL_OK);
        cr_assert(memcmp(log.tokens[k], one.tokens, (size_t)log.text_len * sizeof(int)) == 0, "sample %d", k);
        if (k >= BUDGET) cr_assert_eq(log.pixel_sum[k], log.pixel_sum[k - BUDGET], "sample %d", k);
    }
    for (int a = 0; a < BUDGET; a++) /* no shorter period: the N samples are N different scenes */
        for (int b = a + 1; b < BUDGET; b++) cr_assert_neq(log.pixel_sum[a], log.pixel_sum[b], "%d, %d", a, b);
    pl_batch_free(&one);
    train_target_free(&tg);
    vlm_free(&m);
}

static int same_scene(const pl_scene *a, const pl_scene *b) {
    return memcmp(a->cells, b->cells, sizeof a->cells) == 0 && memcmp(a->image, b->image, sizeof a->image) == 0;
}

/* The budget's scenes come from the training pool without the validation slice, and none
 * equals a calibration scene of the first replicate windows a pruning stage reads. */
Test(data_budget, the_budget_never_touches_validation_or_calibration_scenes, .init = open_data,
     .fini = close_data) {
    const int64_t first = (int64_t)1 << 40; /* finetune's first training sample */
    const int budget = 2048, calib = 3 * 128;
    static pl_scene calib_scenes[3 * 128], val_scenes[64];
    for (int i = 0; i < calib; i++) pl_data_scene(&data, PL_SPLIT_CALIB, i, &calib_scenes[i]);
    for (int i = 0; i < 64; i++) pl_data_scene(&data, PL_SPLIT_VAL, i, &val_scenes[i]);
    const int val_first = 60000 - data.config.val_size;
    for (int k = 0; k < budget; k++) {
        pl_scene sc;
        pl_data_scene(&data, PL_SPLIT_TRAIN, first + k, &sc);
        for (int c = 0; c < SCENE_CELLS; c++)
            cr_assert(sc.image[c] < val_first, "training sample %d uses validation image %d", k, sc.image[c]);
        for (int i = 0; i < calib; i++) cr_assert(!same_scene(&sc, &calib_scenes[i]), "sample %d = calib %d", k, i);
    }
    for (int i = 0; i < 64; i++)
        for (int c = 0; c < SCENE_CELLS; c++)
            cr_assert(val_scenes[i].image[c] < 0 || val_scenes[i].image[c] >= val_first,
                      "validation scene %d reads image %d outside the validation slice", i, val_scenes[i].image[c]);
}

/* A budget as large as the samples the run reads never wraps: the same training as none. */
Test(data_budget, an_unexhausted_budget_is_bit_identical_to_none, .init = open_data, .fini = close_data) {
    finetune_config fc;
    finetune_config_default(&fc);
    fc.adapter = ADAPTER_LORA;
    fc.steps = 6, fc.batch_size = BATCH, fc.warmup = 1, fc.log_every = 1000, fc.lambda = 0.3f, fc.seed = 2;
    vlm a, b;
    micro(&a), micro(&b);
    adapter_set aa, ab;
    pl_error err;
    cr_assert_eq(finetune_run(&a, NULL, &data, &fc, &aa, NULL, &err), PL_OK, "%s", err.message);
    fc.train_samples = (int64_t)fc.steps * BATCH;
    cr_assert_eq(finetune_run(&b, NULL, &data, &fc, &ab, NULL, &err), PL_OK, "%s", err.message);
    cr_assert(memcmp(aa.values.data, ab.values.data, aa.layout.total * sizeof(float)) == 0);
    /* one sample fewer wraps once, and the result moves */
    vlm c;
    micro(&c);
    adapter_set ac;
    fc.train_samples = (int64_t)fc.steps * BATCH - 1;
    cr_assert_eq(finetune_run(&c, NULL, &data, &fc, &ac, NULL, &err), PL_OK, "%s", err.message);
    cr_assert(memcmp(aa.values.data, ac.values.data, aa.layout.total * sizeof(float)) != 0);
    adapters_free(&aa), adapters_free(&ab), adapters_free(&ac);
    vlm_free(&a), vlm_free(&b), vlm_free(&c);
}

Test(data_budget, a_budget_below_one_batch_is_refused, .init = open_data, .fini = close_data) {
    vlm m;
    micro(&m);
    train_target tg;
    cr_assert_eq(train_target_params(&tg, &m, NULL), PL_OK);
    const train_schedule s = schedule(BATCH - 1);
    const weight_set w = vlm_weights(&m, 1, 1);
    pl_error err;
    cr_assert_eq(train_loop_run(&m, &w, &tg, &s, NULL, &data, NULL, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "finetune.train_samples = 3 must be at least one batch") != NULL, "%s", err.message);
    train_target_free(&tg);
    vlm_free(&m);
}
