/* stage_loraprune.c - the loraprune stage (LoRAPrune): LoRA fine-tuning of the current model
 * on the task loss, during which attention heads and MLP neurons are removed on a cubic
 * schedule by their LoRA-gradient importance (prune/loraprune.h; or by the true weight
 * gradient, or by magnitude); at the end the adapters are merged and the removed units cut
 * out (model/compact.h). Summary: what each block keeps (heads_kept_*, neurons_kept_*,
 * removed_fraction), the bytes of gradient and optimizer state the criterion needs, the
 * process's peak resident memory, samples/s, and the compacted model's parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>

#include "config/bind.h"
#include "config/path.h"
#include "config/schema_keys.h"
#include "core/timing.h"
#include "engine/stage_settings.h"
#include "engine/stage.h"
#include "model/compact.h"
#include "prune/loraprune.h"
#include "prune/sparsity.h"
#include "prune/structured.h"
#include "tune/finetune.h"

/* ---- settings (the `loraprune` section of an experiment) ---- */

typedef struct {
    loraprune_config prune;
    finetune_config train;
    double warmup_frac, cooldown_frac; /* checked together as given, then the schedule's */
    const cfg_node *protect;      /* module.block names: read against the model's depth */
    const cfg_node *compare_grad; /* optional bool */
} loraprune_settings;

static const cfg_key LP_RANK_KEYS[] = {
    MODULE_INTS(RANK_RANGE, "8", "adapter rank in the vision encoder", "8", "adapter rank in the bridge",
                "8", "adapter rank in the language model"),
};
SECTION(LP_RANK, "rank", "LoRA rank per module", LP_RANK_KEYS, false);

#define T loraprune_settings
static const cfg_key LORAPRUNE_KEYS[] = {
    {K("ratio", CFG_T_FLOAT, "0.5"), UNIT_OPEN, AT_FLOAT(T, prune.ratio),
     .help = "fraction of each block's attention heads and MLP neurons removed by the end "
             "(int(n * ratio) of n), in [0, 1)"},
    {K("criterion", CFG_T_ENUM, "lora"), .choices = "lora|grad|magnitude", AT_CHOICE(T, prune.criterion, NULL),
     .help = "importance |G * W|: lora estimates G = dB A + B dA - dB dA from the factors' "
             "gradients, grad uses the true weight gradient (held in memory), magnitude |W|"},
    {K("compare_grad", CFG_T_BOOL, NULL), .flags = CFG_KEY_OPTIONAL, AT_NODE(T, compare_grad),
     .help = "with criterion lora: also score units by the true weight gradient (computing it, as "
             "grad does) and report how the two rankings agree (summary spearman_lora_grad at the "
             "first pruning step and _final at the end); pruning still follows lora"},
    {K("one_shot", CFG_T_BOOL, "false"), AT_BOOL(T, prune.one_shot),
     .help = "prune to the ratio once, at the end of the warm-up fraction, then fine-tune"},
    {K("every", CFG_T_INT, "10"), GE(1), AT_INT(T, prune.every), .help = "steps between pruning events"},
    {K("warmup_frac", CFG_T_FLOAT, "0.1"), UNIT_OPEN, AT_DOUBLE(T, warmup_frac),
     .help = "share of the steps before the first pruning"},
    {K("cooldown_frac", CFG_T_FLOAT, "0.1"), UNIT_OPEN, AT_DOUBLE(T, cooldown_frac),
     .help = "share of the steps at the end that fine-tune at the final ratio"},
    {K("protect", CFG_T_LIST, "[]"), .item = CFG_T_STRING, AT_NODE(T, protect),
     .help = "blocks never pruned, as module.block (vision.0, language.5; blocks from 0)"},
    {K("steps", CFG_T_INT, "500"), GE(1), AT_INT(T, train.steps), .help = "fine-tuning steps"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), AT_INT(T, train.batch_size), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "1e-3"), GT(0), AT_FLOAT(T, train.lr), .help = "peak learning rate of the LoRA factors"},
    {K("warmup", CFG_T_INT, "50"), GE(0), AT_INT(T, train.warmup), .help = "linear learning-rate warm-up steps"},
    {K("rank", CFG_T_MAP, "{}"), .sub = &LP_RANK, AT_SECTION(T, train.adapters.rank), .help = "adapter rank per module"},
    {K("alpha", CFG_T_FLOAT, "16"), GT(0), AT_FLOAT(T, train.adapters.alpha),
     .help = "LoRA scale numerator (s = alpha / rank)"},
    KEY_TRAIN_SAMPLES(T),
};
#undef T
SECTION(LORAPRUNE, "loraprune",
        "LoRA fine-tuning that removes heads and neurons by LoRA-gradient importance on a cubic "
        "schedule, then merges and compacts (LoRAPrune)", LORAPRUNE_KEYS, false);

/* ---- the stage ------------------------------------------------------------------------ */

typedef struct { /* what the per-step hooks reach */
    loraprune_state *state;
    vlm *model;
    adapter_set *adapters;
    int weight_grads;
    int removed;
    loraprune_state *shadow; /* compare_grad: the grad criterion's scores, never applied */
    double rho_first;        /* their agreement at the first pruning step (NAN before it) */
} lp_run;

static pl_status observe_hook(void *ctx, int64_t step, vlm_losses *loss, pl_error *err) {
    (void)step, (void)loss, (void)err;
    lp_run *r = ctx;
    loraprune_observe(r->state, r->model, r->adapters, r->weight_grads && !r->shadow ? &r->model->grads : NULL);
    if (r->shadow) loraprune_observe(r->shadow, r->model, r->adapters, &r->model->grads);
    return PL_OK;
}

static pl_status prune_hook(void *ctx, int64_t step, pl_error *err) {
    lp_run *r = ctx;
    if (!loraprune_prunes_at(&r->state->cfg, (int)step)) return PL_OK;
    if (r->shadow && isnan(r->rho_first))
        PL_TRY(loraprune_rank_agreement(r->state, r->shadow, r->model, &r->rho_first, err));
    const int n = loraprune_apply(r->state, r->model, r->adapters, (int)step, err);
    if (n < 0) return pl_error_wrap(err, "loraprune at step %lld", (long long)step);
    r->removed += n;
    return PL_OK;
}

/* protect: ["vision.0", ...] into c->protect; an unknown module or block fails naming it. */
static pl_status protect_of(const cfg_node *list, const model_config *mc, loraprune_config *c,
                            pl_error *err) {
    for (int i = 0; list != NULL && i < list->u.list.count; i++) {
        const char *text = list->u.list.items[i]->u.s;
        const char *dot = strchr(text, '.');
        int mod = -1;
        for (int m = 0; dot != NULL && m < MODULE_COUNT; m++)
            if (strlen(module_name((pl_module)m)) == (size_t)(dot - text) &&
                strncmp(text, module_name((pl_module)m), (size_t)(dot - text)) == 0)
                mod = m;
        char *end = NULL;
        const long block = dot != NULL ? strtol(dot + 1, &end, 10) : -1;
        if (mod < 0 || end == dot + 1 || *end != '\0' || block < 0 ||
            block >= module_layers(mc, (pl_module)mod))
            return cfg_error_at(err, list->u.list.items[i]->pos,
                                "loraprune.protect: '%s' names no block of this model; write "
                                "module.block with module vision, bridge or language and a "
                                "block from 0 (this model has %d/%d/%d blocks)", text,
                                mc->layers_vision, mc->layers_query, mc->layers_language);
        c->protect[mod][block] = 1;
    }
    return PL_OK;
}

/* The section into settings: LoRA on the qkv, proj, fc1 and fc2 layers of every module, the
 * task loss alone; one `steps` for the schedule and the training. */
static pl_status settings_of(const cfg_node *section, const cfg_node *run, const model_config *mc,
                             loraprune_settings *out, bool *compare_grad, pl_error *err) {
    memset(out, 0, sizeof *out);
    finetune_config *fc = &out->train;
    loraprune_config *lc = &out->prune;
    finetune_config_default(fc);
    fc->adapter = ADAPTER_LORA;
    fc->stage = "loraprune";
    fc->lambda = 0.0f; /* the task loss alone */
    fc->adapters.modules = (1u << MODULE_VISION) | (1u << MODULE_BRIDGE) | (1u << MODULE_LANGUAGE);
    fc->adapters.layer_kinds = LAYER_QKV | LAYER_PROJ | LAYER_FC1 | LAYER_FC2;
    PL_TRY(cfg_bind(&LORAPRUNE, section, out, err));
    lc->steps = fc->steps;
    if (out->warmup_frac + out->cooldown_frac >= 1.0)
        return PL_ERROR(err, PL_ERR_CONFIG, "loraprune.warmup_frac + cooldown_frac = %g leaves no "
                        "steps to prune in; keep their sum below 1", out->warmup_frac + out->cooldown_frac);
    lc->warmup_frac = (float)out->warmup_frac, lc->cooldown_frac = (float)out->cooldown_frac;
    PL_TRY(protect_of(out->protect, mc, lc, err));
    PL_TRY(settings_training_run(run, fc, false, err));
    *compare_grad = out->compare_grad != NULL && out->compare_grad->u.b;
    if (*compare_grad && lc->criterion != LORAPRUNE_LORA)
        return cfg_error_at(err, out->compare_grad->pos, "loraprune.compare_grad compares the lora criterion "
                            "with grad; this stage's criterion is %s", loraprune_criterion_name(lc->criterion));
    fc->weight_grads = lc->criterion == LORAPRUNE_GRAD || *compare_grad;
    return PL_OK;
}

/* The memory the criterion's importance needs besides the forward pass: gradients (the
 * factors', plus the dense weight gradient for grad) and AdamW's two moments of the factors. */
static pl_status report_memory(const vlm *m, const adapter_set *a, const loraprune_config *lc,
                               const pl_metrics_sink *sink, pl_error *err) {
    const double factors = (double)a->layout.total * sizeof(float);
    double weight_grad = 0.0;
    if (lc->criterion == LORAPRUNE_GRAD)
        for (int t = 0; t < m->index.layout.count; t++)
            if (a->a_of[t] >= 0) weight_grad += (double)m->index.layout.tensors[t].count * sizeof(float);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    PL_TRY(pl_metric_summary(sink, "grad_bytes", factors + weight_grad, err));
    PL_TRY(pl_metric_summary(sink, "optimizer_bytes", 2.0 * factors, err));
    return pl_metric_summary(sink, "peak_rss_mib", (double)ru.ru_maxrss / 1024.0, err);
}

static pl_status stage_loraprune(vlm *in, const cfg_node *section, const cfg_node *run,
                                 const pl_data *data, vlm *out, const pl_metrics_sink *sink,
                                 pl_error *err) {
    PL_TRY(pl_stage_require_merged(in, "loraprune", err));
    loraprune_settings settings;
    bool compare_grad;
    PL_TRY(settings_of(section, run, &in->cfg, &settings, &compare_grad, err));
    loraprune_config lc = settings.prune;
    finetune_config fc = settings.train;
    pl_stage_take(in, out);
    loraprune_state state, shadow;
    PL_TRY(loraprune_state_init(&state, out, &lc, err));
    loraprune_config grad_cfg = lc;
    grad_cfg.criterion = LORAPRUNE_GRAD;
    if (compare_grad && loraprune_state_init(&shadow, out, &grad_cfg, err) != PL_OK) {
        loraprune_state_free(&state);
        return PL_ERR_NOMEM;
    }
    adapter_set adapters;
    memset(&adapters, 0, sizeof adapters);
    lp_run r = {&state, out, &adapters, lc.criterion == LORAPRUNE_GRAD, 0, compare_grad ? &shadow : NULL, NAN};
    const train_hooks hooks = {.ctx = &r, .after_backward = observe_hook, .after_step = prune_hook};
    fc.hooks = &hooks;
    const double start = pl_now();
    pl_status st = finetune_run(out, NULL, data, &fc, &adapters, sink, err);
    const double seconds = pl_now() - start;
    if (st == PL_OK && compare_grad) {
        double rho_final;
        st = loraprune_rank_agreement(&state, &shadow, out, &rho_final, err);
        if (st == PL_OK) st = pl_metric_summary(sink, "spearman_lora_grad", r.rho_first, err);
        if (st == PL_OK) st = pl_metric_summary(sink, "spearman_lora_grad_final", rho_final, err);
    }
    loraprune_state_free(&state);
    if (compare_grad) loraprune_state_free(&shadow);
    if (st != PL_OK) return st;
    st = report_memory(out, &adapters, &lc, sink, err);
    if (st == PL_OK) st = pl_metric_summary(sink, "samples_per_s", lc.steps * fc.batch_size / seconds, err);
    if (st == PL_OK) st = pl_metric_summary(sink, "units_removed", r.removed, err);
    if (st == PL_OK) st = prune_structured_report(out, sink, err);
    if (st == PL_OK) adapters_merge(&adapters, &out->index, &out->params, &out->masks);
    adapters_free(&adapters);
    if (st != PL_OK) return st;
    vlm compacted;
    PL_TRY(vlm_compact(out, &compacted, err));
    vlm_free(out);
    pl_stage_take(&compacted, out);
    return sparsity_report(out, sink, 0, err);
}

const pl_stage_kind PL_STAGE_LORAPRUNE = {.schema = &LORAPRUNE, .run = stage_loraprune,
                                          .produces_model = true, .batch_key = "batch_size", .trains = true};
