/* stage_distill.c - the distill stage (EfficientVLM): from the pipeline's current model,
 * the teacher, build a shallower student of its own blocks by a scheme per module
 * (model/student.h), then train every student weight with the finetune loss
 *
 *   L = (1−λ)·L_task + λ·T²·KL(teacher ‖ student) + hidden_weight·L_hid + attn_weight·L_attn
 *
 * where the state terms pair student block k with the teacher block it was copied from. The
 * teacher stays frozen, with buffers of its own; the student is the stage's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/bind.h"
#include "config/schema_keys.h"
#include "engine/stage_settings.h"
#include "engine/stage.h"
#include "model/student.h"

/* ---- settings (the `distill` section of an experiment) ---- */

static bool check_scheme(const cfg_node *v, char *why, size_t size) {
    student_scheme kind;
    long k;
    if (student_scheme_parse(v->u.s, &kind, &k)) return true;
    snprintf(why, size, "use even, odd, first, last, none or uniform:<k> with k >= 1");
    return false;
}

typedef struct {
    finetune_config train;
    const char *scheme[MODULE_COUNT];
} distill_settings;

static const cfg_key SCHEME_KEYS[] = {
    {K("vision", CFG_T_STRING, "even"), .choices = "even|odd|first|last|none|uniform:<k>", .check = check_scheme,
     AT_ITEM_TEXT(MODULE_VISION), .help = "teacher vision blocks the student keeps (even = 2, 4, 6, ... counting from 1)"},
    {K("bridge", CFG_T_STRING, "none"), .choices = "even|odd|first|last|none|uniform:<k>", .check = check_scheme,
     AT_ITEM_TEXT(MODULE_BRIDGE), .help = "teacher bridge layers kept (none = keep all)"},
    {K("language", CFG_T_STRING, "even"), .choices = "even|odd|first|last|none|uniform:<k>", .check = check_scheme,
     AT_ITEM_TEXT(MODULE_LANGUAGE), .help = "teacher language layers kept"},
};
SECTION(SCHEME, "scheme", "layer-halving scheme per module", SCHEME_KEYS, false);

#define T distill_settings
static const cfg_key DISTILL_KEYS[] = {
    {K("scheme", CFG_T_MAP, "{}"), .sub = &SCHEME, AT_SECTION(T, scheme),
     .help = "which teacher blocks the student keeps, per module"},
    {K("steps", CFG_T_INT, "2000"), GE(0), AT_INT(T, train.steps), .help = "distillation steps"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), AT_INT(T, train.batch_size), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "1e-3"), GT(0), AT_FLOAT(T, train.lr), .help = "peak learning rate"},
    {K("warmup", CFG_T_INT, "100"), GE(0), AT_INT(T, train.warmup), .help = "linear warm-up steps"},
    {K("lambda", CFG_T_FLOAT, "0.5"), UNIT, AT_FLOAT(T, train.lambda),
     .help = "KD weight: L = (1-lambda) L_task + lambda T^2 KL(teacher || student) + hidden_weight "
             "L_hid + attn_weight L_attn, as in finetune"},
    {K("temperature", CFG_T_FLOAT, "1.0"), GT(0), AT_FLOAT(T, train.temperature), .help = "KD softmax temperature T"},
    {K("hidden_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, train.hidden_weight),
     .help = "hidden-state MSE weight: student block k against the teacher block it was copied from"},
    {K("attn_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, train.attn_weight),
     .help = "attention-map MSE weight, over the same block pairs"},
    KEY_TRAIN_SAMPLES(T),
    KEYS_EVAL_WHILE_TRAINING(T),
};
#undef T
SECTION(DISTILL, "distill", "a shallower student from the teacher's own blocks, distilled from it (EfficientVLM); "
        "the teacher is the pipeline's current model, run unmasked and frozen",
        DISTILL_KEYS, false);

/* The section into settings: full training of every student weight with finetune's loss;
 * nothing else in a distill is random (the student copies teacher blocks), so replicate
 * seeds train on streams of their own (distill numerics 1). */
static pl_status settings_of(const cfg_node *section, const cfg_node *run, distill_settings *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    finetune_config_default(&out->train);
    out->train.adapter = ADAPTER_NONE;
    out->train.stage = "distill";
    PL_TRY(cfg_bind(&DISTILL, section, out, err));
    return settings_training_run(run, &out->train, true, err);
}

/* The student plan of the settings' scheme per module over the teacher's depths. */
static pl_status plan_of(const distill_settings *ds, const model_config *teacher, student_plan *plan,
                         pl_error *err) {
    for (int m = 0; m < MODULE_COUNT; m++) {
        if (student_scheme_select(ds->scheme[m], module_layers(teacher, (pl_module)m), plan->kept[m],
                                  &plan->count[m], err) != PL_OK)
            return pl_error_wrap(err, "distill.scheme.%s (the teacher's %s module has %d blocks)",
                                 module_name((pl_module)m), module_name((pl_module)m),
                                 module_layers(teacher, (pl_module)m));
    }
    return PL_OK;
}

static pl_status stage_distill(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                        vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    if (in == NULL) return PL_ERROR(err, PL_ERR_INVALID, "distill needs a teacher from an earlier stage");
    PL_TRY(pl_stage_require_merged(in, "distill", err));
    distill_settings ds;
    PL_TRY(settings_of(section, run, &ds, err));
    student_plan plan;
    PL_TRY(plan_of(&ds, &in->cfg, &plan, err));
    finetune_config cfg = ds.train;
    vlm_layer_map map;
    PL_TRY(student_create(out, in, &plan, cfg.batch_size, &map, err));
    cfg.layer_map = &map;
    char line[256];
    snprintf(line, sizeof line, "distill: student of %d/%d/%d blocks from the teacher's %d/%d/%d",
             out->cfg.layers_vision, out->cfg.layers_query, out->cfg.layers_language,
             in->cfg.layers_vision, in->cfg.layers_query, in->cfg.layers_language);
    pl_metric_progress(sink, line);
    pl_status st = finetune_run(out, finetune_uses_teacher(&cfg) ? in : NULL, data, &cfg, NULL,
                                sink, err);
    if (st != PL_OK) return pl_error_wrap(err, "distill");
    PL_TRY(pl_metric_summary(sink, "student_params", (double)out->index.layout.total, err));
    return pl_metric_summary(sink, "teacher_params", (double)in->index.layout.total, err);
}

const pl_stage_kind PL_STAGE_DISTILL = {.schema = &DISTILL, .run = stage_distill, .produces_model = true, .batch_key = "batch_size", .trains = true,
    .numerics = 1 /* 1: the run seed picks the training stream */};
