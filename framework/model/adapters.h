/* adapters.h - low-rank adapters on the prunable linear layers: LoRA, W⊙M + s·B·A, and
 * SparseLoRA, (W + s·B·A)⊙M, with s = alpha / rank.
 *
 * The factors live in their own named layout ("<weight name>.lora_a" [rank, in] and
 * ".lora_b" [out, rank]) with value and gradient buffers; a_of/b_of map a parameter tensor
 * to its factors (-1 where the layer has none). A starts Kaiming-uniform, B at zero, so a
 * fresh adapter leaves the model's function unchanged. */
#ifndef PL_MODEL_ADAPTERS_H
#define PL_MODEL_ADAPTERS_H

#include <stdint.h>

#include "core/buffer.h"
#include "model/params.h"
#include "model/units.h"
#include "nn/linear.h"

/* Layer kinds an adapter may attach to, as bit flags. */
enum {
    LAYER_QKV = 1 << 0,        /* attn.qkv */
    LAYER_PROJ = 1 << 1,       /* attn.proj */
    LAYER_CROSS_Q = 1 << 2,    /* cross.q */
    LAYER_CROSS_KV = 1 << 3,   /* cross.kv */
    LAYER_CROSS_PROJ = 1 << 4, /* cross.proj */
    LAYER_FC1 = 1 << 5,        /* mlp.fc1 */
    LAYER_FC2 = 1 << 6,        /* mlp.fc2 */
    LAYER_ALL = (1 << 7) - 1
};

/* The kind bit of a prunable weight from its name, 0 if it is not a block linear. */
unsigned adapter_layer_kind(const char *weight_name);
/* Parses a kind name ("qkv", "proj", "cross_q", "cross_kv", "cross_proj", "fc1", "fc2"). */
unsigned adapter_layer_kind_parse(const char *name);

typedef struct {
    int rank[MODULE_COUNT]; /* per module; 0 = no adapters in that module */
    float alpha;
    unsigned modules;       /* bit (1u << pl_module) per module that gets adapters */
    unsigned layer_kinds;   /* LAYER_* bits */
} adapter_config;

typedef struct {
    adapter_kind kind;
    pl_layout layout;
    pl_buffer values, grads;
    int *a_of, *b_of;  /* [parameter tensors] */
    int *rank_of;      /* [parameter tensors] */
    float *scale_of;   /* [parameter tensors] alpha / rank */
    int param_count;   /* parameter tensors the maps cover */
    float **keep_rows, **keep_cols; /* [parameter tensors] LoRA's unit keep vectors ([out],
                                       [in]; NULL entries: every unit kept), or NULL */
} adapter_set;

pl_status adapters_create(adapter_set *a, const param_index *pi, adapter_kind kind,
                          const adapter_config *cfg, uint64_t seed, pl_error *err);
void adapters_free(adapter_set *a);
/* Moves src into dst (no copy) and leaves src empty (kind ADAPTER_NONE): the buffers' layout
 * pointers refer into the struct, so a plain struct copy would dangle. */
void adapters_move(adapter_set *dst, adapter_set *src);

/* On a structurally pruned model (units with removed heads or neurons): LoRA's delta is
 * masked on the removed units' rows and columns, W_eff = (W⊙M + s·B·A)⊙U (nn/linear.h), so
 * no removed unit comes back. SparseLoRA needs nothing: M is 0 there. No-op for sparselora
 * and for a model without unit masks. */
pl_status adapters_restrict(adapter_set *a, const param_index *pi, const model_config *cfg,
                            const unit_masks *units, pl_error *err);
/* After more units were removed while the adapters train (LoRAPrune): the keep vectors
 * adapters_restrict made are recomputed from units. No-op where it made none. */
void adapters_refresh_restrict(adapter_set *a, const param_index *pi, const model_config *cfg,
                               const unit_masks *units);

/* Folds the adapters into params: sparselora W ← (W + s·B·A)⊙M, which keeps the sparsity
 * exactly; lora W ← W⊙M + s·B·A, which is dense again, so the layer's mask is set to all
 * ones - but for the rows and columns of removed units (adapters_restrict), where W and M
 * stay 0. masks may be NULL (M = 1). */
void adapters_merge(const adapter_set *a, const param_index *pi, pl_buffer *params,
                    pl_buffer *masks);

#endif
