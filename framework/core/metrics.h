/* metrics.h - where training and evaluation report numbers: an interface that the io layer
 * implements with HDF5 and that tests implement in memory.
 *
 * step metrics (loss, lr, grad_norm...) live on a `step` axis; eval metrics (acc, ce, ...)
 * on an `eval_step` axis; summary values are final scalars. Every callback may be NULL. */
#ifndef PL_CORE_METRICS_H
#define PL_CORE_METRICS_H

#include <stdint.h>

#include "core/error.h"

typedef struct {
    void *ctx;
    pl_status (*step)(void *ctx, const char *name, int64_t step, double value, pl_error *err);
    pl_status (*eval)(void *ctx, const char *name, int64_t step, double value, pl_error *err);
    pl_status (*summary)(void *ctx, const char *name, double value, pl_error *err);
    void (*progress)(void *ctx, const char *line); /* one human-readable line, no newline */
} pl_metrics_sink;

static inline pl_status pl_metric_step(const pl_metrics_sink *s, const char *name, int64_t step,
                                       double value, pl_error *err) {
    return (s && s->step) ? s->step(s->ctx, name, step, value, err) : PL_OK;
}
static inline pl_status pl_metric_eval(const pl_metrics_sink *s, const char *name, int64_t step,
                                       double value, pl_error *err) {
    return (s && s->eval) ? s->eval(s->ctx, name, step, value, err) : PL_OK;
}
static inline pl_status pl_metric_summary(const pl_metrics_sink *s, const char *name,
                                          double value, pl_error *err) {
    return (s && s->summary) ? s->summary(s->ctx, name, value, err) : PL_OK;
}
static inline void pl_metric_progress(const pl_metrics_sink *s, const char *line) {
    if (s && s->progress) s->progress(s->ctx, line);
}

#endif
