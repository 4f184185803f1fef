/* cache.h - the stage cache: what a stage instance's key is and where its output lives.
 *
 * THE CACHE KEY (defined here and in cache.c, nowhere else): the key of stage i of a run is
 * the SHA-256 (config/hash.h, cfg_hash_subtrees) of the canonical text of these subtrees of
 * the run's semantic config (non-semantic keys such as engine.* removed), in order:
 *   data, model, seed,
 *   pipeline.<j> for every earlier stage j whose kind produces a model (pretrain, prune, ...),
 *   pipeline.<i> (the stage itself, kind included).
 * When the run reads a user's own data (data.tsv set), the key is then re-hashed with the
 * SHA-256 of the TSV appended, and again with that of the images (the IDX file, or for a
 * PGM directory pl_dir_sha256 over its .pgm files in name order), so editing the data never
 * reuses a model built on the old data. Then, for stage i and every earlier model stage, in
 * pipeline order, the SHA-256 of each checkpoint file it reads (its kind's file inputs,
 * engine/stage.h: `load.path`, and `finetune.teacher` or `l0prune.teacher` when they name a
 * file) is appended and hashed again, so replacing such a file invalidates everything built
 * on it. Last, the numerics version of stage i and of every earlier model stage, where it is
 * above 0 ("numerics:<kind>=<n>"). Earlier stages that do not change the model (eval,
 * bench) are left out, so changing an evaluation setting never retrains anything. Two stage
 * instances with the same key are one node of the stage graph and run once.
 *
 * Outputs of model-producing stages (results/cache/):
 *   <key>.safetensors   the model (model/checkpoint.h, written atomically)
 *   <key>.metrics.tsv   what the stage reported, for replay into each run (engine/record.h)
 *   <key>.sha256        the seal: both files' SHA-256, checked before reuse (cache_seal.h)
 * The metrics file is written first, then the model, then the seal; an entry exists only
 * when both data files do. */
#ifndef PL_ENGINE_CACHE_H
#define PL_ENGINE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/experiment.h"
#include "engine/fsutil.h"

/* The key of stage `stage` of run (64 hex digits). memo (may be NULL) remembers the content
 * hashes of loaded checkpoints and data files across the calls of one sweep. */
pl_status pl_cache_key(const pl_run *run, int stage, pl_hash_memo *memo, char out[CFG_HASH_HEX],
                       pl_error *err);

/* A file a stage's key hashes: a user's data (stage -1) or a checkpoint a stage reads. */
enum { PL_CACHE_MAX_INPUTS = 2 + 2 * 64 };
typedef struct {
    int stage;              /* the pipeline stage that reads it, or -1 for data.* */
    char key[96];           /* the config key naming it: "data.tsv", "finetune.teacher", ... */
    const char *path;       /* as the run's config gives it */
    const char *dir_suffix; /* a directory is hashed over its files with this suffix (".pgm"),
                               or NULL: a file only */
} pl_cache_input;

/* The files the key of stage `stage` of run hashes, in the order it folds them (a user's
 * data, then each stage's checkpoints in pipeline order); *n of them in out. */
pl_status pl_cache_inputs(const pl_run *run, int stage, pl_cache_input out[PL_CACHE_MAX_INPUTS], int *n,
                          pl_error *err);

/* <results>/cache/<key>.safetensors and <results>/cache/<key>.metrics.tsv. */
void pl_cache_model_path(const char *results, const char *key, char *buf, size_t cap);
void pl_cache_record_path(const char *results, const char *key, char *buf, size_t cap);

/* <results>/cache/<key>.lock: held (engine/lock.h) by the process computing or checking
 * the entry. */
void pl_cache_lock_path(const char *results, const char *key, char *buf, size_t cap);

/* True when both files of the entry exist. */
bool pl_cache_has(const char *results, const char *key);

#endif
