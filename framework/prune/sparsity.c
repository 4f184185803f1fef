/* sparsity.c - sparsity accounting over the parameter layout (see sparsity.h). */
#include "prune/sparsity.h"

#include <stdio.h>

#include "core/alloc.h"
#include "nn/linear.h"
#include "prune/par.h"

/* Zeros of tensor t's effective values. */
static int64_t tensor_zeros(const vlm *m, int t) {
    const pl_tensor_spec *spec = &m->index.layout.tensors[t];
    const float *w = pl_buffer_view(&m->params, t);
    const float *mask = m->masks.data ? pl_buffer_view(&m->masks, t) : NULL;
    int64_t zeros = 0;
#pragma omp parallel for schedule(static) reduction(+ : zeros) if (spec->count > PRUNE_PAR_MIN)
    for (size_t i = 0; i < spec->count; i++)
        zeros += (w[i] == 0.0f || (mask && mask[i] == 0.0f));
    return zeros;
}

void sparsity_measure(const vlm *m, sparsity_summary *out) {
    *out = (sparsity_summary){0};
    for (int t = 0; t < m->index.layout.count; t++) {
        const int64_t count = (int64_t)m->index.layout.tensors[t].count;
        const int64_t zeros = tensor_zeros(m, t);
        out->params += count;
        out->nonzero_params += count - zeros;
        if (!m->index.prunable[t]) continue;
        const int mod = m->index.module[t];
        out->zeros[mod] += zeros;
        out->weights[mod] += count;
        out->prunable += count;
        out->nonzero_prunable += count - zeros;
    }
}

double sparsity_module(const sparsity_summary *s, pl_module mod) {
    return s->weights[mod] ? (double)s->zeros[mod] / (double)s->weights[mod] : 0.0;
}

double sparsity_overall(const sparsity_summary *s) {
    return s->prunable ? (double)(s->prunable - s->nonzero_prunable) / (double)s->prunable : 0.0;
}

int sparsity_matrices(const vlm *m, sparsity_matrix *out) {
    int n = 0;
    for (int t = 0; t < m->index.layout.count; t++) {
        if (!m->index.prunable[t]) continue;
        if (out)
            out[n] = (sparsity_matrix){t, (pl_module)m->index.module[t], tensor_zeros(m, t),
                                       (int64_t)m->index.layout.tensors[t].count};
        n++;
    }
    return n;
}

pl_status sparsity_check_masked_zero(const vlm *m, pl_error *err) {
    if (m->masks.data == NULL) return PL_OK;
    for (int t = 0; t < m->index.layout.count; t++) {
        if (!m->index.prunable[t]) continue;
        const pl_tensor_spec *spec = &m->index.layout.tensors[t];
        const linear_params p = {.weight = pl_buffer_view(&m->params, t),
                                 .mask = pl_buffer_view(&m->masks, t)};
        float *weff = pl_alloc(spec->count, sizeof(float), err);
        if (weff == NULL) return PL_ERR_NOMEM;
        linear_effective_weight(weff, &p, spec->shape[1], spec->shape[0]);
        size_t bad = spec->count;
        for (size_t i = 0; i < spec->count && bad == spec->count; i++)
            if (p.mask[i] == 0.0f && weff[i] != 0.0f) bad = i;
        float value = bad < spec->count ? weff[bad] : 0.0f;
        pl_free(weff);
        if (bad < spec->count)
            return PL_ERROR(err, PL_ERR_INTERNAL,
                            "%s[%zu] is masked but the forward pass uses %g instead of 0",
                            spec->name, bad, (double)value);
    }
    return PL_OK;
}

static pl_status report_modules(const sparsity_summary *s, const pl_metrics_sink *sink,
                                const char *suffix, pl_error *err) {
    char name[128];
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        snprintf(name, sizeof name, "sparsity_%s%s", module_name((pl_module)mod), suffix);
        PL_TRY(pl_metric_summary(sink, name, sparsity_module(s, (pl_module)mod), err));
    }
    snprintf(name, sizeof name, "sparsity_overall%s", suffix);
    return pl_metric_summary(sink, name, sparsity_overall(s), err);
}

pl_status sparsity_report_modules(const vlm *m, const pl_metrics_sink *sink, const char *suffix,
                                  pl_error *err) {
    sparsity_summary s;
    sparsity_measure(m, &s);
    return report_modules(&s, sink, suffix, err);
}

pl_status sparsity_report(const vlm *m, const pl_metrics_sink *sink, int per_matrix,
                          pl_error *err) {
    sparsity_summary s;
    sparsity_measure(m, &s);
    char name[128];
    PL_TRY(report_modules(&s, sink, "", err));
    PL_TRY(pl_metric_summary(sink, "nonzero_params", (double)s.nonzero_params, err));
    PL_TRY(pl_metric_summary(sink, "params", (double)s.params, err));
    PL_TRY(pl_metric_summary(sink, "nonzero_prunable", (double)s.nonzero_prunable, err));
    PL_TRY(pl_metric_summary(sink, "prunable_params", (double)s.prunable, err));
    if (!per_matrix) return PL_OK;
    for (int t = 0; t < m->index.layout.count; t++) {
        if (!m->index.prunable[t]) continue;
        const pl_tensor_spec *spec = &m->index.layout.tensors[t];
        snprintf(name, sizeof name, "sparsity.%s", spec->name);
        PL_TRY(pl_metric_summary(sink, name, (double)tensor_zeros(m, t) / (double)spec->count, err));
    }
    return PL_OK;
}
