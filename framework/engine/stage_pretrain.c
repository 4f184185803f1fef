/* stage_pretrain.c - the pretrain stage: a fresh VLM initialised from the run's seed and
 * trained by tune/pretrain.h with the stage's phases. */
#include <stdint.h>

#include <stdio.h>

#include "config/bind.h"
#include "config/schema_keys.h"
#include "engine/settings.h"
#include "engine/stage.h"
#include "engine/stage_settings.h"
#include "tune/pretrain.h"

/* ---- settings (the `pretrain` section of an experiment) ---- */

typedef struct { /* one phase: train_phase, with its name and mix as given */
    train_phase phase;
    const char *name;
    const cfg_node *mix; /* question_mix, or NULL: the data's */
} phase_settings;

static const cfg_key PHASE_KEYS[] = {
    {K("name", CFG_T_STRING, NULL), AT_TEXT(phase_settings, name), .help = "label used in logs"},
    {K("steps", CFG_T_INT, NULL), GE(1), AT_INT(phase_settings, phase.steps), .help = "steps in this phase"},
    {K("train", CFG_T_LIST, "[vision, bridge, language]"), .item = CFG_T_ENUM,
     .choices = "vision|bridge|language", AT_CONVERT(phase_settings, phase.train_mask, pl_modules_into_bits),
     .help = "modules updated in this phase"},
    {K("aux_weight", CFG_T_FLOAT, "1.0"), GE(0), AT_FLOAT(phase_settings, phase.aux_weight),
     .help = "weight of the per-cell loss on the vision tokens"},
    {K("bridge_aux_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(phase_settings, phase.bridge_aux_weight),
     .help = "weight of the per-cell loss on bridge queries 0..3 (teaches the bridge to read the image)"},
    {K("task_weight", CFG_T_FLOAT, "1.0"), GE(0), AT_FLOAT(phase_settings, phase.task_weight),
     .help = "weight of the answer loss (0: the language model is not run)"},
    {K("lr", CFG_T_FLOAT, NULL), GT(0), .flags = CFG_KEY_OPTIONAL, AT_FLOAT(phase_settings, phase.lr),
     .help = "peak learning rate (default: the stage's lr)"},
    {K("warmup", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL, AT_INT(phase_settings, phase.warmup),
     .help = "warm-up steps (default: the stage's warmup)"},
    {K("question_mix", CFG_T_MAP, NULL), .sub = &CFG_QUESTION_MIX, .check = cfg_check_question_mix, .flags = CFG_KEY_OPTIONAL,
     AT_NODE(phase_settings, mix), .help = "question mix during this phase (default: data.question_mix)"},
};
SECTION(PHASE, "phase", "one pretraining phase", PHASE_KEYS, false);

typedef struct {
    pretrain_config train;
    int steps, warmup;
    float lr, aux_cell_weight, bridge_aux_weight;
    const cfg_node *phases;
} pretrain_settings;

#define T pretrain_settings
static const cfg_key PRETRAIN_KEYS[] = {
    {K("steps", CFG_T_INT, "3000"), GE(1), AT_INT(T, steps), .help = "optimizer steps (when no phases are given)"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), AT_INT(T, train.batch_size), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "2e-3"), GT(0), AT_FLOAT(T, lr), .help = "peak AdamW learning rate"},
    {K("min_lr", CFG_T_FLOAT, "1e-4"), GE(0), AT_FLOAT(T, train.min_lr),
     .help = "learning rate at the end of the cosine decay"},
    {K("warmup", CFG_T_INT, "100"), GE(0), AT_INT(T, warmup), .help = "linear warm-up steps"},
    {K("weight_decay", CFG_T_FLOAT, "0.01"), GE(0), AT_FLOAT(T, train.weight_decay), .help = "AdamW weight decay"},
    {K("clip", CFG_T_FLOAT, "1.0"), GE(0), AT_FLOAT(T, train.clip), .help = "gradient-norm clip (0 = off)"},
    {K("eval_every", CFG_T_INT, "500"), GE(0), AT_INT(T, train.eval_every),
     .help = "steps between validation evaluations (0 = only at the end)"},
    {K("eval_samples", CFG_T_INT, "1000"), GE(1), AT_INT(T, train.eval_samples), .help = "validation scenes per evaluation"},
    {K("log_every", CFG_T_INT, "50"), GE(1), AT_INT(T, train.log_every),
     .help = "steps between progress lines in log.txt and on the console (metrics.h5 gets every step)"},
    {K("aux_cell_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, aux_cell_weight),
     .help = "per-cell loss on vision tokens (without phases)"},
    {K("bridge_aux_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, bridge_aux_weight),
     .help = "per-cell loss on bridge queries (without phases)"},
    {K("phases", CFG_T_LIST, "[]"), .item = CFG_T_MAP, .sub = &PHASE, AT_NODE(T, phases),
     .help = "curriculum: phases run in order (empty = one joint phase of `steps`)"},
};
#undef T
SECTION(PRETRAIN, "pretrain", "train the teacher VLM from scratch", PRETRAIN_KEYS, false);

/* One phase: the stage's lr and warmup unless it sets its own, the data's mix unless it
 * sets one. */
static pl_status phase_of(const cfg_node *item, float lr, int warmup, train_phase *out, pl_error *err) {
    phase_settings ps = {.phase = {.lr = lr, .warmup = warmup}};
    PL_TRY(cfg_bind(&PHASE, item, &ps, err));
    *out = ps.phase;
    snprintf(out->name, sizeof out->name, "%s", ps.name);
    if (ps.mix != NULL) {
        out->has_mix = 1;
        PL_TRY(cfg_bind(&CFG_QUESTION_MIX, ps.mix, out->mix, err));
    }
    return PL_OK;
}

pl_status settings_pretrain(const cfg_node *section, pretrain_config *out, pl_error *err) {
    pretrain_settings ps = {0};
    pretrain_config_default(&ps.train, 0);
    PL_TRY(cfg_bind(&PRETRAIN, section, &ps, err));
    *out = ps.train;
    const cfg_node *phases = ps.phases;
    if (phases == NULL || phases->u.list.count == 0) { /* one joint phase of `steps` */
        train_phase *p = &out->phases[0];
        out->num_phases = 1;
        p->steps = ps.steps, p->lr = ps.lr, p->warmup = ps.warmup;
        p->aux_weight = ps.aux_cell_weight, p->bridge_aux_weight = ps.bridge_aux_weight;
        return PL_OK;
    }
    if (phases->u.list.count > PRETRAIN_MAX_PHASES)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s:%d:%d: pretrain.phases has %d phases; at most %d",
                        phases->pos.file, phases->pos.line, phases->pos.col,
                        phases->u.list.count, PRETRAIN_MAX_PHASES);
    out->num_phases = phases->u.list.count;
    for (int i = 0; i < out->num_phases; i++)
        PL_TRY(phase_of(phases->u.list.items[i], ps.lr, ps.warmup, &out->phases[i], err));
    return PL_OK;
}

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
    PL_TRY(cfg_run_seed(run, &seed, err));
    PL_TRY(vlm_create(out, &mc, pc.batch_size, err));
    vlm_init(out, (uint64_t)seed);
    return pretrain_run(out, data, &pc, sink, err);
}

const pl_stage_kind PL_STAGE_PRETRAIN = {.schema = &PRETRAIN, .run = stage_pretrain, .produces_model = true, .starts_pipeline = true, .batch_key = "batch_size", .trains = true};
