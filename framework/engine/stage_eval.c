/* stage_eval.c - the eval stage: exact-match accuracy per question type, answer
 * cross-entropy and caption slots on a held-out split, as eval metrics (eval_step 0) and as
 * summary scalars acc, acc_<type>, ce, caption_slots. */
#include <stdio.h>

#include "config/bind.h"
#include "config/schema_keys.h"
#include "engine/stage.h"
#include "tune/evaluate.h"

/* ---- settings (the `eval` section of an experiment) ---- */

typedef struct {
    int samples, batch_size;
    pl_split split;
    const char *tag;
} eval_settings;

static const cfg_key EVAL_KEYS[] = {
    {K("samples", CFG_T_INT, "2000"), GE(1), AT_INT(eval_settings, samples), .help = "scenes evaluated"},
    {K("split", CFG_T_ENUM, "test"), .choices = PL_HELD_OUT_SPLITS,
     AT_CHOICE(eval_settings, split, PL_HELD_OUT_SPLIT_VALUES),
     .help = "which held-out split"},
    {K("batch_size", CFG_T_INT, "64"), GE(1), AT_INT(eval_settings, batch_size), .help = "scenes per forward pass"},
    {K("tag", CFG_T_STRING, ""), AT_TEXT(eval_settings, tag),
     .help = "prefix of this evaluation's summary metrics (e.g. 'pruned_' gives pruned_acc), "
             "so evaluations at several points of a pipeline keep apart"},
};
SECTION(EVAL, "eval", "exact-match accuracy per question type and answer cross-entropy", EVAL_KEYS, false);


static pl_status stage_eval(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                     vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    (void)run, (void)out; /* eval leaves the model as it is */
    eval_settings es = {0};
    PL_TRY(cfg_bind(&EVAL, section, &es, err));
    if (in == NULL) return PL_ERROR(err, PL_ERR_INVALID, "eval needs a model from an earlier stage");
    if (in->cfg.text_len != data->config.text_len)
        return PL_ERROR(err, PL_ERR_CONFIG, "the model was trained with text_len %d but the data has %d",
                        in->cfg.text_len, data->config.text_len);
    const char *tag = es.tag;
    eval_result r;
    weight_set w = vlm_weights(in, 1, 0);
    PL_TRY(evaluate_model(in, &w, data, es.split, es.samples, EVAL_KV_CACHE, &r, err));
    PL_TRY(evaluate_report(&r, sink, 0, err));
    char name[160], line[512];
    snprintf(name, sizeof name, "%sacc", tag);
    PL_TRY(pl_metric_summary(sink, name, r.accuracy, err));
    snprintf(name, sizeof name, "%sce", tag);
    PL_TRY(pl_metric_summary(sink, name, r.ce, err));
    snprintf(name, sizeof name, "%scaption_slots", tag);
    PL_TRY(pl_metric_summary(sink, name, r.caption_slots, err));
    int at = snprintf(line, sizeof line, "eval on %s (%d samples): acc %.4f ce %.4f |",
                      pl_split_name(es.split), r.samples, r.accuracy, r.ce);
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) {
        if (r.type_samples[t] == 0) continue;
        snprintf(name, sizeof name, "%sacc_%s", tag, pl_qtype_name(t));
        PL_TRY(pl_metric_summary(sink, name, r.type_accuracy[t], err));
        if (at > 0 && (size_t)at < sizeof line)
            at += snprintf(line + at, sizeof line - at, " %s %.3f", pl_qtype_name(t), r.type_accuracy[t]);
    }
    pl_metric_progress(sink, line);
    return PL_OK;
}

const pl_stage_kind PL_STAGE_EVAL = {.schema = &EVAL, .run = stage_eval, .batch_key = "batch_size"};
