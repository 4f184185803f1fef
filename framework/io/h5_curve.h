/* h5_curve.h - reading one per-step metric series back from a run's metrics.h5 (the layout
 * of io/h5_run.h): the values of /stages/NN_<kind>/<metric> against the dimension scale they
 * are attached to (`step` or `eval_step`), with the rows where the metric was not logged
 * (NaN) left out. Takes the process-wide HDF5 lock; opens the file read-only without HDF5's
 * file lock, so it works on a file a running writer has flushed. */
#ifndef PL_IO_H5_CURVE_H
#define PL_IO_H5_CURVE_H

#include "core/error.h"

typedef struct {
    int n;
    double *step;  /* ascending; whole numbers (the int64 step scale) */
    double *value; /* finite or infinite, never NaN */
} pl_curve;

/* stage: a stage kind ("pretrain": the first /stages/NN_pretrain) or a group name
 * ("01_prune"). Errors name the file and list the stages or metrics there are. */
pl_status pl_h5_read_curve(const char *path, const char *stage, const char *metric, pl_curve *out, pl_error *err);
void pl_curve_free(pl_curve *c);

#endif
