/* preflight.h - the checks an experiment must pass before anything runs, shared by
 * `prunelab validate` and `prunelab run` so that validate never accepts what run refuses:
 * every run's pipeline in a runnable order (engine/stage.h: no eval before a model stage),
 * engine.results_dir (and its cache/ and experiment folder) a directory where it exists,
 * every checkpoint a stage reads (`load.path`, a teacher named by path) an existing regular
 * file, the data keys naming paths never a FIFO, socket or device (data.tsv a file,
 * data.images a file or directory, data.path a directory), every distill scheme able to
 * apply to the depth its input model has (known from pretrain's model config or the loaded
 * checkpoint's metadata), every train_samples budget at least one batch, and every
 * held-out sample count within its split and every training stage with train samples to
 * draw (engine/preflight_data.h: data.val_scenes, data.test_size, or the rows of data.tsv).
 * The error names the run, the stage and, where the value came from a file or an override,
 * its file:line:col. */
#ifndef PL_ENGINE_PREFLIGHT_H
#define PL_ENGINE_PREFLIGHT_H

#include "config/experiment.h"

pl_status pl_preflight(const pl_experiment *exp, pl_error *err);

#endif
