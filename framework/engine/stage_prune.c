/* stage_prune.c - the prune stage: one-shot pruning of each module to its target sparsity
 * (prune/prune.h), calibrated on the run seed's window of the calib split; the measured
 * sparsity goes to the summary. */
#include <stdlib.h>
#include <string.h>

#include "config/bind.h"
#include "config/schema_keys.h"
#include "config/settings_types.h"
#include "engine/stage_settings.h"
#include "engine/stage.h"
#include "prune/prune.h"

/* ---- settings (the `prune` section of an experiment) ---- */

static bool parse_nm(const char *s, long *n, long *m) {
    char *end;
    if (*s < '0' || *s > '9') return false;
    *n = strtol(s, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9') return false;
    *m = strtol(end + 1, &end, 10);
    return *end == '\0';
}

/* The pattern into the whole prune_config: structured, or N:M (nm_n, nm_m), or neither. */
static pl_status pattern_into_config(const cfg_node *v, void *field, const char *name, pl_error *err) {
    prune_config *c = field;
    long n = 0, m = 0;
    c->structured = strcmp(v->u.s, "structured") == 0;
    c->nm_n = c->nm_m = 0;
    if (c->structured || strcmp(v->u.s, "unstructured") == 0) return PL_OK;
    if (!parse_nm(v->u.s, &n, &m) || n <= 0 || m <= n || m > 4096)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.%s '%s': write 'unstructured' or N:M with 0 < N < M", name, v->u.s);
    c->nm_n = (int)n, c->nm_m = (int)m;
    return PL_OK;
}

static bool check_pattern(const cfg_node *v, char *why, size_t size) {
    long n, m;
    if (strcmp(v->u.s, "unstructured") == 0 || strcmp(v->u.s, "structured") == 0) return true;
    if (!parse_nm(v->u.s, &n, &m)) {
        snprintf(why, size, "write 'unstructured', 'structured' or N:M such as '2:4'");
        return false;
    }
    if (n <= 0 || m <= 0 || n >= m || m > 4096) {
        snprintf(why, size, "an N:M pattern prunes N of every M weights, so it needs 0 < N < M "
                 "(such as 2:4 or 4:8)");
        return false;
    }
    return true;
}

static const cfg_key MODULE_SPARSITY_KEYS[] = {
    MODULE_FLOATS(UNIT_OPEN, "0.5", "fraction of vision encoder weights removed (sv)",
                  "0.0", "fraction of bridge weights removed",
                  "0.5", "fraction of language model weights removed (sl)"),
};
SECTION(MODULE_SPARSITY, "sparsity", "target sparsity per module (fraction removed)", MODULE_SPARSITY_KEYS, false);

static const cfg_key HEAD_FRACTION_KEYS[] = {
    MODULE_FLOATS(UNIT_OPEN, "0.0", "fraction of the vision encoder's attention heads removed",
                  "0.0", "fraction of the bridge's self-attention heads removed",
                  "0.0", "fraction of the language model's attention heads removed"),
};
SECTION(HEAD_FRACTIONS, "heads", "fraction of self-attention heads removed per module (pattern: structured)",
        HEAD_FRACTION_KEYS, false);

static const cfg_key NEURON_FRACTION_KEYS[] = {
    MODULE_FLOATS(UNIT_OPEN, "0.0", "fraction of the vision encoder's MLP neurons removed",
                  "0.0", "fraction of the bridge's MLP neurons removed",
                  "0.0", "fraction of the language model's MLP neurons removed"),
};
SECTION(NEURON_FRACTIONS, "neurons", "fraction of MLP neurons removed per module (pattern: structured)",
        NEURON_FRACTION_KEYS, false);

/* heads, cross_heads, neurons and scope have no default (absent = not structured), so an
 * experiment without them hashes as before. */
static const cfg_key PRUNE_KEYS[] = {
    {K("method", CFG_T_ENUM, "wanda"), .choices = "magnitude|wanda|sparsegpt", AT_CHOICE(prune_config, method, NULL),
     .help = "importance score; with pattern: structured, magnitude is a unit's L2 norm and wanda "
             "sums |W_ij|*sqrt(mean x_j^2) over its weights (calibrated like Wanda)"},
    {K("pattern", CFG_T_STRING, "unstructured"), .choices = "unstructured, structured or N:M with 0 < N < M",
     .check = check_pattern, .bind = CFG_BIND_CONVERT, .offset = 0, .convert = pattern_into_config,
     .help = "sparsity pattern; structured removes whole attention heads and MLP neurons "
             "(heads, cross_heads, neurons, scope) and ignores sparsity and group"},
    {K("heads", CFG_T_MAP, NULL), .sub = &HEAD_FRACTIONS, .flags = CFG_KEY_OPTIONAL, AT_SECTION(prune_config, heads),
     .help = "structured: fraction of self-attention heads removed per module, 0 <= f < 1 "
             "(a head = its q, k, v rows of attn.qkv and its attn.proj columns)"},
    {K("cross_heads", CFG_T_FLOAT, NULL), UNIT_OPEN, .flags = CFG_KEY_OPTIONAL, AT_FLOAT(prune_config, cross_heads),
     .help = "structured: fraction of the bridge's cross-attention heads removed (default 0); "
             "every bridge block keeps at least one"},
    {K("neurons", CFG_T_MAP, NULL), .sub = &NEURON_FRACTIONS, .flags = CFG_KEY_OPTIONAL,
     AT_SECTION(prune_config, neurons),
     .help = "structured: fraction of MLP neurons removed per module, 0 <= f < 1 "
             "(a neuron = its mlp.fc1 row and bias and its mlp.fc2 column)"},
    {K("scope", CFG_T_ENUM, NULL), .choices = "block|module", .flags = CFG_KEY_OPTIONAL,
     AT_CHOICE(prune_config, scope, NULL),
     .help = "structured: rank units within each block (block, the default: every block loses "
             "the same fraction) or across the module (module: a block may lose all)"},
    {K("group", CFG_T_ENUM, "row"), .choices = "row|matrix", AT_CHOICE(prune_config, group, NULL),
     .help = "comparison group for unstructured masks"},
    {K("sparsity", CFG_T_MAP, "{}"), .sub = &MODULE_SPARSITY, AT_SECTION(prune_config, sparsity),
     .help = "fraction removed per module"},
    {K("calib_size", CFG_T_INT, "128"), GE(1), AT_INT(prune_config, calib_size),
     .help = "calibration samples (wanda, sparsegpt)"},
    {K("calibration", CFG_T_ENUM, "sequential"), .choices = "sequential|dense", AT_CHOICE(prune_config, calibration, NULL),
     .help = "block inputs from the already-pruned model (sequential) or the dense one"},
    {K("sparsegpt_block", CFG_T_INT, "128"), GE(1), AT_INT(prune_config, sparsegpt_block),
     .help = "SparseGPT column block size"},
    {K("sparsegpt_damp", CFG_T_FLOAT, "0.01"), GT(0), AT_FLOAT(prune_config, sparsegpt_damp),
     .help = "SparseGPT damping, fraction of the mean Hessian diagonal"},
};
SECTION(PRUNE, "prune", "one-shot pruning of each module to its target sparsity", PRUNE_KEYS, false);


pl_status settings_prune(const cfg_node *section, prune_config *out, pl_error *err) {
    prune_config_default(out);
    PL_TRY(cfg_bind(&PRUNE, section, out, err));
    /* the keys without a default (heads, cross_heads, neurons, scope) are structured ones */
    for (int i = 0; !out->structured && i < PRUNE.n_keys; i++)
        if (PRUNE.keys[i].def == NULL && cfg_map_get(section, PRUNE.keys[i].name) != NULL)
            return PL_ERROR(err, PL_ERR_CONFIG, "prune.%s is set, but prune.pattern is not 'structured': "
                            "whole heads and neurons are removed only with pattern: structured",
                            PRUNE.keys[i].name);
    return prune_config_check(out, err);
}

pl_status settings_prune_run(const cfg_node *section, const cfg_node *run, prune_config *out,
                             pl_error *err) {
    PL_TRY(settings_prune(section, out, err));
    long long seed;
    PL_TRY(cfg_run_seed(run, &seed, err));
    out->calib_start = (int64_t)seed * out->calib_size;
    return PL_OK;
}

static pl_status stage_prune(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                      vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    prune_config pc;
    PL_TRY(settings_prune_run(section, run, &pc, err));
    PL_TRY(pl_stage_require_merged(in, "prune", err));
    pl_stage_take(in, out);
    return prune_model(out, data, &pc, sink, err);
}

const pl_stage_kind PL_STAGE_PRUNE = {.schema = &PRUNE, .run = stage_prune, .produces_model = true};
