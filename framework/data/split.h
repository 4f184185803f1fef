/* split.h - the names of the data splits: train, val, test and calib (what each holds is
 * described in dataset.h; a user's TSV marks its rows train, val or test). */
#ifndef PL_DATA_SPLIT_H
#define PL_DATA_SPLIT_H

typedef enum { PL_SPLIT_TRAIN = 0, PL_SPLIT_VAL, PL_SPLIT_TEST, PL_SPLIT_CALIB, PL_SPLIT_COUNT } pl_split;

const char *pl_split_name(int split);
/* Parses "train", "val", "test", "calib"; -1 if unknown. */
int pl_split_parse(const char *name);

#endif
