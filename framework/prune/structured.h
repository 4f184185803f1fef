/* structured.h - structured one-shot pruning: whole self-attention heads, cross-attention
 * heads and MLP neurons (the units of model/units.h) removed to a fraction per module.
 *
 * Each unit gets one score from all its weights (the rows of its input side and the
 * columns of its output side, W ⊙ M):
 *   magnitude  the L2 norm of those weights, sqrt(Σ W_ij²)
 *   wanda      Σ |W_ij| · sqrt(mean_t x_tj²), the Wanda score summed over the group, x the
 *              matrix's input (prune/calibrate.h) over the calibration scenes
 * and the lowest-scoring units go (ties: the lower block, then the lower unit index):
 * round(f · units) of each block (scope block) or round(f · units of the module) ranked
 * across its blocks (scope module), where a block may lose every head or neuron and its
 * sublayer vanishes. Every bridge block keeps at least one cross-attention head. A unit
 * already removed counts as the lowest score.
 *
 * Calibration follows prune.h: sequential runs the scenes through the model as pruned so
 * far before each block (scope block) or before each module (scope module, so that a
 * module's blocks are ranked on one pass); dense runs one pass of the model before any
 * pruning.
 *
 * Removing a unit sets its keep flag to 0 (m->units) and its rows and columns of the mask
 * to 0; params keep their dense values under the mask, as unstructured pruning leaves them. */
#ifndef PL_PRUNE_STRUCTURED_H
#define PL_PRUNE_STRUCTURED_H

#include "core/metrics.h"
#include "data/dataset.h"
#include "model/vlm.h"
#include "prune/prune.h"

/* The target fraction of unit kind k in module m under cfg (0 where it does not apply). */
float prune_structured_target(const prune_config *cfg, pl_module m, unit_kind k);

/* Prunes m's units as above (masks and unit masks enabled here). */
pl_status prune_structured(vlm *m, const pl_data *data, const prune_config *cfg,
                           const pl_metrics_sink *sink, pl_error *err);

/* Summary metrics of what is kept: heads_kept_<module>_<block>, cross_heads_kept_bridge_<block>
 * and neurons_kept_<module>_<block> for every block, and removed_fraction, the masked share
 * of all prunable weights. */
pl_status prune_structured_report(const vlm *m, const pl_metrics_sink *sink, pl_error *err);

#endif
