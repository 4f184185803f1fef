/* h5_series.h - one axis of a stage group: a `step` (or `eval_step`) dimension scale and the
 * float64 metric datasets attached to it, with values buffered in memory between flushes.
 * Internal to io/: every function expects the HDF5 lock to be held.
 *
 * Rows of the axis are the sorted union of the steps any of its metrics was logged at; a
 * metric has NaN at rows where it was not logged (so a metric that starts at step 500 is
 * NaN before). Per metric, steps must strictly increase. A value for a step that already
 * has a row is stored in that row (even after the row was flushed); a new step must be
 * larger than every step the axis has seen. */
#ifndef PL_IO_H5_SERIES_H
#define PL_IO_H5_SERIES_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct {
    char *name;
    hid_t ds;          /* the dataset, or -1 until the first flush that needs it */
    double *buf;       /* values of the buffered rows, NaN where not logged */
    int64_t last_step; /* valid when has_last */
    int has_last;
} pl_h5_column;

typedef struct {
    hid_t group;            /* the stage group (not owned) */
    const char *where;      /* "file.h5:/stages/00_x" for messages (not owned) */
    const char *scale_name; /* "step" or "eval_step" */
    hid_t scale;            /* the scale dataset, or -1 until the first flush */
    int64_t *steps;         /* every row's step, written and buffered */
    size_t rows, rows_cap;
    size_t written;         /* rows [0, written) are in the file */
    size_t buf_cap;         /* capacity of each column's buffer, in rows */
    pl_h5_column *cols;
    size_t ncols, cols_cap;
} pl_h5_series;

void pl_h5_series_init(pl_h5_series *s, hid_t group, const char *where, const char *scale_name);
void pl_h5_series_free(pl_h5_series *s); /* closes datasets, frees memory */

/* The column named `name`, or NULL. */
pl_h5_column *pl_h5_series_find(pl_h5_series *s, const char *name);

/* Records one value; may write straight to the file when its row was already flushed. */
pl_status pl_h5_series_record(pl_h5_series *s, const char *name, int64_t step, double value,
                              pl_error *err);

/* Rows buffered and not yet in the file. */
size_t pl_h5_series_pending(const pl_h5_series *s);

/* Extends the scale and every metric dataset to all rows and writes the buffered ones. */
pl_status pl_h5_series_flush(pl_h5_series *s, pl_error *err);

#endif
