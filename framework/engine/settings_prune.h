/* settings_prune.h - a run's validated `prune` stage section -> prune_config. */
#ifndef PL_ENGINE_SETTINGS_PRUNE_H
#define PL_ENGINE_SETTINGS_PRUNE_H

#include "config/node.h"
#include "prune/prune.h"

/* stage: the prune stage's settings map (what cfg_stage_at returns), defaults filled in by
 * the schema. calib_start is 0 (data.seed varies the calibration scenes). */
pl_status settings_prune(const cfg_node *stage, prune_config *out, pl_error *err);

/* settings_prune, plus what the run adds: replicate seed s calibrates on the calib-split
 * window [s * calib_size, (s + 1) * calib_size), so seeds are independent calibration draws
 * (seed 0 keeps the first window). */
pl_status settings_prune_run(const cfg_node *stage, const cfg_node *run, prune_config *out,
                             pl_error *err);

#endif
