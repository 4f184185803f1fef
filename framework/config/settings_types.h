/* settings_types.h - the structs the experiment-level sections bind into (config/bind.h):
 * the tables of config/schema_sections.c name these fields, so a setting is declared once,
 * there, and cfg_bind_section fills them from a resolved run or an experiment's base. */
#ifndef PL_CONFIG_SETTINGS_TYPES_H
#define PL_CONFIG_SETTINGS_TYPES_H

#include <stdbool.h>

#include "config/node.h"
#include "config/schema.h"
#include "data/dataset.h"
#include "model/model_config.h"

/* data: the data layer's config, and which data set it describes. */
typedef struct {
    pl_data_config config;
    const char *dataset;         /* "fashion_scenes" or "files" */
} cfg_data_settings;

/* model: the model config's shape fields, and the per-block list as written. */
typedef struct {
    model_config shape;
    const cfg_node *blocks;      /* model.blocks, or NULL (every block uniform) */
} cfg_model_settings;

/* numerics: the training precision as written ("fp32" or "bf16", with its position). */
typedef struct {
    const cfg_node *precision;
} cfg_numerics_settings;

typedef enum { CFG_ISOLATION_THREAD = 0, CFG_ISOLATION_PROCESS } cfg_isolation;

/* engine.slurm: `prunelab slurm`'s array shape and sbatch resources. */
typedef struct {
    long long runs_per_task, concurrency, cpus_per_task;
    const char *time, *mem, *partition, *account; /* NULL: not set */
    bool hdf5_file_locking;
} cfg_slurm_settings;

/* engine: how runs execute. */
typedef struct {
    int jobs, threads, flush_every;
    cfg_isolation isolation;
    const char *results_dir;
    cfg_slurm_settings slurm;
} cfg_engine_settings;

/* The replicate seed of a resolved run (its top-level `seed`). */
pl_status cfg_run_seed(const cfg_node *run, long long *seed, pl_error *err);

/* One entry of model.blocks.<module>: binds a block_dims (keys left out keep its values). */
extern const cfg_section CFG_BLOCK;

/* Binds the experiment-level section `name` (data, model, numerics, engine) of tree, a
 * resolved run's config or an experiment's base, into out (the struct above of that
 * section, zero it first); a section the tree lacks binds nothing. */
pl_status cfg_bind_section(const cfg_node *tree, const char *name, void *out, pl_error *err);

#endif
