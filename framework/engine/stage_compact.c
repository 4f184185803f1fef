/* stage_compact.c - the compact stage: adapters the model carries are merged, then the
 * heads and neurons a structured pruning removed go (model/compact.h), leaving a model of
 * the smaller per-block shape that computes what the masked one did; its checkpoint
 * carries the shape, so later stages and `load` read it like any other. Reports
 * params_before_compact and the usual sparsity summary (params, nonzero_params, ...) of
 * what remains. */
#include "config/schema_keys.h"
#include "engine/stage.h"
#include "model/compact.h"
#include "prune/sparsity.h"

/* ---- settings (the `compact` section of an experiment) ---- */

/* compact has no settings: what it removes is what the model's keep flags say. */
static const cfg_section COMPACT = {"compact",
                                    "merge carried adapters, then remove the heads and neurons a "
                                    "structured prune masked: a model of the smaller per-block "
                                    "shape that computes the same", NULL, 0, false};


static pl_status stage_compact(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                        vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    (void)section, (void)run, (void)data;
    vlm_merge_carried_adapters(in);
    sparsity_summary before;
    sparsity_measure(in, &before);
    PL_TRY(vlm_compact(in, out, err));
    PL_TRY(pl_metric_summary(sink, "params_before_compact", (double)before.params, err));
    return sparsity_report(out, sink, 0, err);
}

const pl_stage_kind PL_STAGE_COMPACT = {.schema = &COMPACT, .run = stage_compact, .produces_model = true};
