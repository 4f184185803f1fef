/* stage.h - the one interface every pipeline stage kind implements, and the registry that
 * maps a kind name ("pretrain", "eval", ...) to its implementation.
 *
 * A stage is a function
 *
 *   pl_status fn(vlm *in, const cfg_node *section, const cfg_node *run,
 *                const pl_data *data, vlm *out, const pl_metrics_sink *sink, pl_error *err);
 *
 *   in       the model the previous model-producing stage made, loaded for this call alone
 *            (NULL before the first one, e.g. for pretrain). The stage may change it freely
 *            (eval uses its activation buffers) and may hand it over as its output with
 *            pl_stage_take(in, out). The engine frees whatever is left in it.
 *   section  the stage's own settings map (what cfg_stage_at returns: defaults filled)
 *   run      the run's fully resolved config (model, data, seed, ...)
 *   data     the opened data set with the run's data config
 *   out      zero-filled; a model-producing stage leaves its output model here (vlm_create
 *            or pl_stage_take); others leave it alone. The engine saves and frees it.
 *   sink     metrics: step/eval series, summary scalars, progress lines
 *
 * Stages that produce a model (pretrain, load, distill, prune, finetune, loraprune, l0prune,
 * compact) are
 * cached: the engine stores their output as results/cache/<key>.safetensors and skips them
 * when the file exists. Other stages (eval, bench) run once per run on the latest model.
 *
 * Adding a kind is one file and one table line. engine/stage_<kind>.c holds the function
 * above (static), its settings section (the schema's keys, config/schema_keys.h shows how)
 * and its registry entry,
 *   const pl_stage_kind PL_STAGE_FOO = {.schema = &FOO, .run = stage_foo, .produces_model = true};
 * declared below; the line `&PL_STAGE_FOO,` in STAGE_KINDS (stage.c) registers it. From
 * those two the config layer knows its pipeline key and settings (validation, defaults,
 * `stages:` defaults, overrides, run ids, `prunelab help config`), and the engine its cache,
 * batch size, scheduling and input model; nothing else names it. A model-producing stage
 * must fill `out` (usually pl_stage_take(in, out), then change out in place). */
#ifndef PL_ENGINE_STAGE_H
#define PL_ENGINE_STAGE_H

#include <stdbool.h>

#include "config/experiment.h"
#include "config/schema.h"
#include "core/metrics.h"
#include "data/dataset.h"
#include "model/vlm.h"

typedef pl_status (*pl_stage_fn)(vlm *in, const cfg_node *section, const cfg_node *run,
                                 const pl_data *data, vlm *out, const pl_metrics_sink *sink,
                                 pl_error *err);

/* A section key whose value names a checkpoint file the stage reads. Its content (SHA-256)
 * is part of the cache key of the stage and of every later stage (engine/cache.h), unless
 * the value is one of `words`: the stage's names for a model it already has. */
typedef struct {
    const char *key;   /* NULL ends the list */
    const char *words; /* '|'-separated values that name no file ("same"), or NULL */
} pl_file_input;

enum { PL_STAGE_MAX_FILES = 2 };

typedef struct {
    const cfg_section *schema; /* its pipeline key (schema->name), one-line help and settings */
    pl_stage_fn run;
    bool produces_model;    /* output cached as results/cache/<key>.safetensors */
    bool starts_pipeline;   /* makes a model from nothing (a fresh one, a file): must come
                               before every other stage of a pipeline */
    const char *batch_key;  /* section key holding the batch size the input model must be
                               able to run (its max_batch; a list: its largest), or NULL for
                               the default 64 */
    pl_file_input files[PL_STAGE_MAX_FILES + 1]; /* checkpoints it reads, {NULL} ended */
    bool runs_alone;        /* a timing stage: the scheduler runs a run holding it while no
                               other stage runs, whatever engine.jobs says */
    bool trains;            /* draws training batches (a user's TSV needs train rows) */
    int numerics;           /* bumped when what the kind computes changes (0: as it first
                               shipped); folded into cache keys when > 0 and recorded in
                               provenance */
    int (*numerics_of)(const cfg_node *section); /* when only some settings changed what the
                               kind computes: their version (instead of `numerics`), or NULL */
} pl_stage_kind;

/* The kind's pipeline key. */
static inline const char *pl_stage_name(const pl_stage_kind *k) { return k->schema->name; }

/* The registered kinds' settings sections, for the config layer. */
const cfg_stage_catalog *pl_stage_catalog(void);

/* An experiment file with the registered stage kinds (cfg_experiment_load). */
pl_status pl_experiment_load(const char *path, const char *const *overrides, int n_overrides,
                             pl_experiment **out, pl_error *err);

/* The registered kind, or NULL. */
const pl_stage_kind *pl_stage_find(const char *kind);

/* The registered kinds joined by ", " into buf (for messages). */
void pl_stage_kind_names(char *buf, size_t cap);

/* Checks every run's pipeline before anything runs: each kind registered, the first stage
 * produces a model from nothing (pretrain), every later stage has a model to work on. The
 * error names the run and the stage ("pipeline stage 2 'prune' ..."). */
pl_status pl_stage_validate(const pl_experiment *exp, pl_error *err);

/* The numerics version of a stage with these settings (pl_stage_kind.numerics_of, or
 * .numerics). */
int pl_stage_numerics(const pl_stage_kind *k, const cfg_node *section);

/* The path the stage's i-th file input names in section, or NULL when it names none (absent,
 * not text, or one of the input's words). */
const char *pl_stage_file(const pl_stage_kind *k, const cfg_node *section, int i);

/* The file the run's first stage reads (load.path), or NULL when it reads none. */
const char *pl_stage_first_file(const cfg_node *run);

/* The max_batch the engine loads the input model with for this stage. */
int pl_stage_input_batch(const pl_stage_kind *k, const cfg_node *section);

/* An error naming the stage kind when the model carries unmerged adapters (a finetune with
 * merge: false before it): pruning or fine-tuning again needs the adapters merged first. */
pl_status pl_stage_require_merged(const vlm *in, const char *kind, pl_error *err);

/* Moves the model in into out (no copy) and leaves in empty. */
void pl_stage_take(vlm *in, vlm *out);

/* A key's list of module names (vision, bridge, language) into an unsigned of their bits
 * (1u << pl_module): a cfg_convert_fn for AT_CONVERT. */
pl_status pl_modules_into_bits(const cfg_node *value, void *field, const char *name, pl_error *err);

/* The held-out splits a stage reads (eval, bench): its choices and their values, in order. */
#define PL_HELD_OUT_SPLITS "test|val"
extern const int PL_HELD_OUT_SPLIT_VALUES[];

/* The built-in kinds (stage_<kind>.c). */
extern const pl_stage_kind PL_STAGE_PRETRAIN, PL_STAGE_LOAD, PL_STAGE_DISTILL, PL_STAGE_PRUNE,
    PL_STAGE_FINETUNE, PL_STAGE_LORAPRUNE, PL_STAGE_L0PRUNE, PL_STAGE_COMPACT, PL_STAGE_EVAL, PL_STAGE_BENCH;

#endif
