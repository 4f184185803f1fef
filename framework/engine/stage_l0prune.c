/* stage_l0prune.c - the l0prune stage (EfficientVLM's modal-adaptive pruning): every weight
 * of the current model trains together with a hard-concrete gate per attention head,
 * cross-attention head and MLP neuron (prune/l0_gates.h), under the loss
 *
 *   (1−λ)·L_task + λ·T²·KL(teacher ‖ student) + hidden_weight·L_hid + attn_weight·L_attn
 *     + l1·(s − t) + l2·(s − t)²
 *
 * where s is the expected fraction of the input's prunable weights removed and t the target
 * (ramping from 0), so the split between vision, bridge and language comes out of training
 * (or per-module targets set it). The teacher is the pipeline's first model (its `load`
 * file), the stage's input as it came in, or a checkpoint; never the model being trained.
 * At the end each block keeps its expected count of units, those of highest expected
 * score, and the rest are cut out (model/compact.h). Per step: expected_sparsity (overall
 * and per module), sparsity_target, lagrangian_l1, lagrangian_l2, penalty; summary:
 * expected_sparsity_final (and _vision, _bridge, _language: the learned split),
 * units_removed, what each block keeps, and the compacted model's sparsity summary. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config/bind.h"
#include "config/path.h"
#include "config/schema_keys.h"
#include "engine/stage_settings.h"
#include "engine/stage.h"
#include "model/checkpoint.h"
#include "model/compact.h"
#include "prune/l0_gates.h"
#include "prune/sparsity.h"
#include "prune/structured.h"
#include "tune/finetune.h"
#include "tune/teacher.h"

/* ---- settings (the `l0prune` section of an experiment) ---- */

#define OPEN_UNIT .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_LO_OPEN | CFG_RANGE_HI | CFG_RANGE_HI_OPEN

typedef struct {
    l0_config gates;
    finetune_config train;
    const char *teacher;
} l0prune_settings;

static const cfg_key TARGETS_KEYS[] = {
    MODULE_FLOATS(UNIT_OPEN, "0.0", "expected fraction of the vision encoder's prunable weights removed",
                  "0.0", "the same for the bridge", "0.0", "the same for the language model"),
};
SECTION(TARGETS, "targets", "per-module targets instead of the global one", TARGETS_KEYS, false);

/* targets: the per-module targets, which replace the global one. */
static pl_status targets_into_config(const cfg_node *v, void *field, const char *name, pl_error *err) {
    (void)name;
    l0_config *c = field;
    c->per_module = 1;
    return cfg_bind(&TARGETS, v, c->module_target, err);
}

static const cfg_key LAGRANGIAN_KEYS[] = {
    {K("lr", CFG_T_FLOAT, "0.05"), GT(0), AT_FLOAT(l0_config, lagrangian_lr),
     .help = "gradient-ascent step of the multipliers l1, l2"},
};
SECTION(LAGRANGIAN, "lagrangian", "the multipliers holding the expected sparsity to its target", LAGRANGIAN_KEYS, false);

#define T l0prune_settings
static const cfg_key L0PRUNE_KEYS[] = {
    {K("target", CFG_T_FLOAT, "0.5"), OPEN_UNIT, AT_FLOAT(T, gates.target),
     .help = "expected fraction of the input's prunable weights removed, in (0, 1)"},
    {K("targets", CFG_T_MAP, NULL), .sub = &TARGETS, .flags = CFG_KEY_OPTIONAL, AT_CONVERT(T, gates, targets_into_config),
     .help = "per-module targets instead of target (the hand-set splits of RESSA)"},
    {K("target_warmup", CFG_T_INT, "200"), GE(0), AT_INT(T, gates.target_warmup),
     .help = "steps over which the target ramps linearly from 0"},
    {K("gate_lr", CFG_T_FLOAT, "0.02"), GT(0), AT_FLOAT(T, gates.gate_lr), .help = "AdamW learning rate of the gates' log_alpha"},
    {K("lagrangian", CFG_T_MAP, "{}"), .sub = &LAGRANGIAN, AT_SECTION(T, gates), .help = "the Lagrangian multipliers"},
    {K("head_drop", CFG_T_FLOAT, "0.01"), OPEN_UNIT, AT_FLOAT(T, gates.head_drop),
     .help = "initial drop rate of head gates (near keep)"},
    {K("neuron_drop", CFG_T_FLOAT, "0.5"), OPEN_UNIT, AT_FLOAT(T, gates.neuron_drop),
     .help = "initial drop rate of neuron gates (log_alpha 0)"},
    {K("teacher", CFG_T_STRING, "first"), AT_TEXT(T, teacher), .synonyms = "same=input", .help = TEACHER_HELP},
    {K("steps", CFG_T_INT, "1000"), GE(1), AT_INT(T, train.steps), .help = "training steps"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), AT_INT(T, train.batch_size), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "5e-4"), GT(0), AT_FLOAT(T, train.lr), .help = "peak learning rate of the model's weights"},
    {K("warmup", CFG_T_INT, "50"), GE(0), AT_INT(T, train.warmup), .help = "linear learning-rate warm-up steps"},
    {K("lambda", CFG_T_FLOAT, "0.5"), UNIT, AT_FLOAT(T, train.lambda),
     .help = "KD weight: L = (1-lambda) L_task + lambda T^2 KL(teacher || student) + hidden_weight "
             "L_hid + attn_weight L_attn + the Lagrangian penalty"},
    {K("temperature", CFG_T_FLOAT, "1.0"), GT(0), AT_FLOAT(T, train.temperature), .help = "KD softmax temperature T"},
    {K("hidden_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, train.hidden_weight),
     .help = "hidden-state MSE weight (teacher of the same depth)"},
    {K("attn_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, train.attn_weight),
     .help = "attention-map MSE weight (teacher of the same depth)"},
    KEY_TRAIN_SAMPLES(T),
};
#undef T
SECTION(L0PRUNE, "l0prune",
        "learned structured pruning: hard-concrete gates on every head and neuron under a "
        "Lagrangian sparsity target, with distillation, then compaction (EfficientVLM)",
        L0PRUNE_KEYS, false);

/* ---- the stage ------------------------------------------------------------------------ */

typedef struct {
    l0_state *gates;
    const pl_metrics_sink *sink;
} l0_run;

static pl_status sample_hook(void *ctx, vlm_input *in, int64_t step, pl_error *err) {
    (void)in, (void)err;
    l0_sample(((l0_run *)ctx)->gates, step);
    return PL_OK;
}

static pl_status gate_step_hook(void *ctx, int64_t step, vlm_losses *loss, pl_error *err) {
    (void)loss;
    l0_run *r = ctx;
    l0_report rep;
    PL_TRY(l0_step(r->gates, step, &rep, err));
    static const char *const names[MODULE_COUNT] = {"expected_sparsity_vision",
                                                    "expected_sparsity_bridge",
                                                    "expected_sparsity_language"};
    PL_TRY(pl_metric_step(r->sink, "expected_sparsity", step, rep.sparsity, err));
    for (int m = 0; m < MODULE_COUNT; m++)
        PL_TRY(pl_metric_step(r->sink, names[m], step, rep.module_sparsity[m], err));
    PL_TRY(pl_metric_step(r->sink, "sparsity_target", step, rep.target, err));
    PL_TRY(pl_metric_step(r->sink, "lagrangian_l1", step, rep.l1, err));
    PL_TRY(pl_metric_step(r->sink, "lagrangian_l2", step, rep.l2, err));
    return pl_metric_step(r->sink, "penalty", step, rep.penalty, err);
}

/* The section into settings: every weight trains with finetune's loss, each replicate seed
 * on a stream of its own, its gates drawn from the same seed. */
static pl_status settings_of(const cfg_node *section, const cfg_node *run, l0prune_settings *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    finetune_config_default(&out->train);
    out->train.adapter = ADAPTER_NONE;
    out->train.stage = "l0prune";
    PL_TRY(cfg_bind(&L0PRUNE, section, out, err));
    PL_TRY(settings_training_run(run, &out->train, true, err));
    out->gates.seed = out->train.seed;
    return PL_OK;
}

static pl_status stage_l0prune(vlm *in, const cfg_node *section, const cfg_node *run,
                               const pl_data *data, vlm *out, const pl_metrics_sink *sink,
                               pl_error *err) {
    PL_TRY(pl_stage_require_merged(in, "l0prune", err));
    l0prune_settings settings;
    PL_TRY(settings_of(section, run, &settings, err));
    l0_config lc = settings.gates;
    finetune_config fc = settings.train;
    pl_stage_take(in, out);
    const int needs_teacher = finetune_uses_teacher(&fc);
    if (needs_teacher && teacher_source_of(settings.teacher) == TEACHER_INPUT && out->masks.data != NULL)
        return PL_ERROR(err, PL_ERR_CONFIG, "l0prune.teacher 'input' would be the input's "
                        "unmasked weights, since it carries pruning masks; use 'first' or a "
                        "checkpoint path");
    l0_state gates;
    PL_TRY(l0_init(&gates, out, &lc, err));
    vlm owned, *teacher = NULL;
    pl_status st = needs_teacher ? teacher_load(settings.teacher, pl_stage_first_file(run), "l0prune.teacher",
                                                fc.batch_size, &owned, &teacher, err)
                                 : PL_OK;
    if (st != PL_OK) {
        l0_free(&gates);
        return st;
    }
    l0_run r = {&gates, sink};
    const train_hooks hooks = {.ctx = &r, .before_forward = sample_hook, .after_backward = gate_step_hook};
    fc.gates = &gates.gates;
    fc.hooks = &hooks;
    st = finetune_run(out, needs_teacher ? teacher : NULL, data, &fc, NULL, sink, err);
    if (teacher != NULL) vlm_free(teacher);
    int removed = 0;
    if (st == PL_OK) st = l0_finalise(&gates, out, &removed, err);
    double expected = 0.0, per_module[MODULE_COUNT] = {0};
    if (st == PL_OK) expected = l0_expected_sparsity(&gates, per_module);
    l0_free(&gates);
    if (st != PL_OK) return st;
    PL_TRY(pl_metric_summary(sink, "units_removed", removed, err));
    PL_TRY(pl_metric_summary(sink, "expected_sparsity_final", expected, err));
    for (int m = 0; m < MODULE_COUNT; m++) { /* the learned split */
        char name[64];
        snprintf(name, sizeof name, "expected_sparsity_final_%s", module_name((pl_module)m));
        PL_TRY(pl_metric_summary(sink, name, per_module[m], err));
    }
    PL_TRY(prune_structured_report(out, sink, err));
    vlm compacted;
    PL_TRY(vlm_compact(out, &compacted, err));
    vlm_free(out);
    pl_stage_take(&compacted, out);
    return sparsity_report(out, sink, 0, err);
}

const pl_stage_kind PL_STAGE_L0PRUNE = {.schema = &L0PRUNE, .run = stage_l0prune,
                                        .produces_model = true, .batch_key = "batch_size", .trains = true,
                                        .files = {{"teacher", TEACHER_WORDS}}};
