/* l0_gates.c - hard-concrete gates on every unit, their expected sparsity, the Lagrangian
 * and the final selection (see l0_gates.h). */
#include "prune/l0_gates.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"

enum { FLOATS_PER_GATE = 8 };
static const float LOG_ALPHA_LIMIT = 4.6f;

/* Weights unit u of kind k owns in block b: its channels in each of the kind's matrices. */
static double unit_weights(const block_ref *b, unit_kind k) {
    unit_linear uls[UNIT_LINEARS_MAX];
    const int n = unit_linears_of_block(b, uls);
    double w = 0.0;
    for (int i = 0; i < n; i++)
        if (uls[i].kind == k)
            w += (double)uls[i].width * uls[i].sections * (uls[i].along_cols ? uls[i].ref.out : uls[i].ref.in);
    return w;
}

static int block_kind_units(const block_ref *b, unit_kind k) {
    if (k == UNIT_CROSS_HEADS && !b->has_cross) return 0;
    return block_units(b, k);
}

pl_status l0_init(l0_state *s, const vlm *m, const l0_config *cfg, pl_error *err) {
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->hc = hard_concrete_default();
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < VLM_MAX_LAYERS; l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) s->offset[mod][l][k] = -1;
    size_t n = 0;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) {
                const block_ref *b = &param_blocks(&m->index, (pl_module)mod)[l];
                const int units = block_kind_units(b, (unit_kind)k);
                if (units <= 0) continue;
                if (unit_masks_kept(&m->units, b, (pl_module)mod, l, (unit_kind)k) < units)
                    return PL_ERROR(err, PL_ERR_CONFIG, "the model has removed units that are not "
                                    "compacted yet (%s block %d); put a compact stage before the "
                                    "gates", module_name((pl_module)mod), l);
                s->offset[mod][l][k] = (int)n;
                s->count[mod][l][k] = units;
                n += (size_t)units;
            }
    if (n == 0)
        return PL_ERROR(err, PL_ERR_CONFIG, "the model has no attention heads or MLP neurons to gate");
    s->n = n;
    s->log_alpha = pl_alloc(n * FLOATS_PER_GATE, sizeof(float), err);
    s->weights = pl_alloc(n, sizeof(double), err);
    s->module = pl_alloc(n, 1, err);
    if (s->log_alpha == NULL || s->weights == NULL || s->module == NULL) {
        l0_free(s);
        return PL_ERR_NOMEM;
    }
    s->z = s->log_alpha + n, s->dz = s->z + n, s->dzda = s->dz + n, s->p = s->dzda + n;
    s->dp = s->p + n, s->m = s->dp + n, s->v = s->m + n;
    const float head_a = hard_concrete_log_alpha_of_drop(cfg->head_drop);
    const float neuron_a = hard_concrete_log_alpha_of_drop(cfg->neuron_drop);
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++) {
            const block_ref *b = &param_blocks(&m->index, (pl_module)mod)[l];
            block_gates *bg = &s->gates.block[mod][l];
            for (int k = 0; k < UNIT_KIND_COUNT; k++) {
                const int off = s->offset[mod][l][k];
                if (off < 0) continue;
                const int units = block_kind_units(b, (unit_kind)k);
                const double w = unit_weights(b, (unit_kind)k);
                for (int u = 0; u < units; u++) {
                    s->log_alpha[off + u] = k == UNIT_NEURONS ? neuron_a : head_a;
                    s->z[off + u] = 1.0f;
                    s->weights[off + u] = w;
                    s->module[off + u] = (unsigned char)mod;
                    s->module_weights[mod] += w;
                    s->total_weights += w;
                }
                float *z = s->z + off, *dz = s->dz + off;
                if (k == UNIT_HEADS) bg->heads = z, bg->d_heads = dz;
                if (k == UNIT_CROSS_HEADS) bg->cross = z, bg->d_cross = dz;
                if (k == UNIT_NEURONS) bg->neurons = z, bg->d_neurons = dz;
            }
        }
    return PL_OK;
}

void l0_free(l0_state *s) {
    pl_free(s->log_alpha);
    pl_free(s->weights);
    pl_free(s->module);
    memset(s, 0, sizeof *s);
}

void l0_sample(l0_state *s, int64_t step) {
    const pl_rng r = {s->cfg.seed, 0x6c30}; /* "l0" */
    for (size_t i = 0; i < s->n; i++) { /* u in (0, 1): the stretch limits keep z finite */
        float u = pl_rng_uniform(r, (uint64_t)step * s->n + i);
        if (u < 1e-6f) u = 1e-6f;
        if (u > 1.0f - 1e-6f) u = 1.0f - 1e-6f;
        s->dz[i] = u; /* borrowed as the draws' room until the sample below */
    }
    hard_concrete_sample(&s->hc, s->log_alpha, s->dz, s->z, s->dzda, s->n);
    memset(s->dz, 0, s->n * sizeof(float));
}

double l0_expected_sparsity(l0_state *s, double per_module[MODULE_COUNT]) {
    hard_concrete_nonzero(&s->hc, s->log_alpha, s->p, s->dp, s->n);
    double removed = 0.0, mod_removed[MODULE_COUNT] = {0};
    for (size_t i = 0; i < s->n; i++) {
        const double r = s->weights[i] * (1.0 - s->p[i]);
        removed += r;
        mod_removed[s->module[i]] += r;
    }
    for (int mod = 0; per_module != NULL && mod < MODULE_COUNT; mod++)
        per_module[mod] = s->module_weights[mod] > 0 ? mod_removed[mod] / s->module_weights[mod] : 0.0;
    return removed / s->total_weights;
}

static double ramp(const l0_state *s, double target, int64_t step) {
    if (s->cfg.target_warmup <= 0 || step >= s->cfg.target_warmup) return target;
    return target * (double)step / s->cfg.target_warmup;
}

pl_status l0_step(l0_state *s, int64_t step, l0_report *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    out->sparsity = l0_expected_sparsity(s, out->module_sparsity);
    /* dpenalty/ds per module (per-module targets) or one global factor */
    double factor[MODULE_COUNT + 1] = {0}, norm[MODULE_COUNT + 1] = {0};
    const int groups = s->cfg.per_module ? MODULE_COUNT : 1;
    for (int g = 0; g < groups; g++) {
        const int slot = s->cfg.per_module ? g : MODULE_COUNT;
        if (s->cfg.per_module && s->module_weights[g] <= 0) continue;
        const double sparsity = s->cfg.per_module ? out->module_sparsity[g] : out->sparsity;
        const double t = ramp(s, s->cfg.per_module ? s->cfg.module_target[g] : s->cfg.target, step);
        double d_s, d_l1, d_l2;
        out->penalty += lagrangian_penalty(s->l1[slot], s->l2[slot], sparsity, t, &d_s, &d_l1, &d_l2);
        factor[slot] = d_s;
        norm[slot] = s->cfg.per_module ? s->module_weights[g] : s->total_weights;
        s->l1[slot] += s->cfg.lagrangian_lr * d_l1;
        s->l2[slot] += s->cfg.lagrangian_lr * d_l2;
        if (!isfinite(s->l1[slot]) || !isfinite(s->l2[slot]) || fabs(s->l1[slot]) > 1e6 ||
            fabs(s->l2[slot]) > 1e6)
            return PL_ERROR(err, PL_ERR_NUMERIC, "the Lagrangian multipliers diverged at step %lld "
                            "(l1 = %g, l2 = %g, expected sparsity %.3f against %.3f): lower "
                            "lagrangian.lr or lengthen target_warmup", (long long)step,
                            s->l1[slot], s->l2[slot], sparsity, t);
        if (g == 0) out->target = t, out->l1 = s->l1[slot], out->l2 = s->l2[slot];
    }
    /* AdamW (no decay) on log_alpha; bias-corrected; then the clamp */
    s->adam_t++;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double c1 = 1.0 - pow(b1, s->adam_t), c2 = 1.0 - pow(b2, s->adam_t);
    for (size_t i = 0; i < s->n; i++) {
        const int slot = s->cfg.per_module ? s->module[i] : MODULE_COUNT;
        /* ds/da = −w_u / W · dP/da */
        const double d_pen = factor[slot] * (-s->weights[i] / norm[slot]) * s->dp[i];
        const double g = (double)s->dz[i] * s->dzda[i] + d_pen;
        s->m[i] = (float)(b1 * s->m[i] + (1.0 - b1) * g);
        s->v[i] = (float)(b2 * s->v[i] + (1.0 - b2) * g * g);
        const double step_size = s->cfg.gate_lr * (s->m[i] / c1) / (sqrt(s->v[i] / c2) + eps);
        float a = (float)(s->log_alpha[i] - step_size);
        s->log_alpha[i] = a < -LOG_ALPHA_LIMIT ? -LOG_ALPHA_LIMIT : a > LOG_ALPHA_LIMIT ? LOG_ALPHA_LIMIT : a;
    }
    return PL_OK;
}

int l0_expected_kept(const l0_state *s, pl_module mod, int layer, unit_kind k) {
    const int off = s->offset[mod][layer][k], units = s->count[mod][layer][k];
    if (off < 0) return 0;
    double sum = 0.0;
    for (int u = 0; u < units; u++) {
        float p;
        hard_concrete_nonzero(&s->hc, s->log_alpha + off + u, &p, NULL, 1);
        sum += p;
    }
    return (int)lround(sum);
}

pl_status l0_finalise(const l0_state *s, vlm *m, int *removed, pl_error *err) {
    PL_TRY(unit_masks_enable(&m->units, &m->cfg, &m->index, err));
    PL_TRY(vlm_enable_masks(m, err));
    *removed = 0;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) {
                const int off = s->offset[mod][l][k], units = s->count[mod][l][k];
                if (off < 0) continue;
                float *keep = unit_masks_keep(&m->units, (pl_module)mod, l, (unit_kind)k);
                if (keep == NULL)
                    return PL_ERROR(err, PL_ERR_INTERNAL, "%s block %d has no %s keep flags",
                                    module_name((pl_module)mod), l, unit_kind_name((unit_kind)k));
                int kept = l0_expected_kept(s, (pl_module)mod, l, (unit_kind)k);
                if (k == UNIT_CROSS_HEADS && kept < 1) kept = 1; /* the bridge keeps reading the image */
                /* keep the `kept` units of highest log_alpha (P is increasing in it; ties:
                 * the lower index) */
                for (int u = 0; u < units; u++) keep[u] = 0.0f;
                for (int c = 0; c < kept; c++) {
                    int best = -1;
                    for (int u = 0; u < units; u++)
                        if (keep[u] == 0.0f && (best < 0 || s->log_alpha[off + u] > s->log_alpha[off + best]))
                            best = u;
                    keep[best] = 1.0f;
                }
                *removed += units - kept;
            }
    unit_masks_apply(&m->units, &m->index, &m->cfg, NULL, &m->masks);
    return PL_OK;
}
