/* sweep.h - the `sweep:` block: axes, value generators, zip groups, cases, where, seeds.
 *
 *   sweep:
 *     axes:                         # alias -> the key it sets and its values
 *       sv: {path: pipeline.prune.sparsity.vision, values: {linspace: [0.0, 0.9, 10]}}
 *       sl: {path: pipeline.prune.sparsity.language, values: [0.0, 0.5]}
 *       lr: {path: pipeline.finetune.lr, values: {logspace: [-4, -2, 3]}}
 *       st: {path: pipeline.finetune.steps, values: {range: {from: 100, to: 500, step: 200, inclusive: true}}}
 *       m:  {path: pipeline.prune.method}          # no values: set only by cases
 *       lam: {path: pipeline.finetune.lambda, values: [0, 0.5], label: "KD weight λ"}
 *     zip: {budget: [sv, sl]}       # grouped axes advance together: one dimension
 *     cases: [{m: wanda}, {m: magnitude}]         # explicit points: one dimension
 *     where: sv + sl <= 1.2         # keep only points where this is true
 *     seeds: [0, 1, 2]              # replicate axis, innermost
 *     max_runs: 1000                # refuse bigger expansions
 *
 * Dimensions are crossed (cartesian) in declaration order, first slowest: each ungrouped
 * axis, each zip group (where its first member is declared), then cases, then axes added on
 * the command line (key=a,b,c), then seeds. Generated numbers are rounded to 12 significant
 * digits so 0.1*3 is 0.3; linspace and integer ranges of integers give ints. */
#ifndef PL_CONFIG_SWEEP_H
#define PL_CONFIG_SWEEP_H

#include <stdbool.h>

#include "config/expr.h"
#include "config/node.h"
#include "config/schema.h"

typedef struct {
    const char *alias;
    const char *path;
    const char *label;       /* axis label for figures (label:, default: the alias) */
    const char *description; /* description: text, or NULL */
    cfg_pos pos;
    cfg_node **values; /* NULL when only cases set it */
    int n_values;
    int dim; /* dimension index, -1 when only cases set it */
} cfg_axis;

typedef enum { CFG_DIM_AXIS, CFG_DIM_ZIP, CFG_DIM_CASES } cfg_dim_kind;

typedef struct {
    cfg_dim_kind kind;
    const char *name; /* alias, zip group name or "cases" */
    int size;
} cfg_dim;

typedef struct {
    cfg_axis *axes;
    int n_axes;
    const char **aliases; /* n_axes names, for the where parser */
    cfg_dim *dims;
    int n_dims;
    const cfg_node *cases; /* list of maps alias -> value, or NULL */
    cfg_expr *where;       /* NULL when absent; owned (cfg_sweep_free) */
    long long *seeds;
    int n_seeds;
    long long max_runs;
    cfg_pos pos, where_pos, max_runs_pos; /* for expansion errors */
    const cfg_stage_catalog *stages;      /* the stage kinds axis paths may name */
} cfg_sweep;

/* A command-line value for a key: key.path=a,b,c (an axis) or key.path=a (single). When the
 * file already sweeps that key, the command line replaces the axis's values (so key=a pins
 * it); otherwise a list becomes a new axis and a single value was already applied. */
typedef struct {
    const char *path;
    cfg_node *values; /* a list */
    cfg_pos pos;
    bool single;
} cfg_extra_axis;

/* Reads spec (the sweep: map, or NULL) against base, the validated config every run
 * starts from (axis paths must name keys present in it). */
pl_status cfg_sweep_parse(cfg_arena *a, const cfg_stage_catalog *stages, const cfg_node *spec,
                          const cfg_node *base, const cfg_extra_axis *extra, int n_extra,
                          cfg_sweep **out, pl_error *err);

/* The expanded points: *n_runs rows of n_axes values each (NULL = the axis keeps its base
 * value at this point) in *values, and each row's seed in *seeds. Refuses more than max_runs. */
pl_status cfg_sweep_expand(cfg_arena *a, const cfg_sweep *s, const cfg_node *base,
                           const cfg_node ***values, long long **seeds, int *n_runs, pl_error *err);

void cfg_sweep_free(cfg_sweep *s);

#endif
