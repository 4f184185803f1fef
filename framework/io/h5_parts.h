/* h5_parts.h - the run and stage records shared by h5_run.c, h5_stage.c and h5_sink.c.
 * Internal to io/. */
#ifndef PL_IO_H5_PARTS_H
#define PL_IO_H5_PARTS_H

#include <hdf5.h>

#include "io/h5_run.h"
#include "io/h5_series.h"

struct pl_h5_run {
    hid_t file;
    hid_t stages;        /* /stages */
    hid_t summary;       /* /summary */
    char *path;
    char *run_id;
    size_t flush_every;
    double flush_seconds;
    int next_index;      /* NN of the next stage */
    pl_h5_stage *open;   /* stages begun and not yet ended */
};

struct pl_h5_stage {
    pl_h5_run *run;
    pl_h5_stage *next;   /* in run->open */
    hid_t group;
    hid_t summary;       /* the stage's summary group, or -1 until needed */
    char name[80];       /* "00_pretrain" */
    char *where;         /* "<path>:/stages/00_pretrain" for messages */
    pl_h5_series steps;
    pl_h5_series evals;
    double last_flush;   /* pl_now() of the last flush */
    FILE *log;
    bool echo;
};

/* Ends one stage (flush, end attributes, close, unlink from its run, free); lock held. */
pl_status pl_h5_stage_finish_locked(pl_h5_stage *st, const char *status, pl_error *err);
/* Flushes a stage's series and the file; lock held. */
pl_status pl_h5_stage_flush_locked(pl_h5_stage *st, pl_error *err);
/* Writes a summary attribute on group; lock held. */
pl_status pl_h5_summary_locked(hid_t group, const char *name, double value, const char *where,
                               pl_error *err);

#endif
