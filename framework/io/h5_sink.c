/* h5_sink.c - the pl_metrics_sink that routes a trainer's reports into a stage of a
 * metrics file, and its progress lines into a log file and stderr. */
#include <stdio.h>

#include "io/h5_parts.h"
#include "io/h5_run.h"

static pl_status sink_step(void *ctx, const char *name, int64_t step, double value,
                           pl_error *err) {
    return pl_h5_stage_step(ctx, name, step, value, err);
}

static pl_status sink_eval(void *ctx, const char *name, int64_t step, double value,
                           pl_error *err) {
    return pl_h5_stage_eval(ctx, name, step, value, err);
}

static pl_status sink_summary(void *ctx, const char *name, double value, pl_error *err) {
    return pl_h5_stage_summary(ctx, name, value, err);
}

/* One fprintf per destination, so lines from concurrent runs do not interleave mid-line. */
static void sink_progress(void *ctx, const char *line) {
    pl_h5_stage *st = ctx;
    if (st->log != NULL) {
        fprintf(st->log, "%s\n", line);
        fflush(st->log);
    }
    if (st->echo) fprintf(stderr, "[%s %s] %s\n", st->run->run_id, st->name, line);
}

pl_metrics_sink pl_h5_stage_sink(pl_h5_stage *st, FILE *log, bool echo) {
    st->log = log;
    st->echo = echo;
    pl_metrics_sink sink = {st, sink_step, sink_eval, sink_summary, sink_progress};
    return sink;
}
