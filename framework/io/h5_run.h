/* h5_run.h - a run's metrics.h5: provenance on the root, one group per stage holding its
 * metric series, and final scalars in /summary. This is what the engine calls.
 *
 * Layout:
 *   /                       attributes: format, run_id, experiment, config (YAML text), seed,
 *                           git_commit, git_dirty, host, cpu, compiler, cflags, blas_config,
 *                           blas_core, cores, jobs, threads, hdf5_version, start_time,
 *                           end_time, status, status_reason
 *   /stages/00_pretrain     attributes: kind, index, config, cache_key, cache ("computed" or
 *                           "reused"), start_time, end_time, status
 *     step                  int64 dimension scale: every step any step metric was logged at
 *     <metric>              float64, one value per `step` row, NaN where not logged
 *     eval_step             int64 dimension scale for evaluation metrics
 *     <eval metric>         float64, one value per `eval_step` row
 *     summary               group; one float64 attribute per summary metric of this stage
 *   /summary                one float64 attribute per summary metric (the latest stage's
 *                           value wins; the engine may also write run-level values here)
 * Metric datasets are 1-D, chunked, extendible (H5S_UNLIMITED), shuffled and deflated.
 *
 * Writes are buffered: a stage writes its rows, then H5Fflush, every `flush_every` rows,
 * every `flush_seconds` seconds (if set), at pl_h5_*_flush and at the end. The file uses the
 * HDF5 1.8 format (not SWMR) and does not take HDF5's file lock, so other processes may open
 * it read-only while it runs; a reader sees the state of the last flush, and one that opens
 * it during a flush may get an error and should retry. A writer killed between flushes
 * leaves a file readable up to the last flush, with status "running".
 *
 * One writer per file, used from one thread at a time. Different runs may write their own
 * files from different threads concurrently: all HDF5 calls go through io/h5_lock.h. */
#ifndef PL_IO_H5_RUN_H
#define PL_IO_H5_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/metrics.h"

typedef struct pl_h5_run pl_h5_run;
typedef struct pl_h5_stage pl_h5_stage;

typedef struct {
    const char *run_id;      /* 12-hex run id */
    const char *experiment;  /* experiment name */
    const char *config_yaml; /* the fully resolved config, as YAML text */
    uint64_t seed;
    const char *git_commit;  /* supplied by the caller; NULL -> "unknown" */
    const char *git_dirty;   /* "yes" / "no"; NULL -> "unknown" */
    int jobs;                /* engine.jobs */
    int threads;             /* engine.threads (per job) */
    int flush_every;         /* rows per flush; 0 -> 100 */
    double flush_seconds;    /* also flush after this long; 0 -> only by rows */
    const char *numerics;    /* the numerics versions of the run's stage kinds that have one
                                ("distill=1"); NULL or "" -> "none" */
    const char *precision;   /* numerics.precision and how it ran ("bf16: oneDNN 2.6.3,
                                avx512_core_bf16"); NULL -> "fp32" */
} pl_h5_run_info;

typedef struct {
    const char *kind;        /* "pretrain", "prune", ...: [a-z0-9_]+ */
    const char *config_yaml; /* the stage's own config section */
    const char *cache_key;   /* hex key of its cached output */
    bool reused;             /* true when the output came from the cache */
} pl_h5_stage_info;

/* Creates (truncating) the file at path and writes the root attributes with status
 * "running". On failure *out is NULL and nothing needs closing. */
pl_status pl_h5_run_create(const char *path, const pl_h5_run_info *info, pl_h5_run **out,
                           pl_error *err);

/* Sets /summary's attribute `name` to value. */
pl_status pl_h5_run_summary(pl_h5_run *run, const char *name, double value, pl_error *err);

/* Flushes every open stage and the file. */
pl_status pl_h5_run_flush(pl_h5_run *run, pl_error *err);

/* Ends stages still open (with this status), records end_time, status ("completed",
 * "failed", ...) and an optional reason, and closes the file. Always frees run, even when it
 * reports an error. NULL run is a no-op. */
pl_status pl_h5_run_close(pl_h5_run *run, const char *status, const char *reason,
                          pl_error *err);

/* Opens the next stage group, /stages/NN_<kind> with NN = 00, 01, ... in call order. The
 * stage belongs to run and stays valid until pl_h5_stage_end or pl_h5_run_close. */
pl_status pl_h5_stage_begin(pl_h5_run *run, const pl_h5_stage_info *info, pl_h5_stage **out,
                            pl_error *err);

/* Step metrics (on `step`), evaluation metrics (on `eval_step`), stage summary scalars
 * (stage's summary group and /summary). Per metric, steps must strictly increase; a new
 * step must not fall between steps the stage already recorded on that axis. Names are
 * [A-Za-z0-9_.-]+ and not "step", "eval_step" or "summary"; a name is either a step or an
 * eval metric within one stage. */
pl_status pl_h5_stage_step(pl_h5_stage *st, const char *name, int64_t step, double value,
                           pl_error *err);
pl_status pl_h5_stage_eval(pl_h5_stage *st, const char *name, int64_t step, double value,
                           pl_error *err);
pl_status pl_h5_stage_summary(pl_h5_stage *st, const char *name, double value, pl_error *err);

pl_status pl_h5_stage_flush(pl_h5_stage *st, pl_error *err);

/* Flushes, records end_time and status (NULL -> "completed"), closes and frees the stage. */
pl_status pl_h5_stage_end(pl_h5_stage *st, const char *status, pl_error *err);

/* A metrics sink writing into the stage. Its progress callback appends each line plus a
 * newline to `log` (when non-NULL, flushed per line) and, when echo is true, writes
 * "[<run id> <stage>] line" to stderr. The sink is valid while the stage is. */
pl_metrics_sink pl_h5_stage_sink(pl_h5_stage *st, FILE *log, bool echo);

#endif
