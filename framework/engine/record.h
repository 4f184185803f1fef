/* record.h - a metrics sink that keeps everything a stage reports in memory, so the output
 * of a cached stage can carry its training curves: saved next to the cached model as
 * results/cache/<key>.metrics.tsv and replayed into every run that uses that model.
 *
 * File format (TSV, io/tsv.h escaping), one record per line:
 *   step    <name>  <step>  <value>
 *   eval    <name>  <step>  <value>
 *   summary <name>          <value>
 *   log     <line>
 * Numbers are written in their shortest round-trip form, so a replay is bit-identical. */
#ifndef PL_ENGINE_RECORD_H
#define PL_ENGINE_RECORD_H

#include <stdint.h>

#include "core/metrics.h"

typedef enum { REC_STEP, REC_EVAL, REC_SUMMARY, REC_LOG } pl_record_kind;

typedef struct {
    pl_record_kind kind;
    char *text;      /* metric name, or the log line */
    int64_t step;
    double value;
} pl_record_item;

typedef struct {
    pl_record_item *items;
    int count, cap;
    int failed;                    /* an append failed for lack of memory */
    /* Progress lines are also passed on here (may be NULL): echo, heartbeat, ... */
    void (*on_progress)(void *ctx, const char *line);
    void *progress_ctx;
} pl_record;

void pl_record_init(pl_record *r);
void pl_record_free(pl_record *r);

/* A sink appending to r. */
pl_metrics_sink pl_record_sink(pl_record *r);

/* Writes r to path atomically (temporary file, fsync, rename). */
pl_status pl_record_save(const pl_record *r, const char *path, pl_error *err);
/* Reads what pl_record_save wrote (r must be initialised and empty). */
pl_status pl_record_load(pl_record *r, const char *path, pl_error *err);

/* Sends every record to sink in order: metrics to their callbacks, log lines to progress. */
pl_status pl_record_replay(const pl_record *r, const pl_metrics_sink *sink, pl_error *err);

#endif
