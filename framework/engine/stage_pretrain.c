/* stage_pretrain.c - the pretrain stage: a fresh VLM initialised from the run's seed and
 * trained by tune/pretrain.h with the stage's phases. */
#include <stdint.h>

#include "config/schema_keys.h"
#include "engine/settings.h"
#include "engine/stage.h"
#include "tune/pretrain.h"

/* ---- settings (the `pretrain` section of an experiment) ---- */

static const cfg_key PHASE_KEYS[] = {
    {K("name", CFG_T_STRING, NULL), .help = "label used in logs"},
    {K("steps", CFG_T_INT, NULL), GE(1), .help = "steps in this phase"},
    {K("train", CFG_T_LIST, "[vision, bridge, language]"), .item = CFG_T_ENUM,
     .choices = "vision|bridge|language", .help = "modules updated in this phase"},
    {K("aux_weight", CFG_T_FLOAT, "1.0"), GE(0), .help = "weight of the per-cell loss on the vision tokens"},
    {K("bridge_aux_weight", CFG_T_FLOAT, "0.0"), GE(0),
     .help = "weight of the per-cell loss on bridge queries 0..3 (teaches the bridge to read the image)"},
    {K("task_weight", CFG_T_FLOAT, "1.0"), GE(0), .help = "weight of the answer loss (0: the language model is not run)"},
    {K("lr", CFG_T_FLOAT, NULL), GT(0), .flags = CFG_KEY_OPTIONAL, .help = "peak learning rate (default: the stage's lr)"},
    {K("warmup", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL, .help = "warm-up steps (default: the stage's warmup)"},
    {K("question_mix", CFG_T_MAP, NULL), .sub = &CFG_QUESTION_MIX, .check = cfg_check_question_mix, .flags = CFG_KEY_OPTIONAL,
     .help = "question mix during this phase (default: data.question_mix)"},
};
SECTION(PHASE, "phase", "one pretraining phase", PHASE_KEYS, false);

static const cfg_key PRETRAIN_KEYS[] = {
    {K("steps", CFG_T_INT, "3000"), GE(1), .help = "optimizer steps (when no phases are given)"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "2e-3"), GT(0), .help = "peak AdamW learning rate"},
    {K("min_lr", CFG_T_FLOAT, "1e-4"), GE(0), .help = "learning rate at the end of the cosine decay"},
    {K("warmup", CFG_T_INT, "100"), GE(0), .help = "linear warm-up steps"},
    {K("weight_decay", CFG_T_FLOAT, "0.01"), GE(0), .help = "AdamW weight decay"},
    {K("clip", CFG_T_FLOAT, "1.0"), GE(0), .help = "gradient-norm clip (0 = off)"},
    {K("eval_every", CFG_T_INT, "500"), GE(0), .help = "steps between validation evaluations (0 = only at the end)"},
    {K("eval_samples", CFG_T_INT, "1000"), GE(1), .help = "validation scenes per evaluation"},
    {K("log_every", CFG_T_INT, "50"), GE(1),
     .help = "steps between progress lines in log.txt and on the console (metrics.h5 gets every step)"},
    {K("aux_cell_weight", CFG_T_FLOAT, "0.0"), GE(0), .help = "per-cell loss on vision tokens (without phases)"},
    {K("bridge_aux_weight", CFG_T_FLOAT, "0.0"), GE(0), .help = "per-cell loss on bridge queries (without phases)"},
    {K("phases", CFG_T_LIST, "[]"), .item = CFG_T_MAP, .sub = &PHASE,
     .help = "curriculum: phases run in order (empty = one joint phase of `steps`)"},
};
SECTION(PRETRAIN, "pretrain", "train the teacher VLM from scratch", PRETRAIN_KEYS, false);


static pl_status stage_pretrain(vlm *in, const cfg_node *section, const cfg_node *run,
                         const pl_data *data, vlm *out, const pl_metrics_sink *sink,
                         pl_error *err) {
    (void)in; /* pretrain starts from nothing */
    model_config mc;
    pretrain_config pc;
    long long seed;
    PL_TRY(settings_model(run, &data->config, &mc, err));
    PL_TRY(settings_pretrain(section, &pc, err));
    PL_TRY(settings_precision(run, &pc.precision, err));
    PL_TRY(cfg_get_int(run, "seed", &seed, err));
    PL_TRY(vlm_create(out, &mc, pc.batch_size, err));
    vlm_init(out, (uint64_t)seed);
    return pretrain_run(out, data, &pc, sink, err);
}

const pl_stage_kind PL_STAGE_PRETRAIN = {.schema = &PRETRAIN, .run = stage_pretrain, .produces_model = true, .starts_pipeline = true, .batch_key = "batch_size", .trains = true};
