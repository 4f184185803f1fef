/* stage_prune.c - the prune stage: one-shot pruning of each module to its target sparsity
 * (prune/prune.h), calibrated on the run seed's window of the calib split; the measured
 * sparsity goes to the summary. */
#include "engine/settings_prune.h"
#include "engine/stage.h"
#include "prune/prune.h"

pl_status stage_prune(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                      vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    prune_config pc;
    PL_TRY(settings_prune_run(section, run, &pc, err));
    PL_TRY(pl_stage_require_merged(in, "prune", err));
    pl_stage_take(in, out);
    return prune_model(out, data, &pc, sink, err);
}
