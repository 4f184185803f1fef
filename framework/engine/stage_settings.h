/* stage_settings.h - the typed settings of the stage kinds that other code reads besides the
 * stage itself: each bound from its section by the section's own table (config/bind.h), in
 * the stage's file. */
#ifndef PL_ENGINE_STAGE_SETTINGS_H
#define PL_ENGINE_STAGE_SETTINGS_H

#include <stdbool.h>

#include "config/node.h"
#include "prune/prune.h"
#include "tune/finetune.h"
#include "tune/pretrain.h"

/* prune (engine/stage_prune.c): stage is the prune stage's settings map (what cfg_stage_at
 * returns), defaults filled in by the schema. calib_start is 0 (data.seed varies the
 * calibration scenes). */
pl_status settings_prune(const cfg_node *stage, prune_config *out, pl_error *err);

/* settings_prune, plus what the run adds: replicate seed s calibrates on the calib-split
 * window [s * calib_size, (s + 1) * calib_size), so seeds are independent calibration draws
 * (seed 0 keeps the first window). */
pl_status settings_prune_run(const cfg_node *stage, const cfg_node *run, prune_config *out,
                             pl_error *err);

/* finetune (engine/stage_finetune.c): the recovery's training, adapters and teacher. */
typedef struct {
    finetune_config train;
    bool merge;            /* fold the adapters into W at the end */
    const char *teacher;   /* tune/teacher.h's vocabulary, "input" stored as "same" */
} finetune_settings;

pl_status settings_finetune(const cfg_node *stage, const cfg_node *run, finetune_settings *out,
                            pl_error *err);

/* The `teacher` key's help in every stage that has one (tune/teacher.h's vocabulary). */
#define TEACHER_HELP                                                                                 \
    "the model distilled from: 'input' (this stage's input: its weights unmasked, without "      \
    "adapters, frozen), 'first' (the checkpoint the pipeline's first stage read) or a checkpoint " \
    "path; 'same' is another word for 'input'"

/* pretrain (engine/stage_pretrain.c): the schedule and its phases; the run's precision is
 * settings_precision's. */
pl_status settings_pretrain(const cfg_node *stage, pretrain_config *out, pl_error *err);

/* What the run adds to a training stage's bound settings: the replicate seed (an adapter's
 * initialisation) and numerics.precision; with seed_stream, replicate seed s also trains on
 * a data stream of its own, 2^34 samples further per seed (a training whose only
 * randomness is its data: distill, l0prune, masked full fine-tuning). */
pl_status settings_training_run(const cfg_node *run, finetune_config *c, bool seed_stream, pl_error *err);

#endif
