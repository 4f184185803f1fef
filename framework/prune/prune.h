/* prune.h - one-shot pruning of a VLM: magnitude, Wanda or SparseGPT scores,
 * unstructured or N:M masks, a target sparsity per module, calibration on the calib split.
 *
 * Order of work (calibration "levels"): vision blocks 0..Lv-1, then bridge blocks
 * 0..Lq-1, then language blocks 0..Ll-1; inside a block its linear layers in the order of
 * param_block_linears (qkv, proj, [cross_q, cross_kv, cross_proj], fc1, fc2). Blocks of a
 * module whose target is 0 are skipped: their weights stay bit-identical, masks all ones.
 *
 * sequential calibration (Wanda): before each block, the calibration set is run through
 * the model as pruned so far and that block's layer inputs are accumulated; then the block
 * is pruned. Every layer of one block sees inputs from the same forward pass (the block
 * itself still dense), as the Wanda and SparseGPT reference code do.
 * dense calibration (RESSA's code): one pass of the unpruned model collects the inputs of
 * every layer, then every layer is pruned.
 *
 * After pruning, masks are enabled (vlm_enable_masks), M = 0 exactly where a weight was
 * removed, and params hold W ⊙ M: pruned weights are exactly zero in params too. A mask
 * the model already had is kept (weights it removed stay removed and are pruned first). */
#ifndef PL_PRUNE_PRUNE_H
#define PL_PRUNE_PRUNE_H

#include <stdint.h>

#include "core/metrics.h"
#include "data/dataset.h"
#include "model/vlm.h"

typedef enum { PRUNE_MAGNITUDE = 0, PRUNE_WANDA, PRUNE_SPARSEGPT } prune_method;
typedef enum { PRUNE_GROUP_ROW = 0, PRUNE_GROUP_MATRIX } prune_group;
typedef enum { PRUNE_CALIB_SEQUENTIAL = 0, PRUNE_CALIB_DENSE } prune_calibration;
typedef enum { PRUNE_SCOPE_BLOCK = 0, PRUNE_SCOPE_MODULE } prune_scope;

typedef struct {
    prune_method method;
    int nm_n, nm_m;                 /* N:M pattern (prune N of every M); nm_m = 0: unstructured */
    prune_group group;              /* unstructured comparison group: per output row or matrix */
    float sparsity[MODULE_COUNT];   /* fraction removed per module, in [0, 1); 0 = untouched.
                                     * With N:M a module is pruned iff its target is > 0, and
                                     * the target must then equal N/M. */
    int calib_size;                 /* calibration scenes (wanda, sparsegpt) */
    prune_calibration calibration;
    int64_t calib_start;            /* first calib-split index: the engine gives replicate
                                     * seed s the window starting at s * calib_size */
    int sparsegpt_block;            /* columns per SparseGPT block (rounded down to a multiple
                                     * of M for N:M, at least M) */
    float sparsegpt_damp;           /* damping: fraction of the mean Hessian diagonal */
    /* Structured pruning (prune/structured.h): whole heads and neurons instead of weights;
     * sparsity, nm_* and group are then unused. */
    int structured;
    float heads[MODULE_COUNT];      /* fraction of self-attention heads removed per module */
    float cross_heads;              /* fraction of the bridge's cross-attention heads removed */
    float neurons[MODULE_COUNT];    /* fraction of MLP neurons removed per module */
    prune_scope scope;              /* units ranked within each block or across the module */
} prune_config;

/* Wanda, unstructured (no structured targets), row groups, 0.5 vision / 0 bridge / 0.5 language, 128 sequential
 * calibration scenes from index 0, SparseGPT block 128 and damping 0.01. */
void prune_config_default(prune_config *cfg);

/* Checks what relates settings to each other (an N:M pattern and the sparsities, the
 * structured targets, and their fractions, which no kernel guards); each other value's
 * range is declared by its key and guarded where a kernel consumes it. Errors name the
 * prune.<key>. */
pl_status prune_config_check(const prune_config *cfg, pl_error *err);

/* Prunes m in place (see the top of this file): the masks mark what is removed; params keep
 * their dense values under the mask (SparseGPT's updates of the kept weights excepted), so
 * the unmasked model stays the teacher. Then reports the measured sparsity of W⊙M into sink
 * (sparsity_report) and checks that every masked effective weight is zero. data may be NULL for
 * magnitude pruning. Uses up to m->max_batch scenes per forward pass. With cfg->structured
 * whole heads and neurons go instead (prune/structured.h), reported as well per block. */
pl_status prune_model(vlm *m, const pl_data *data, const prune_config *cfg,
                      const pl_metrics_sink *sink, pl_error *err);

#endif
