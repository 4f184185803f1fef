/* preflight_data.h - the preflight check of a run's data against its pipeline: every
 * stage that reads held-out samples asks for no more than its split holds (eval.samples and
 * bench.samples on their split, pretrain.eval_samples on val, which pretrain evaluates at its
 * end), and every training stage has train samples to draw. The split sizes come from the
 * data config alone: data.val_scenes and data.test_size for the generated scenes, the rows
 * of each split of data.tsv for a user's own files (counted without reading the images).
 * Internal to engine/: engine/preflight.h runs it for every run. */
#ifndef PL_ENGINE_PREFLIGHT_DATA_H
#define PL_ENGINE_PREFLIGHT_DATA_H

#include "config/experiment.h"
#include "data/user_data.h"

/* The TSV counted last, so a sweep over one data.tsv reads it once. Zero-initialise. */
typedef struct {
    char tsv[512];
    int split_size[PL_USER_SPLITS]; /* its train, val and test rows */
} preflight_tsv_memo;

/* Checks run r of exp; the error names the key's file:line:col, the run and the stage. */
pl_status preflight_data_splits(const pl_experiment *exp, int r, preflight_tsv_memo *memo,
                                pl_error *err);

#endif
