/* loraprune.c - LoRA-gradient importance, its moving average per unit, the cubic schedule
 * and the removal of units (see loraprune.h). */
#include "prune/loraprune.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"

static const unit_kind PRUNED_KINDS[] = {UNIT_HEADS, UNIT_NEURONS};
enum { PRUNED_KIND_COUNT = 2 };

int loraprune_criterion_parse(const char *name) {
    if (strcmp(name, "lora") == 0) return LORAPRUNE_LORA;
    if (strcmp(name, "grad") == 0) return LORAPRUNE_GRAD;
    if (strcmp(name, "magnitude") == 0) return LORAPRUNE_MAGNITUDE;
    return -1;
}

const char *loraprune_criterion_name(loraprune_criterion c) {
    return c == LORAPRUNE_LORA ? "lora" : c == LORAPRUNE_GRAD ? "grad" : "magnitude";
}

/* ---- schedule ------------------------------------------------------------------------- */

static int warmup_end(const loraprune_config *c) { return (int)lroundf(c->warmup_frac * (float)c->steps); }
static int cooldown_start(const loraprune_config *c) {
    return c->steps - (int)lroundf(c->cooldown_frac * (float)c->steps);
}

float loraprune_fraction_at(const loraprune_config *c, int step) {
    const int tw = warmup_end(c), tc = cooldown_start(c);
    if (step >= c->steps - 1) return c->ratio; /* the last step prunes to the ratio, whatever rounds */
    if (step < tw) return 0.0f;
    if (c->one_shot || step >= tc || tc <= tw) return c->ratio;
    const double x = 1.0 - (double)(step - tw) / (double)(tc - tw);
    return (float)(c->ratio * (1.0 - x * x * x));
}

int loraprune_prunes_at(const loraprune_config *c, int step) {
    const int tw = warmup_end(c);
    if (step == c->steps - 1) return 1;
    if (step < tw) return 0;
    if (c->one_shot) return step == tw;
    return (step - tw) % c->every == 0;
}

/* ---- importance ----------------------------------------------------------------------- */

/* G = dB·A + (B − dB)·dA, which is dB·A + B·dA − dB·dA. */
void lora_weight_grad_estimate(float *G, const float *A, const float *B, const float *dA,
                               const float *dB, int out, int in, int r) {
    pl_sgemm(false, false, out, in, r, 1.0f, dB, r, A, in, 0.0f, G, in);
    for (int i = 0; i < out; i++)
        for (int k = 0; k < r; k++) {
            const float coef = B[(size_t)i * r + k] - dB[(size_t)i * r + k];
            if (coef == 0.0f) continue;
            float *g = G + (size_t)i * in;
            const float *da = dA + (size_t)k * in;
            for (int j = 0; j < in; j++) g[j] += coef * da[j];
        }
}

/* The current weight W⊙M + s·B·A (its unit restriction included) into w. */
static void current_weight(const vlm *m, const adapter_set *a, int t, float *w) {
    const pl_tensor_spec *spec = &m->index.layout.tensors[t];
    const int out = spec->shape[0], in = spec->shape[1];
    const float *W = pl_buffer_view(&m->params, t);
    const float *M = m->masks.data ? pl_buffer_view(&m->masks, t) : NULL;
    for (size_t i = 0; i < (size_t)out * in; i++) w[i] = M ? W[i] * M[i] : W[i];
    if (a == NULL || a->a_of[t] < 0) return;
    const int r = a->rank_of[t];
    pl_sgemm(false, false, out, in, r, a->scale_of[t], pl_buffer_view(&a->values, a->b_of[t]), r,
             pl_buffer_view(&a->values, a->a_of[t]), in, 1.0f, w, in);
    const float *rows = a->keep_rows ? a->keep_rows[t] : NULL, *cols = a->keep_cols ? a->keep_cols[t] : NULL;
    if (rows == NULL || cols == NULL) return;
    for (int i = 0; i < out; i++)
        for (int j = 0; j < in; j++) w[(size_t)i * in + j] *= rows[i] * cols[j];
}

/* G of matrix t under the criterion into g; 0 when it has none (lora without an adapter). */
static int gradient_of(const loraprune_state *s, const vlm *m, const adapter_set *a,
                       const pl_buffer *weight_grads, int t, float *g) {
    const pl_tensor_spec *spec = &m->index.layout.tensors[t];
    const int out = spec->shape[0], in = spec->shape[1];
    switch (s->cfg.criterion) {
    case LORAPRUNE_LORA:
        if (a == NULL || a->a_of[t] < 0) return 0;
        lora_weight_grad_estimate(g, pl_buffer_view(&a->values, a->a_of[t]),
                                  pl_buffer_view(&a->values, a->b_of[t]),
                                  pl_buffer_view(&a->grads, a->a_of[t]),
                                  pl_buffer_view(&a->grads, a->b_of[t]), out, in, a->rank_of[t]);
        return 1;
    case LORAPRUNE_GRAD:
        if (weight_grads == NULL) return 0;
        memcpy(g, pl_buffer_view(weight_grads, t), (size_t)out * in * sizeof(float));
        return 1;
    case LORAPRUNE_MAGNITUDE:
        for (size_t i = 0; i < (size_t)out * in; i++) g[i] = 1.0f;
        return 1;
    }
    return 0;
}

/* One block's score of each unit of kind k this step: per matrix the sums of |G ⊙ W| over
 * each unit's channels, divided by their L2 norm, summed over the kind's matrices. */
static void block_scores(loraprune_state *s, const vlm *m, const adapter_set *a,
                         const pl_buffer *weight_grads, const block_ref *b, unit_kind k,
                         double *total) {
    const int units = block_units(b, k);
    unit_linear uls[UNIT_LINEARS_MAX];
    const int n = unit_linears_of_block(b, uls);
    for (int u = 0; u < units; u++) total[u] = 0.0;
    for (int i = 0; i < n; i++) {
        const unit_linear *ul = &uls[i];
        if (ul->kind != k) continue;
        const int t = ul->ref.weight, out = ul->ref.out, in = ul->ref.in;
        if (!gradient_of(s, m, a, weight_grads, t, s->g)) continue;
        current_weight(m, a, t, s->w);
        for (int u = 0; u < units; u++) s->sums[u] = 0.0;
        for (int r = 0; r < out; r++)
            for (int c = 0; c < in; c++) {
                const double imp = fabs((double)s->g[(size_t)r * in + c] * s->w[(size_t)r * in + c]);
                s->sums[unit_of_channel(ul, ul->along_cols ? c : r)] += imp;
            }
        double sq = 0.0;
        for (int u = 0; u < units; u++) sq += s->sums[u] * s->sums[u];
        if (sq <= 0.0) continue;
        const double norm = sqrt(sq);
        for (int u = 0; u < units; u++) total[u] += s->sums[u] / norm;
    }
}

void loraprune_observe(loraprune_state *s, const vlm *m, const adapter_set *a,
                       const pl_buffer *weight_grads) {
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++)
            for (int q = 0; q < PRUNED_KIND_COUNT; q++) {
                const int off = s->offset[mod][l][PRUNED_KINDS[q]];
                if (off < 0) continue;
                const block_ref *b = &param_blocks(&m->index, (pl_module)mod)[l];
                block_scores(s, m, a, weight_grads, b, PRUNED_KINDS[q], s->total);
                for (int u = 0; u < block_units(b, PRUNED_KINDS[q]); u++)
                    s->ema[off + u] = 0.9 * s->ema[off + u] + 0.1 * s->total[u];
            }
}

/* ---- removal -------------------------------------------------------------------------- */

int loraprune_apply(loraprune_state *s, vlm *m, adapter_set *a, int step, pl_error *err) {
    const float frac = loraprune_fraction_at(&s->cfg, step);
    int removed_now = 0;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++)
            for (int q = 0; q < PRUNED_KIND_COUNT; q++) {
                const unit_kind k = PRUNED_KINDS[q];
                const int off = s->offset[mod][l][k];
                if (off < 0) continue;
                const int units = block_units(&param_blocks(&m->index, (pl_module)mod)[l], k);
                float *keep = unit_masks_keep(&m->units, (pl_module)mod, l, k);
                if (keep == NULL) {
                    PL_ERROR(err, PL_ERR_INTERNAL, "%s block %d has no %s keep flags",
                             module_name((pl_module)mod), l, unit_kind_name(k));
                    return -1;
                }
                int removed = 0;
                for (int u = 0; u < units; u++) removed += keep[u] == 0.0f;
                const int target = (int)((float)units * frac); /* int(n · ratio), ratio < 1 */
                for (; removed < target; removed++, removed_now++) {
                    int worst = -1;
                    for (int u = 0; u < units; u++)
                        if (keep[u] != 0.0f && (worst < 0 || s->ema[off + u] < s->ema[off + worst]))
                            worst = u;
                    if (worst < 0) break;
                    keep[worst] = 0.0f;
                }
            }
    if (removed_now > 0) {
        unit_masks_apply(&m->units, &m->index, &m->cfg, NULL, &m->masks);
        if (a != NULL) adapters_refresh_restrict(a, &m->index, &m->cfg, &m->units);
    }
    return removed_now;
}

/* ---- state ---------------------------------------------------------------------------- */

pl_status loraprune_state_init(loraprune_state *s, vlm *m, const loraprune_config *cfg,
                               pl_error *err) {
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    PL_TRY(unit_masks_enable(&m->units, &m->cfg, &m->index, err));
    PL_TRY(vlm_enable_masks(m, err));
    size_t scores = 0, largest = 1;
    int most_units = 1;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < VLM_MAX_LAYERS; l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) s->offset[mod][l][k] = -1;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++) {
            const block_ref *b = &param_blocks(&m->index, (pl_module)mod)[l];
            unit_linear uls[UNIT_LINEARS_MAX];
            const int n = unit_linears_of_block(b, uls);
            for (int i = 0; i < n; i++)
                if ((size_t)uls[i].ref.out * uls[i].ref.in > largest)
                    largest = (size_t)uls[i].ref.out * uls[i].ref.in;
            for (int q = 0; q < PRUNED_KIND_COUNT; q++) {
                const int units = block_units(b, PRUNED_KINDS[q]);
                if (units <= 0 || cfg->protect[mod][l]) continue;
                s->offset[mod][l][PRUNED_KINDS[q]] = (int)scores;
                scores += (size_t)units;
                if (units > most_units) most_units = units;
            }
        }
    s->ema = pl_alloc(scores ? scores : 1, sizeof(double), err);
    s->g = pl_alloc(largest, sizeof(float), err);
    s->w = pl_alloc(largest, sizeof(float), err);
    s->sums = pl_alloc((size_t)most_units, sizeof(double), err);
    s->total = pl_alloc((size_t)most_units, sizeof(double), err);
    if (!s->ema || !s->g || !s->w || !s->sums || !s->total) {
        loraprune_state_free(s);
        return PL_ERR_NOMEM;
    }
    return PL_OK;
}

void loraprune_state_free(loraprune_state *s) {
    pl_free(s->ema);
    pl_free(s->g);
    pl_free(s->w);
    pl_free(s->sums);
    pl_free(s->total);
    memset(s, 0, sizeof *s);
}

/* ---- agreement between two criteria ----------------------------------------------------- */

/* Average ranks (1-based) of x[0..n) into rank, ties sharing their mean rank; order is
 * scratch of n ints. Insertion sort: n is one block's units (at most a few thousand). */
static void average_ranks(const double *x, int n, double *rank, int *order) {
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) {
        const int v = order[i];
        int j = i - 1;
        while (j >= 0 && x[order[j]] > x[v]) order[j + 1] = order[j], j--;
        order[j + 1] = v;
    }
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && x[order[j + 1]] == x[order[i]]) j++;
        for (int k = i; k <= j; k++) rank[order[k]] = 0.5 * (i + j) + 1.0;
        i = j + 1;
    }
}

/* Spearman's rho: Pearson's correlation of the average ranks (exact with ties). */
double loraprune_spearman(const double *x, const double *y, int n, double *scratch, int *order) {
    double *rx = scratch, *ry = scratch + n;
    average_ranks(x, n, rx, order);
    average_ranks(y, n, ry, order);
    const double mean = 0.5 * (n + 1);
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxy += (rx[i] - mean) * (ry[i] - mean);
        sxx += (rx[i] - mean) * (rx[i] - mean);
        syy += (ry[i] - mean) * (ry[i] - mean);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0.0;
}

pl_status loraprune_rank_agreement(const loraprune_state *a, const loraprune_state *b, const vlm *m,
                                   double *rho, pl_error *err) {
    int most = 1;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++)
            for (int q = 0; q < PRUNED_KIND_COUNT; q++) {
                const int u = block_units(&param_blocks(&m->index, (pl_module)mod)[l], PRUNED_KINDS[q]);
                if (u > most) most = u;
            }
    double *scratch = pl_alloc(2 * (size_t)most, sizeof *scratch, err);
    int *order = pl_alloc((size_t)most, sizeof *order, err);
    if (scratch == NULL || order == NULL) {
        pl_free(scratch);
        pl_free(order);
        return PL_ERR_NOMEM;
    }
    double sum = 0.0;
    long weight = 0;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++)
            for (int q = 0; q < PRUNED_KIND_COUNT; q++) {
                const int oa = a->offset[mod][l][PRUNED_KINDS[q]], ob = b->offset[mod][l][PRUNED_KINDS[q]];
                const int u = block_units(&param_blocks(&m->index, (pl_module)mod)[l], PRUNED_KINDS[q]);
                if (oa < 0 || ob < 0 || u < 3) continue;
                sum += u * loraprune_spearman(a->ema + oa, b->ema + ob, u, scratch, order);
                weight += u;
            }
    pl_free(scratch);
    pl_free(order);
    *rho = weight > 0 ? sum / (double)weight : 0.0;
    return PL_OK;
}
