/* prune.c - the pruning stage's entry point: checks the config, walks the calibration
 * levels, prunes each layer with its method and reports the measured sparsity. */
#include "prune/prune.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timing.h"
#include "prune/calibrate.h"
#include "prune/methods.h"
#include "prune/sparsity.h"
#include "prune/structured.h"

void prune_config_default(prune_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->method = PRUNE_WANDA;
    cfg->group = PRUNE_GROUP_ROW;
    cfg->sparsity[MODULE_VISION] = 0.5f;
    cfg->sparsity[MODULE_LANGUAGE] = 0.5f;
    cfg->calib_size = 128;
    cfg->calibration = PRUNE_CALIB_SEQUENTIAL;
    cfg->sparsegpt_block = 128;
    cfg->sparsegpt_damp = 0.01f;
}

static pl_status check_fraction(const char *key, const char *module, float f, pl_error *err) {
    if (f >= 0.0f && f < 1.0f) return PL_OK;
    return PL_ERROR(err, PL_ERR_CONFIG, "prune.%s%s%s is %g; allowed: 0 <= f < 1 (a module keeps "
                    "at least one of its units)", key, module ? "." : "", module ? module : "",
                    (double)f);
}

static pl_status check_structured(const prune_config *cfg, pl_error *err) {
    if (!PRUNE_METHODS[cfg->method].structured)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.method '%s' has no structured form; "
                        "with prune.pattern: structured use magnitude or wanda", PRUNE_METHODS[cfg->method].name);
    if (cfg->nm_m != 0)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.pattern is either structured or N:M");
    if ((unsigned)cfg->scope > PRUNE_SCOPE_MODULE)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.scope %d is unknown", (int)cfg->scope);
    float any = cfg->cross_heads;
    PL_TRY(check_fraction("cross_heads", NULL, cfg->cross_heads, err));
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        PL_TRY(check_fraction("heads", module_name((pl_module)mod), cfg->heads[mod], err));
        PL_TRY(check_fraction("neurons", module_name((pl_module)mod), cfg->neurons[mod], err));
        any += cfg->heads[mod] + cfg->neurons[mod];
    }
    if (!(any > 0.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.pattern: structured removes nothing: set a "
                        "fraction above 0 in prune.heads, prune.cross_heads or prune.neurons");
    return PL_OK;
}

pl_status prune_config_check(const prune_config *cfg, pl_error *err) {
    if ((unsigned)cfg->method >= PRUNE_METHOD_COUNT)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.method %d is unknown", (int)cfg->method);
    if ((unsigned)cfg->group > PRUNE_GROUP_MATRIX)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.group %d is unknown", (int)cfg->group);
    if ((unsigned)cfg->calibration > PRUNE_CALIB_DENSE)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.calibration %d is unknown", (int)cfg->calibration);
    if (cfg->nm_m != 0 && (cfg->nm_n <= 0 || cfg->nm_n >= cfg->nm_m))
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.pattern %d:%d needs 0 < N < M", cfg->nm_n,
                        cfg->nm_m);
    /* each value's range is its schema key's (engine/stage_prune.c) and is guarded again
     * where a kernel consumes it (mask.c, calibrate.c, sparsegpt.c); here only what relates
     * two settings */
    const double nm = cfg->nm_m ? (double)cfg->nm_n / cfg->nm_m : 0.0;
    for (int mod = 0; mod < MODULE_COUNT && cfg->nm_m != 0; mod++) {
        const float s = cfg->sparsity[mod];
        if (s != 0.0f && fabs((double)s - nm) > 1e-6)
            return PL_ERROR(err, PL_ERR_CONFIG,
                            "prune.pattern %d:%d removes %g of every matrix, but "
                            "prune.sparsity.%s is %g; set it to %g, or to 0 to leave the "
                            "module dense", cfg->nm_n, cfg->nm_m, nm,
                            module_name((pl_module)mod), (double)s, nm);
    }
    if (cfg->structured) PL_TRY(check_structured(cfg, err));
    if (cfg->calib_start < 0)
        return PL_ERROR(err, PL_ERR_CONFIG, "the calibration start index must be >= 0, got %lld",
                        (long long)cfg->calib_start);
    return PL_OK;
}

typedef struct { /* one prune_model call */
    vlm *m;
    const pl_data *data;
    const prune_config *cfg;
    const pl_metrics_sink *sink;
    prune_site *sites;
    prune_stats *stats;
    int nsites;
} job;

static int active(const job *j, int i) { return j->cfg->sparsity[j->sites[i].module] > 0.0f; }

static pl_status prune_site_now(job *j, int i, pl_error *err) {
    const prune_config *cfg = j->cfg;
    const prune_site *site = &j->sites[i];
    const prune_rule rule = {cfg->sparsity[site->module], cfg->nm_n, cfg->nm_m, cfg->group};
    float *w = pl_buffer_view(&j->m->params, site->ref.weight);
    float *mask = pl_buffer_view(&j->m->masks, site->ref.weight);
    const int rows = site->ref.out, cols = site->ref.in;
    const size_t count = (size_t)rows * cols;
    /* The layer methods work on W ⊙ M and zero what they remove; afterwards the dense
     * values go back under the mask, so the unmasked weights stay the teacher (finetune's
     * default KD teacher needs no second copy). SparseGPT's updates of kept weights stay. */
    float *dense = pl_alloc(count, sizeof(float), err);
    if (dense == NULL) return PL_ERR_NOMEM;
    memcpy(dense, w, count * sizeof(float));
    prune_apply(w, mask, count);
    pl_status st = PRUNE_METHODS[cfg->method].layer(w, mask, rows, cols, &j->stats[i], cfg, &rule, err);
    for (size_t k = 0; k < count; k++)
        if (mask[k] == 0.0f) w[k] = dense[k];
    pl_free(dense);
    if (st != PL_OK)
        pl_error_wrap(err, "pruning %s", j->m->index.layout.tensors[site->ref.weight].name);
    return st;
}

/* Statistics for the active sites of [lo, hi), one calibration pass, then pruning. */
static pl_status prune_range(job *j, int lo, int hi, pl_error *err) {
    pl_status st = PL_OK;
    int any = 0;
    const prune_method_info *method = &PRUNE_METHODS[j->cfg->method];
    for (int i = lo; i < hi && st == PL_OK; i++)
        if (active(j, i)) {
            any = 1;
            if (method->calibrates) st = prune_stats_init(&j->stats[i], j->sites[i].ref.in, method->hessian, err);
        }
    if (st == PL_OK && any && method->calibrates)
        st = prune_calibrate(j->m, j->data, j->cfg->calib_start, j->cfg->calib_size, j->sites,
                             lo, hi, j->stats, err);
    for (int i = lo; i < hi && st == PL_OK; i++)
        if (active(j, i)) st = prune_site_now(j, i, err);
    for (int i = lo; i < hi; i++) prune_stats_free(&j->stats[i]);
    return st;
}

static pl_status run(job *j, pl_error *err) {
    if (!PRUNE_METHODS[j->cfg->method].calibrates || j->cfg->calibration == PRUNE_CALIB_DENSE)
        return prune_range(j, 0, j->nsites, err);
    char line[160];
    for (int lo = 0; lo < j->nsites;) { /* sequential: one block (level) at a time */
        int hi = lo;
        while (hi < j->nsites && j->sites[hi].level == j->sites[lo].level) hi++;
        if (active(j, lo)) {
            const double t0 = pl_now();
            PL_TRY(prune_range(j, lo, hi, err));
            snprintf(line, sizeof line, "pruned %s block level %d (%d layers) in %.2f s",
                     module_name(j->sites[lo].module), j->sites[lo].level, hi - lo, pl_now() - t0);
            pl_metric_progress(j->sink, line);
        }
        lo = hi;
    }
    return PL_OK;
}

/* Weights one by one to each module's target sparsity (unstructured or N:M). */
static pl_status prune_unstructured(vlm *m, const pl_data *data, const prune_config *cfg,
                                    const pl_metrics_sink *sink, pl_error *err) {
    PL_TRY(vlm_enable_masks(m, err));
    job j = {m, data, cfg, sink, NULL, NULL, prune_sites(m, NULL)};
    j.sites = pl_alloc((size_t)j.nsites, sizeof *j.sites, err);
    j.stats = pl_alloc((size_t)j.nsites, sizeof *j.stats, err);
    pl_status st = (j.sites && j.stats) ? PL_OK : PL_ERR_NOMEM;
    if (st == PL_OK) {
        prune_sites(m, j.sites);
        st = run(&j, err);
    }
    pl_free(j.sites);
    pl_free(j.stats);
    return st;
}

pl_status prune_model(vlm *m, const pl_data *data, const prune_config *cfg,
                      const pl_metrics_sink *sink, pl_error *err) {
    PL_TRY(prune_config_check(cfg, err));
    if (PRUNE_METHODS[cfg->method].calibrates && data == NULL)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.method '%s' scores weights by their "
                        "calibration inputs, but this stage has no data set to calibrate on; "
                        "use prune.method: magnitude", PRUNE_METHODS[cfg->method].name);
    const double t0 = pl_now();
    pl_status st = cfg->structured ? prune_structured(m, data, cfg, sink, err)
                                   : prune_unstructured(m, data, cfg, sink, err);
    PL_TRY(st);
    PL_TRY(sparsity_check_masked_zero(m, err));
    PL_TRY(sparsity_report(m, sink, 1, err));
    if (cfg->structured) PL_TRY(prune_structured_report(m, sink, err));
    PL_TRY(pl_metric_summary(sink, "prune_seconds", pl_now() - t0, err));
    char line[160];
    sparsity_summary s;
    sparsity_measure(m, &s);
    snprintf(line, sizeof line, "pruned in %.2f s: sparsity vision %.4f bridge %.4f language %.4f overall %.4f",
             pl_now() - t0, sparsity_module(&s, MODULE_VISION), sparsity_module(&s, MODULE_BRIDGE),
             sparsity_module(&s, MODULE_LANGUAGE), sparsity_overall(&s));
    pl_metric_progress(sink, line);
    return PL_OK;
}
