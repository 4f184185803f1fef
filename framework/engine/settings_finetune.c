/* settings_finetune.c - `finetune` section -> finetune_settings (see the header). */
#include "engine/settings_finetune.h"

#include "engine/settings.h"

#include <string.h>

#include "config/path.h"

static unsigned list_bits(const cfg_node *list, unsigned (*bit_of)(const char *)) {
    unsigned bits = 0;
    for (int i = 0; list && i < list->u.list.count; i++) bits |= bit_of(list->u.list.items[i]->u.s);
    return bits;
}

static unsigned module_bit(const char *name) {
    return strcmp(name, "vision") == 0 ? 1u << MODULE_VISION
         : strcmp(name, "bridge") == 0 ? 1u << MODULE_BRIDGE
         : strcmp(name, "language") == 0 ? 1u << MODULE_LANGUAGE : 0u;
}

static pl_status get_f(const cfg_node *n, const char *path, float *out, pl_error *err) {
    double v;
    PL_TRY(cfg_get_float(n, path, &v, err));
    *out = (float)v;
    return PL_OK;
}
static pl_status get_i(const cfg_node *n, const char *path, int *out, pl_error *err) {
    long long v;
    PL_TRY(cfg_get_int(n, path, &v, err));
    *out = (int)v;
    return PL_OK;
}

/* The schedule keys every training stage built on finetune_run has, and the run's seed. */
static pl_status schedule_keys(const cfg_node *stage, const cfg_node *run, finetune_config *c,
                               pl_error *err) {
    PL_TRY(get_i(stage, "steps", &c->steps, err));
    PL_TRY(get_i(stage, "batch_size", &c->batch_size, err));
    PL_TRY(get_f(stage, "lr", &c->lr, err));
    PL_TRY(get_i(stage, "warmup", &c->warmup, err));
    long long budget = 0; /* absent: unlimited */
    if (cfg_get(stage, "train_samples") != NULL) PL_TRY(cfg_get_int(stage, "train_samples", &budget, err));
    c->train_samples = budget;
    /* optional: absent keeps finetune_config_default's (no evaluation while training) */
    if (cfg_get(stage, "eval_every") != NULL) PL_TRY(get_i(stage, "eval_every", &c->eval_every, err));
    if (cfg_get(stage, "eval_samples") != NULL) PL_TRY(get_i(stage, "eval_samples", &c->eval_samples, err));
    long long seed;
    PL_TRY(cfg_get_int(run, "seed", &seed, err));
    c->seed = (uint64_t)seed;
    return settings_precision(run, &c->precision, err);
}

/* The keys finetune and distill share: the schedule and the loss weights. */
static pl_status training_keys(const cfg_node *stage, const cfg_node *run, finetune_config *c,
                               pl_error *err) {
    PL_TRY(schedule_keys(stage, run, c, err));
    PL_TRY(get_f(stage, "lambda", &c->lambda, err));
    PL_TRY(get_f(stage, "temperature", &c->temperature, err));
    PL_TRY(get_f(stage, "hidden_weight", &c->hidden_weight, err));
    return get_f(stage, "attn_weight", &c->attn_weight, err);
}

/* A training whose only randomness is its data draws replicate seed s's batches from a
 * stream of its own, 2^34 samples further per seed. */
static void seed_stream(finetune_config *c) {
    c->first_sample += (int64_t)(c->seed % (1u << 20)) << 34;
}

pl_status settings_finetune(const cfg_node *stage, const cfg_node *run, finetune_settings *out,
                            pl_error *err) {
    memset(out, 0, sizeof *out);
    finetune_config *c = &out->train;
    finetune_config_default(c);
    const char *adapter;
    PL_TRY(cfg_get_string(stage, "adapter", &adapter, err));
    c->adapter = strcmp(adapter, "lora") == 0 ? ADAPTER_LORA
               : strcmp(adapter, "sparselora") == 0 ? ADAPTER_SPARSELORA : ADAPTER_NONE;
    PL_TRY(get_i(stage, "rank.vision", &c->adapters.rank[MODULE_VISION], err));
    PL_TRY(get_i(stage, "rank.bridge", &c->adapters.rank[MODULE_BRIDGE], err));
    PL_TRY(get_i(stage, "rank.language", &c->adapters.rank[MODULE_LANGUAGE], err));
    PL_TRY(get_f(stage, "alpha", &c->adapters.alpha, err));
    c->adapters.modules = list_bits(cfg_get(stage, "targets"), module_bit);
    c->adapters.layer_kinds = list_bits(cfg_get(stage, "layer_kinds"), adapter_layer_kind_parse);
    PL_TRY(training_keys(stage, run, c, err));
    if (c->adapter == ADAPTER_NONE) seed_stream(c); /* finetune numerics 1 */
    bool merge;
    PL_TRY(cfg_get_bool(stage, "merge", &merge, err));
    out->merge = merge;
    return cfg_get_string(stage, "teacher", &out->teacher, err);
}

pl_status settings_distill(const cfg_node *stage, const cfg_node *run, finetune_config *c,
                           pl_error *err) {
    finetune_config_default(c);
    c->adapter = ADAPTER_NONE; /* every student weight trains */
    c->stage = "distill";
    PL_TRY(training_keys(stage, run, c, err));
    /* Nothing else in a distill is random (the student copies teacher blocks): distill
     * numerics 1. */
    seed_stream(c);
    return PL_OK;
}

pl_status settings_loraprune_training(const cfg_node *stage, const cfg_node *run,
                                      finetune_config *c, pl_error *err) {
    finetune_config_default(c);
    c->adapter = ADAPTER_LORA;
    c->stage = "loraprune";
    c->lambda = 0.0f; /* the task loss alone */
    c->adapters.modules = (1u << MODULE_VISION) | (1u << MODULE_BRIDGE) | (1u << MODULE_LANGUAGE);
    c->adapters.layer_kinds = LAYER_QKV | LAYER_PROJ | LAYER_FC1 | LAYER_FC2;
    PL_TRY(get_i(stage, "rank.vision", &c->adapters.rank[MODULE_VISION], err));
    PL_TRY(get_i(stage, "rank.bridge", &c->adapters.rank[MODULE_BRIDGE], err));
    PL_TRY(get_i(stage, "rank.language", &c->adapters.rank[MODULE_LANGUAGE], err));
    PL_TRY(get_f(stage, "alpha", &c->adapters.alpha, err));
    return schedule_keys(stage, run, c, err);
}
