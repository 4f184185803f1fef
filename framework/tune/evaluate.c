/* evaluate.c - batched greedy-decoding evaluation of a VLM on a data split. */
#include "tune/evaluate.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/scoring.h"
#include "data/tokenizer.h"
#include "model/decode.h"

static void accumulate_batch(eval_result *r, const pl_batch *b, const int *generated,
                             int *pred, double *slot_sum, int *captions) {
    const int T = b->text_len;
    for (int row = 0; row < b->size; row++) {
        const int *gen = generated + (size_t)row * T;
        /* pred[p] is the token predicted after position p, i.e. gen[p + 1]. */
        for (int p = 0; p + 1 < T; p++) pred[p] = gen[p + 1];
        pred[T - 1] = TOK_PAD;
        const int *targets = b->targets + (size_t)row * T;
        int hit = pl_score_exact(pred, targets, T);
        int type = b->qtype[row];
        r->accuracy += hit;
        r->type_samples[type]++;
        r->type_accuracy[type] += hit;
        if (type == QTYPE_CAPTION) {
            *slot_sum += pl_score_caption_slots(pred, targets, T, b->answer_start,
                                                b->cells + (size_t)row * SCENE_CELLS);
            (*captions)++;
        }
    }
}

pl_status evaluate_model(vlm *m, const weight_set *w, const pl_data *d, pl_split split,
                         int samples, eval_decoding decoding, eval_result *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    if (samples <= 0)
        return PL_ERROR(err, PL_ERR_INVALID, "evaluation needs at least one sample, got %d", samples);
    if (samples > pl_data_split_size(d, split))
        return PL_ERROR(err, PL_ERR_CONFIG, "eval.samples = %d exceeds the %s split's %lld samples",
                        samples, pl_split_name(split), (long long)pl_data_split_size(d, split));
    pl_batch batch;
    PL_TRY(pl_data_batch_alloc(d, &batch, m->max_batch, err));
    const int T = batch.text_len;
    int *generated = pl_alloc((size_t)m->max_batch * T, sizeof(int), err);
    int *pred = pl_alloc((size_t)T, sizeof(int), err);
    pl_status st = (generated && pred) ? PL_OK : PL_ERR_NOMEM;
    vlm_decoder dec = {0};
    if (st == PL_OK && decoding == EVAL_KV_CACHE) st = vlm_decoder_create(&dec, m, err);
    /* The scoring pass (answer cross-entropy) runs on the weights as given, as it always has;
     * KV-cached decoding then continues from that pass with frozen weights (model/decode.h),
     * frozen after it because the pass rewrites the effective-weight buffer. */
    double ce_sum = 0.0, slot_sum = 0.0;
    long ce_tokens = 0;
    int captions = 0;
    for (int first = 0; st == PL_OK && first < samples; first += m->max_batch) {
        int count = samples - first < m->max_batch ? samples - first : m->max_batch;
        st = pl_data_fill_batch(d, split, first, count, &batch, err);
        if (st != PL_OK) break;
        vlm_input in = {.images = batch.images, .tokens = batch.tokens, .targets = batch.targets, .cells = NULL, .batch = count};
        vlm_losses loss = vlm_forward(m, w, &in, (vlm_loss_weights){.task_weight = 1.0f});
        ce_sum += (double)loss.task * loss.task_tokens;
        ce_tokens += loss.task_tokens;
        memcpy(generated, batch.tokens, (size_t)count * T * sizeof(int));
        if (decoding == EVAL_KV_CACHE) { /* the scoring pass above is the prompt pass too */
            const weight_set frozen = vlm_inference_weights(m, w);
            vlm_generate_after_forward(m, &dec, &frozen, generated, count, batch.answer_start,
                                       TOK_EOS, TOK_PAD);
        }
        else
            vlm_generate_full(m, w, batch.images, generated, count, batch.answer_start, TOK_EOS,
                              TOK_PAD);
        accumulate_batch(out, &batch, generated, pred, &slot_sum, &captions);
    }
    if (st == PL_OK) {
        out->samples = samples;
        out->accuracy /= samples;
        out->ce = ce_tokens ? ce_sum / (double)ce_tokens : 0.0;
        for (int t = 0; t < QTYPE_COUNT_TYPES; t++)
            if (out->type_samples[t]) out->type_accuracy[t] /= out->type_samples[t];
        out->caption_slots = captions ? slot_sum / captions : 0.0;
    }
    vlm_decoder_free(&dec);
    pl_free(generated);
    pl_free(pred);
    pl_batch_free(&batch);
    return st;
}

pl_status evaluate_report(const eval_result *r, const pl_metrics_sink *sink, int64_t step,
                          pl_error *err) {
    PL_TRY(pl_metric_eval(sink, "acc", step, r->accuracy, err));
    PL_TRY(pl_metric_eval(sink, "ce", step, r->ce, err));
    PL_TRY(pl_metric_eval(sink, "caption_slots", step, r->caption_slots, err));
    char name[64];
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) {
        if (r->type_samples[t] == 0) continue;
        snprintf(name, sizeof name, "acc_%s", pl_qtype_name(t));
        PL_TRY(pl_metric_eval(sink, name, step, r->type_accuracy[t], err));
    }
    return PL_OK;
}
