/* dataset.h - the data a model trains and is evaluated on: configuration, loading, splits
 * and filling batches, for the generated fashion-scenes or a user's own files.
 *
 * Generated fashion-scenes (tsv empty). Splits:
 *   train  scenes from the 60k training images minus the validation slice (their last
 *          val_size images); unbounded index space, every index a fresh scene.
 *   val    scenes from the validation slice; indices 0 .. val_scenes-1.
 *   test   scenes from the 10k test images only; indices 0 .. test_size-1.
 *   calib  scenes from the training pool on a stream of their own (pruning calibration:
 *          the first N indices); unbounded.
 * A sample is a pure function of (seed, split, index): train and calib use `seed`, val and
 * test use `eval_seed` so the evaluation sets stay fixed when the training seed changes.
 * Nothing depends on batch composition or thread count.
 *
 * A user's own files (tsv set; data/user_data.h has the formats): the TSV's rows marked
 * val and test are those splits, in file order; train and calib are unbounded, index i being
 * train row i mod the number of train rows. A row's image is normalised exactly as a
 * scene's pixels are; its cell labels are -1 (unknown: the auxiliary losses skip them).
 * item_prob, val_size, val_scenes, test_size, mix, seed and eval_seed do not apply. */
#ifndef PL_DATA_DATASET_H
#define PL_DATA_DATASET_H

#include <stdint.h>

#include "data/batch.h"
#include "data/fashion.h"
#include "data/scenes.h"
#include "data/split.h"
#include "data/user_data.h"

typedef struct {
    char path[512];                 /* directory of the Fashion-MNIST .gz files */
    char tsv[512];                  /* a user's samples, or "" for the generated scenes */
    char images[512];               /* the TSV's images: an IDX file or a PGM directory */
    float item_prob;                /* probability that a cell holds an item */
    int val_size;                   /* training images held out for validation */
    int val_scenes;                 /* scenes in the val split */
    int test_size;                  /* scenes in the test split */
    float mix[QTYPE_COUNT_TYPES];   /* question-type weights, >= 0, positive sum */
    uint64_t seed;                  /* train and calib scenes */
    uint64_t eval_seed;             /* val and test scenes */
    int question_len;               /* answer_start: question tokens before SEP */
    int text_len;                   /* T: tokens per row */
} pl_data_config;

typedef struct {
    pl_data_config config;
    pl_fashion train, test; /* generated scenes: the source images */
    pl_user_data user;      /* a user's files (config.tsv set) */
} pl_data;

/* Defaults: the generated scenes from Debian's directory, item_prob 0.75, val_size 5000, val_scenes 2000, test_size
 * 5000, equal mix, seed 0, eval_seed 1234, question_len 10, text_len 22. */
void pl_data_config_default(pl_data_config *cfg);

/* Checks ranges; errors name the offending key (data.<key>) and the allowed values. */
pl_status pl_data_config_check(const pl_data_config *cfg, pl_error *err);

/* Validates the config and loads both Fashion-MNIST sets, or the user's TSV and images. */
pl_status pl_data_open(pl_data *d, const pl_data_config *cfg, pl_error *err);
void pl_data_close(pl_data *d);

/* Whether data opened with config a can serve config b (the same images and, for a user's
 * files, the same text limits the rows were checked against). */
int pl_data_same_source(const pl_data_config *a, const pl_data_config *b);

/* Number of samples of a split; INT64_MAX for the unbounded train and calib splits (for a
 * user's files: 0 when the TSV has no train rows). */
int64_t pl_data_split_size(const pl_data *d, pl_split split);

/* Generated scenes only. The scene of sample `index` of a split (labels and source image
 * indices); for a user's files, a scene with every cell -1 and no source images. */
void pl_data_scene(const pl_data *d, pl_split split, int64_t index, pl_scene *out);

/* Generated scenes only. The source images (uint8 [*, 28, 28]) a split's scene image
 * indices refer to; NULL for a user's files. */
const uint8_t *pl_data_split_images(const pl_data *d, pl_split split);

/* Fills rows 0..count-1 of b with samples first_index .. first_index+count-1 of a split
 * and sets b->size = count; a user's split without rows is an error saying so. The batch must have been allocated with the config's
 * text_len and question_len (pl_data_batch_alloc). Rows are filled in parallel. */
pl_status pl_data_fill_batch(const pl_data *d, pl_split split, int64_t first_index, int count,
                             pl_batch *b, pl_error *err);

/* The same over a window of `period` samples of a split read cyclically: row r holds sample
 * first_index + (offset + r) mod period (period 0: first_index + offset + r, no wrap). A
 * training data budget is such a window. */
pl_status pl_data_fill_batch_cyclic(const pl_data *d, pl_split split, int64_t first_index,
                                    int64_t period, int64_t offset, int count, pl_batch *b,
                                    pl_error *err);

/* pl_batch_alloc with the config's text_len and answer_start. */
pl_status pl_data_batch_alloc(const pl_data *d, pl_batch *b, int capacity, pl_error *err);

#endif
