/* experiment.h - the config layer's entry point for the engine and the CLI.
 *
 * cfg_experiment_load reads an experiment file, composes its defaults, applies command-line
 * overrides, validates everything against the schema and expands the sweep into a run
 * table. Nothing is returned unless every run validates. Each run carries its fully
 * resolved config (write it with cfg_to_yaml), its 12-hex run id (hash of the config
 * without non-semantic keys, seed included) and group id (the same without the seed). The
 * stage kinds a pipeline may hold and their settings come from a catalog: the engine's
 * registry (engine/stage.h's pl_experiment_load passes it).
 *
 *   pl_experiment *exp;
 *   if (pl_experiment_load("experiments/quickstart.yaml", NULL, 0, &exp, &err) != PL_OK) ...
 *   for (int i = 0; i < exp->n_runs; i++) {
 *       const pl_run *r = &exp->runs[i];
 *       long long steps;
 *       cfg_get_int(r->config, "pipeline.pretrain.steps", &steps, &err);
 *   }
 *   pl_experiment_free(exp);
 */
#ifndef PL_CONFIG_EXPERIMENT_H
#define PL_CONFIG_EXPERIMENT_H

#include "config/canon.h"
#include "config/hash.h"
#include "config/node.h"
#include "config/path.h"
#include "config/schema.h"
#include "config/sweep.h"

typedef struct {
    char run_id[CFG_ID_LEN + 1];
    char group_id[CFG_ID_LEN + 1];
    long long seed;
    const cfg_node **values;  /* n_axes: each alias's value in this run */
    const cfg_node *config;   /* fully resolved: defaults filled, interpolated, validated */
    const cfg_node *semantic; /* config without non-semantic keys: what the ids hash */
} pl_run;

typedef struct {
    cfg_arena arena;          /* owns every tree and string below */
    const cfg_stage_catalog *stages; /* the stage kinds it was validated against */
    const char *path;         /* as given */
    const char *name;         /* name: key, or the file name without directory and .yaml */
    const cfg_node *base;     /* the resolved config before any sweep value is applied */
    const cfg_node *figures;  /* the figures: list, or NULL */
    cfg_sweep *sweep;
    int n_axes;
    const char *const *aliases; /* n_axes alias names, table column order */
    const char *const *paths;   /* n_axes key paths */
    pl_run *runs;
    int n_runs;
    int n_groups;               /* distinct group ids (configurations without the seed) */
} pl_experiment;

/* overrides: "key.path=value" strings (NULL when n_overrides is 0). */
pl_status cfg_experiment_load(const cfg_stage_catalog *stages, const char *path,
                              const char *const *overrides, int n_overrides, pl_experiment **out,
                              pl_error *err);

void pl_experiment_free(pl_experiment *exp);

/* A run as stored: the fully resolved config a run folder keeps (config.yaml, the canonical
 * text of pl_run.config) read back into a run with its semantic tree, run id, group id and
 * seed, identified exactly as cfg_experiment_load identifies runs (values stays NULL).
 * Everything lives in the arena; label names the text in errors. */
pl_status cfg_run_from_text(const cfg_stage_catalog *stages, cfg_arena *a, const char *text, size_t len,
                            const char *label, pl_run *out, pl_error *err);

#endif
