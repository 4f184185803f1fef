/* compact.h - removing what a structured pruning masked: a model of the smaller per-block
 * shape (fewer heads, cross-attention heads and MLP neurons) that computes what the masked
 * one computes.
 *
 * A removed unit's output-side columns (attn.proj, cross.proj, mlp.fc2) are 0 under the
 * mask, so it adds nothing to the residual stream; dropping its rows and columns, and its
 * input-side biases, changes no output. A block that loses every head (or every neuron)
 * loses the sublayer, whose output bias stays as the constant add it was (model/block.h).
 * Kept rows and columns keep their values and their masks (an unstructured mask on top of
 * the structured one carries over). */
#ifndef PL_MODEL_COMPACT_H
#define PL_MODEL_COMPACT_H

#include "model/vlm.h"

/* Folds the adapters m carries (a finetune with merge: false) into its weights and drops
 * them, as finetune's merge does (removed units stay zero, model/adapters.h). */
void vlm_merge_carried_adapters(vlm *m);

/* The shape src has once its removed units are gone: every block's heads, cross_heads and
 * ffn reduced to the units kept (uniform again when that is what remains). */
model_config vlm_compact_config(const vlm *src);

/* Creates dst (vlm_create with src's max_batch) of vlm_compact_config's shape and copies
 * every kept row and column of src, tensor by tensor, with the masks when src has them. dst
 * has no unit masks: every unit it has is kept. src must carry no unmerged adapters. */
pl_status vlm_compact(const vlm *src, vlm *dst, pl_error *err);

#endif
