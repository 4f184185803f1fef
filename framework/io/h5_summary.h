/* h5_summary.h - reading a run's metrics.h5 back: the /summary scalars (for index.tsv), the
 * root `status` attribute and each stage's cache key. Opens the file read-only without HDF5's file lock, under the
 * process-wide HDF5 lock (io/h5_lock.h). */
#ifndef PL_IO_H5_SUMMARY_H
#define PL_IO_H5_SUMMARY_H

#include "core/error.h"

typedef struct {
    int count;
    char **names;   /* attribute names in HDF5's name order */
    double *values;
    char status[32]; /* root attribute `status`, "" if absent */
} pl_h5_summary;

pl_status pl_h5_read_summary(const char *path, pl_h5_summary *out, pl_error *err);

/* The cache_key attribute of each stage group /stages/NN_<kind>, in stage order, into keys
 * (at most cap; "" for a group without one); *n gets how many stage groups there are. */
pl_status pl_h5_read_stage_keys(const char *path, char (*keys)[65], int cap, int *n, pl_error *err);
void pl_h5_summary_free(pl_h5_summary *s);

#endif
