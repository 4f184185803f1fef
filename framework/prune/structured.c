/* structured.c - scoring and removing whole heads and neurons (see structured.h). */
#include "prune/structured.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/timing.h"
#include "prune/calibrate.h"
#include "prune/mask.h"
#include "prune/methods.h"

float prune_structured_target(const prune_config *cfg, pl_module m, unit_kind k) {
    switch (k) {
    case UNIT_HEADS: return cfg->heads[m];
    case UNIT_CROSS_HEADS: return m == MODULE_BRIDGE ? cfg->cross_heads : 0.0f;
    default: return cfg->neurons[m];
    }
}

typedef struct { /* one prune_structured call */
    vlm *m;
    const pl_data *data;
    const prune_config *cfg;
    prune_site *sites;
    prune_stats *stats;
    int nsites;
    int *site_of;  /* [parameter tensors] the calibration site of each block matrix, or -1 */
    double *score; /* one per unit, over the unit layout (as m->units.keep) */
} job;

static int first_level(const model_config *c, pl_module mod) {
    int level = 0;
    for (int k = 0; k < (int)mod; k++) level += module_layers(c, (pl_module)k);
    return level;
}

static const block_ref *block_at(const job *j, pl_module mod, int l) {
    return &param_blocks(&j->m->index, mod)[l];
}

static int block_active(const job *j, pl_module mod, int l) {
    for (int k = 0; k < UNIT_KIND_COUNT; k++)
        if (block_units(block_at(j, mod, l), (unit_kind)k) > 0 &&
            prune_structured_target(j->cfg, mod, (unit_kind)k) > 0.0f)
            return 1;
    return 0;
}

/* score[u] += what matrix ul holds of unit u: Σ W² (magnitude) or Σ |W_ij|·sqrt(mean x_j²)
 * (Wanda, x the matrix's input), over W⊙M. Each thread owns whole units. */
static void add_linear_scores(const job *j, const unit_linear *ul, double *score) {
    const float *w = pl_buffer_view(&j->m->params, ul->ref.weight);
    const float *mask = pl_buffer_view(&j->m->masks, ul->ref.weight);
    const int in = ul->ref.in, out = ul->ref.out, span = ul->units * ul->width;
    const int wanda = PRUNE_METHODS[j->cfg->method].calibrates; /* scores weighted by activations */
    const prune_stats *s = wanda ? &j->stats[j->site_of[ul->ref.weight]] : NULL;
    const double inv = wanda ? 1.0 / (double)s->tokens : 0.0;
#pragma omp parallel for schedule(static)
    for (int u = 0; u < ul->units; u++) {
        double acc = 0.0;
        for (int sec = 0; sec < ul->sections; sec++)
            for (int k = 0; k < ul->width; k++) {
                const int ch = sec * span + u * ul->width + k;
                if (!ul->along_cols) { /* row ch, every input column c */
                    for (int c = 0; c < in; c++) {
                        const size_t at = (size_t)ch * in + c;
                        const double v = (double)w[at] * mask[at];
                        acc += wanda ? fabs(v) * sqrt(s->sumsq[c] * inv) : v * v;
                    }
                } else { /* column ch: one input channel, every output row */
                    const double rms = wanda ? sqrt(s->sumsq[ch] * inv) : 0.0;
                    for (int r = 0; r < out; r++) {
                        const size_t at = (size_t)r * in + ch;
                        const double v = (double)w[at] * mask[at];
                        acc += wanda ? fabs(v) * rms : v * v;
                    }
                }
            }
        score[u] += acc;
    }
}

/* Scores of every unit kind with a target in block l of mod; removed units score -inf. */
static void score_block(const job *j, pl_module mod, int l) {
    const block_ref *b = block_at(j, mod, l);
    const unit_masks *units = &j->m->units;
    unit_linear uls[UNIT_LINEARS_MAX];
    const int n = unit_linears_of_block(b, uls);
    for (int k = 0; k < UNIT_KIND_COUNT; k++) {
        const int t = units->tensor[mod][l][k];
        if (t < 0 || prune_structured_target(j->cfg, mod, (unit_kind)k) <= 0.0f) continue;
        double *score = j->score + units->layout->tensors[t].offset;
        const float *keep = pl_buffer_view(&units->keep, t);
        const int count = block_units(b, (unit_kind)k);
        for (int u = 0; u < count; u++) score[u] = 0.0;
        for (int i = 0; i < n; i++)
            if (uls[i].kind == (unit_kind)k) add_linear_scores(j, &uls[i], score);
        for (int u = 0; u < count; u++) {
            if (!PRUNE_METHODS[j->cfg->method].calibrates) score[u] = sqrt(score[u]); /* group L2 */
            if (keep[u] == 0.0f) score[u] = -INFINITY;
        }
    }
}

/* The block of mod whose kind-k keep flags hold unit buffer position `at`. */
static int layer_of_unit(const unit_masks *u, const model_config *c, pl_module mod, unit_kind k,
                         size_t at) {
    for (int l = 0; l < module_layers(c, mod); l++) {
        const int t = u->tensor[mod][l][k];
        if (t < 0) continue;
        const pl_tensor_spec *s = &u->layout->tensors[t];
        if (at >= s->offset && at < s->offset + s->count) return l;
    }
    return -1;
}

/* Removes round(f · n) of the n units of kind k in blocks [lo, hi) of mod, lowest scores
 * first; a bridge block's last cross-attention head is skipped, and an error when the
 * target cannot be met without it. */
static pl_status select_units(job *j, pl_module mod, unit_kind k, int lo, int hi, pl_error *err) {
    const float f = prune_structured_target(j->cfg, mod, k);
    unit_masks *u = &j->m->units;
    const model_config *c = &j->m->cfg;
    size_t n = 0;
    int left[VLM_MAX_LAYERS] = {0};
    for (int l = lo; l < hi; l++)
        if (u->tensor[mod][l][k] >= 0) {
            n += u->layout->tensors[u->tensor[mod][l][k]].count;
            left[l] = unit_masks_kept(u, block_at(j, mod, l), mod, l, k);
        }
    if (f <= 0.0f || n == 0) return PL_OK;
    prune_cand *cand = pl_alloc(n, sizeof *cand, err);
    if (cand == NULL) return PL_ERR_NOMEM;
    size_t at = 0;
    for (int l = lo; l < hi; l++) {
        const int t = u->tensor[mod][l][k];
        if (t < 0) continue;
        const pl_tensor_spec *s = &u->layout->tensors[t];
        for (size_t i = 0; i < s->count; i++)
            cand[at++] = (prune_cand){j->score[s->offset + i], s->offset + i};
    }
    prune_sort_cands(cand, n);
    const size_t target = prune_target_count(f, n);
    size_t removed = 0;
    for (size_t i = 0; i < n && removed < target; i++) {
        float *keep = &u->keep.data[cand[i].index];
        if (k == UNIT_CROSS_HEADS && *keep != 0.0f) {
            const int l = layer_of_unit(u, c, mod, k, cand[i].index);
            if (left[l] == 1) continue; /* the block's last cross-attention head stays */
            left[l]--;
        }
        *keep = 0.0f;
        removed++;
    }
    pl_free(cand);
    if (removed == target) return PL_OK;
    if (hi - lo == 1)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.cross_heads = %g would remove every "
                        "cross-attention head of bridge block %d (%zu of %zu); every bridge block "
                        "keeps at least one: lower prune.cross_heads or use prune.scope: module",
                        (double)f, lo, target, n);
    return PL_ERROR(err, PL_ERR_CONFIG, "prune.cross_heads = %g removes %zu of the bridge's %zu "
                    "cross-attention heads, but every bridge block keeps at least one, so at most "
                    "%zu can go: lower prune.cross_heads", (double)f, target, n, removed);
}

/* Statistics of the active blocks' matrices in levels [lo, hi), one calibration pass. */
static pl_status calibrate_levels(job *j, int lo, int hi, pl_error *err) {
    if (!PRUNE_METHODS[j->cfg->method].calibrates) return PL_OK;
    const model_config *c = &j->m->cfg;
    int first = -1, last = -1;
    for (int i = 0; i < j->nsites; i++) {
        const prune_site *s = &j->sites[i];
        if (s->level < lo || s->level >= hi) continue;
        if (!block_active(j, s->module, s->level - first_level(c, s->module))) continue;
        PL_TRY(prune_stats_init(&j->stats[i], s->ref.in, 0, err));
        if (first < 0) first = i;
        last = i;
    }
    if (first < 0) return PL_OK;
    return prune_calibrate(j->m, j->data, j->cfg->calib_start, j->cfg->calib_size, j->sites,
                           first, last + 1, j->stats, err);
}

/* Calibrates, scores and prunes the blocks of levels [lo, hi): every group lies inside. */
static pl_status prune_levels(job *j, int lo, int hi, pl_error *err) {
    const model_config *c = &j->m->cfg;
    pl_status st = calibrate_levels(j, lo, hi, err);
    for (int mod = 0; mod < MODULE_COUNT && st == PL_OK; mod++) {
        const int base = first_level(c, (pl_module)mod), layers = module_layers(c, (pl_module)mod);
        for (int l = 0; l < layers; l++)
            if (base + l >= lo && base + l < hi && block_active(j, (pl_module)mod, l))
                score_block(j, (pl_module)mod, l);
        for (int k = 0; k < UNIT_KIND_COUNT && st == PL_OK; k++) {
            if (j->cfg->scope == PRUNE_SCOPE_MODULE) {
                if (base >= lo && base + layers <= hi)
                    st = select_units(j, (pl_module)mod, (unit_kind)k, 0, layers, err);
                continue;
            }
            for (int l = 0; l < layers && st == PL_OK; l++)
                if (base + l >= lo && base + l < hi)
                    st = select_units(j, (pl_module)mod, (unit_kind)k, l, l + 1, err);
        }
    }
    if (st == PL_OK) unit_masks_apply(&j->m->units, &j->m->index, c, NULL, &j->m->masks);
    for (int i = 0; i < j->nsites; i++) prune_stats_free(&j->stats[i]);
    return st;
}

static pl_status run(job *j, const pl_metrics_sink *sink, pl_error *err) {
    const model_config *c = &j->m->cfg;
    const int levels = first_level(c, MODULE_COUNT);
    if (!PRUNE_METHODS[j->cfg->method].calibrates || j->cfg->calibration == PRUNE_CALIB_DENSE)
        return prune_levels(j, 0, levels, err);
    char line[160];
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        const int base = first_level(c, (pl_module)mod), layers = module_layers(c, (pl_module)mod);
        const int step = j->cfg->scope == PRUNE_SCOPE_MODULE ? layers : 1;
        for (int l = 0; l < layers; l += step) {
            const double t0 = pl_now();
            PL_TRY(prune_levels(j, base + l, base + l + step, err));
            snprintf(line, sizeof line, "pruned heads and neurons of %s blocks %d..%d in %.2f s",
                     module_name((pl_module)mod), l, l + step - 1, pl_now() - t0);
            pl_metric_progress(sink, line);
        }
    }
    return PL_OK;
}

pl_status prune_structured(vlm *m, const pl_data *data, const prune_config *cfg,
                           const pl_metrics_sink *sink, pl_error *err) {
    PL_TRY(vlm_enable_masks(m, err));
    PL_TRY(unit_masks_enable(&m->units, &m->cfg, &m->index, err));
    job j = {m, data, cfg, NULL, NULL, prune_sites(m, NULL), NULL, NULL};
    j.sites = pl_alloc((size_t)j.nsites + 1, sizeof *j.sites, err);
    j.stats = pl_alloc((size_t)j.nsites + 1, sizeof *j.stats, err);
    j.site_of = pl_alloc((size_t)m->index.layout.count, sizeof *j.site_of, err);
    j.score = pl_alloc(m->units.layout->total + 1, sizeof *j.score, err);
    pl_status st = (j.sites && j.stats && j.site_of && j.score) ? PL_OK : PL_ERR_NOMEM;
    if (st == PL_OK) {
        prune_sites(m, j.sites);
        for (int t = 0; t < m->index.layout.count; t++) j.site_of[t] = -1;
        for (int i = 0; i < j.nsites; i++) j.site_of[j.sites[i].ref.weight] = i;
        st = run(&j, sink, err);
    }
    pl_free(j.sites);
    pl_free(j.stats);
    pl_free(j.site_of);
    pl_free(j.score);
    return st;
}

pl_status prune_structured_report(const vlm *m, const pl_metrics_sink *sink, pl_error *err) {
    char name[96];
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++) {
            const block_ref *b = &param_blocks(&m->index, (pl_module)mod)[l];
            for (int k = 0; k < UNIT_KIND_COUNT; k++) {
                if (k == UNIT_CROSS_HEADS && !b->has_cross) continue;
                snprintf(name, sizeof name, "%s_kept_%s_%d", unit_kind_name((unit_kind)k),
                         module_name((pl_module)mod), l);
                PL_TRY(pl_metric_summary(sink, name,
                                         unit_masks_kept(&m->units, b, (pl_module)mod, l, (unit_kind)k),
                                         err));
            }
        }
    int64_t removed = 0, prunable = 0;
    for (int t = 0; t < m->index.layout.count; t++) {
        if (!m->index.prunable[t]) continue;
        const pl_tensor_spec *s = &m->index.layout.tensors[t];
        const float *mask = m->masks.data ? pl_buffer_view(&m->masks, t) : NULL;
        for (size_t i = 0; mask && i < s->count; i++) removed += mask[i] == 0.0f;
        prunable += (int64_t)s->count;
    }
    return pl_metric_summary(sink, "removed_fraction",
                             prunable ? (double)removed / (double)prunable : 0.0, err);
}
