/* stage_finetune.c - the finetune stage: recovery with masked full fine-tuning, LoRA or
 * SparseLoRA plus distillation (tune/finetune.h), then the adapters merged into W with the
 * measured sparsity reported before and after the merge (sparsity_*_premerge and the
 * usual sparsity_* after). With merge: false the output model carries the factors unmerged
 * (saved in its checkpoint, applied by later eval stages) and sparsity_* describe W⊙M. */
#include <string.h>

#include "config/bind.h"
#include "config/path.h"
#include "config/schema_keys.h"
#include "engine/settings.h"
#include "engine/stage_settings.h"
#include "engine/stage.h"
#include "model/checkpoint.h"
#include "prune/methods.h"
#include "prune/sparsity.h"
#include "tune/teacher.h"

/* ---- settings (the `finetune` section of an experiment) ---- */

/* A list of linear layer names into their LAYER_* bits. */
static pl_status layers_into_bits(const cfg_node *v, void *field, const char *name, pl_error *err) {
    unsigned bits = 0;
    for (int i = 0; i < v->u.list.count; i++) {
        const unsigned bit = adapter_layer_kind_parse(v->u.list.items[i]->u.s);
        if (bit == 0)
            return PL_ERROR(err, PL_ERR_CONFIG, "finetune.%s: '%s' is no linear layer", name, v->u.list.items[i]->u.s);
        bits |= bit;
    }
    *(unsigned *)field = bits;
    return PL_OK;
}

static const cfg_key RANK_KEYS[] = {
    MODULE_INTS(RANK_RANGE, "4", "adapter rank in the vision encoder", "2", "adapter rank in the bridge",
                "8", "adapter rank in the language model"),
};
SECTION(RANK, "rank", "LoRA rank per module", RANK_KEYS, false);

#define T finetune_settings
static const cfg_key FINETUNE_KEYS[] = {
    {K("adapter", CFG_T_ENUM, "sparselora"), .choices = "none|lora|sparselora", AT_CHOICE(T, train.adapter, NULL),
     .help = "none = masked full fine-tuning; lora = W*M + s*BA; sparselora = (W + s*BA)*M"},
    {K("rank", CFG_T_MAP, "{}"), .sub = &RANK, AT_SECTION(T, train.adapters.rank), .help = "adapter rank per module"},
    {K("alpha", CFG_T_FLOAT, "16"), GT(0), AT_FLOAT(T, train.adapters.alpha),
     .help = "LoRA scale numerator (s = alpha / rank)"},
    {K("targets", CFG_T_LIST, "[vision, language]"), .item = CFG_T_ENUM, .choices = "vision|bridge|language",
     AT_CONVERT(T, train.adapters.modules, pl_modules_into_bits), .help = "modules that get adapters"},
    {K("layer_kinds", CFG_T_LIST, "[qkv, proj, fc1, fc2]"), .item = CFG_T_ENUM,
     .choices = "qkv|proj|fc1|fc2|cross_q|cross_kv|cross_proj", AT_CONVERT(T, train.adapters.layer_kinds, layers_into_bits),
     .help = "linear layers that get adapters"},
    {K("merge", CFG_T_BOOL, "true"), AT_BOOL(T, merge),
     .help = "fold adapters into the weights at the end; false keeps them as factors in the output checkpoint"},
    {K("steps", CFG_T_INT, "500"), GE(0), AT_INT(T, train.steps), .help = "fine-tuning steps"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), AT_INT(T, train.batch_size), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "1e-3"), GT(0), AT_FLOAT(T, train.lr), .help = "peak learning rate"},
    {K("warmup", CFG_T_INT, "50"), GE(0), AT_INT(T, train.warmup), .help = "linear warm-up steps"},
    {K("lambda", CFG_T_FLOAT, "0.5"), UNIT, AT_FLOAT(T, train.lambda),
     .help = "KD weight: L = (1-lambda) L_task + lambda T^2 KL(teacher || student) + hidden_weight "
             "L_hid + attn_weight L_attn, as in distill"},
    {K("temperature", CFG_T_FLOAT, "1.0"), GT(0), AT_FLOAT(T, train.temperature), .help = "KD softmax temperature"},
    {K("hidden_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, train.hidden_weight),
     .help = "hidden-state MSE weight w_h: L += w_h * mean over every block k of every module of "
             "mean((out_k - teacher out_k)^2); logged as loss_hidden"},
    {K("attn_weight", CFG_T_FLOAT, "0.0"), GE(0), AT_FLOAT(T, train.attn_weight),
     .help = "attention-map MSE weight w_a: the same over each block's self-attention "
             "probabilities; logged as loss_attn"},
    {K("teacher", CFG_T_STRING, "same"), AT_TEXT(T, teacher), .synonyms = "input=same", .help = TEACHER_HELP},
    KEY_TRAIN_SAMPLES(T),
    KEYS_EVAL_WHILE_TRAINING(T),
};
#undef T
SECTION(FINETUNE, "finetune", "recover accuracy with adapters and distillation", FINETUNE_KEYS, false);

pl_status settings_training_run(const cfg_node *run, finetune_config *c, bool seed_stream, pl_error *err) {
    long long seed;
    PL_TRY(cfg_run_seed(run, &seed, err));
    c->seed = (uint64_t)seed;
    if (seed_stream) c->first_sample += (int64_t)(c->seed % (1u << 20)) << 34;
    return settings_precision(run, &c->precision, err);
}

pl_status settings_finetune(const cfg_node *section, const cfg_node *run, finetune_settings *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    finetune_config_default(&out->train);
    PL_TRY(cfg_bind(&FINETUNE, section, out, err));
    /* masked full fine-tuning draws each seed's batches from its own stream (numerics 1);
     * an adapter's seed draws its initialisation */
    return settings_training_run(run, &out->train, out->train.adapter == ADAPTER_NONE, err);
}

static pl_status stage_finetune(vlm *in, const cfg_node *section, const cfg_node *run,
                         const pl_data *data, vlm *out, const pl_metrics_sink *sink,
                         pl_error *err) {
    finetune_settings fs;
    PL_TRY(settings_finetune(section, run, &fs, err));
    PL_TRY(pl_stage_require_merged(in, "finetune", err));
    const bool input_teacher = finetune_uses_teacher(&fs.train) && teacher_source_of(fs.teacher) == TEACHER_INPUT;
    for (int i = 0; input_teacher && i < cfg_stage_count(run); i++) {
        const char *kind;
        const cfg_node *stage = cfg_stage_at(run, i, &kind);
        prune_config pc;
        if (pl_stage_find(kind) != &PL_STAGE_PRUNE || settings_prune(stage, &pc, NULL) != PL_OK ||
            !PRUNE_METHODS[pc.method].updates_kept_weights)
            continue;
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "finetune.teacher 'input' (the unmasked weights) is not the dense "
                        "model after %s, which updates the kept weights; set "
                        "finetune.teacher to 'first' or the teacher's checkpoint, or lambda, "
                        "hidden_weight and attn_weight to 0", PRUNE_METHODS[pc.method].name);
    }
    pl_stage_take(in, out);
    vlm owned, *teacher;
    PL_TRY(teacher_load(fs.teacher, pl_stage_first_file(run), "finetune.teacher", out->max_batch, &owned,
                        &teacher, err));
    adapter_set adapters;
    memset(&adapters, 0, sizeof adapters);
    pl_status st = finetune_run(out, teacher, data, &fs.train, &adapters, sink, err);
    if (teacher != NULL) vlm_free(teacher);
    if (st != PL_OK || fs.train.adapter == ADAPTER_NONE) return st == PL_OK ? sparsity_report(out, sink, 0, err) : st;
    if (!fs.merge) { /* the output carries the factors; later eval stages apply them */
        adapters_move(&out->adapters, &adapters);
        return sparsity_report(out, sink, 0, err);
    }
    st = sparsity_report_modules(out, sink, "_premerge", err);
    if (st == PL_OK) {
        adapters_merge(&adapters, &out->index, &out->params, &out->masks);
        st = sparsity_report(out, sink, 0, err);
    }
    if (st == PL_OK) st = sparsity_check_masked_zero(out, err);
    adapters_free(&adapters);
    return st;
}

/* 1 for masked full fine-tuning: the run seed picks its training stream (version 0 drew
 * every seed's batches from one stream, so its "replicates" were identical). Adapters keep
 * version 0: their seed draws the adapter initialisation, as it always did. */
static int finetune_numerics(const cfg_node *section) {
    finetune_settings fs = {0};
    return cfg_bind(&FINETUNE, section, &fs, NULL) == PL_OK && fs.train.adapter == ADAPTER_NONE;
}

const pl_stage_kind PL_STAGE_FINETUNE = {.schema = &FINETUNE, .run = stage_finetune, .produces_model = true,
                                         .batch_key = "batch_size", .trains = true,
                                         .files = {{"teacher", TEACHER_WORDS}}, .numerics_of = finetune_numerics};
