/* units.h - which whole units of each block a structured pruning removed: self-attention
 * heads, cross-attention heads (bridge) and MLP neurons, and where each unit sits in the
 * block's matrices.
 *
 * A unit owns rows on the input side of its sublayer and columns on the output side:
 *   head h           rows [h·hd, (h+1)·hd) of each of the q, k and v sections of attn.qkv,
 *                    columns [h·hd, (h+1)·hd) of attn.proj
 *   cross head h     rows of cross.q, rows of the k and v sections of cross.kv, columns of
 *                    cross.proj
 *   neuron j         row j of mlp.fc1 (and its bias), column j of mlp.fc2
 * With the output-side columns zero a unit adds nothing to the residual stream, whatever
 * its input side computes, so removing it (model/compact.h) leaves the function unchanged.
 *
 * The keep flags live in one buffer over their own layout: a tensor per block and kind that
 * has units, named "<module>.blocks.<l>.attn.heads", ".cross.heads" or ".mlp.neurons", of 1
 * (kept) or 0 (removed). A model never structurally pruned has none (layout NULL). */
#ifndef PL_MODEL_UNITS_H
#define PL_MODEL_UNITS_H

#include "core/buffer.h"
#include "model/params.h"

typedef enum { UNIT_HEADS = 0, UNIT_CROSS_HEADS, UNIT_NEURONS, UNIT_KIND_COUNT } unit_kind;

typedef struct {
    pl_layout *layout; /* heap-allocated so a struct copy moves it; NULL: every unit kept */
    pl_buffer keep;    /* over *layout */
    int tensor[MODULE_COUNT][VLM_MAX_LAYERS][UNIT_KIND_COUNT]; /* index in layout, -1: none */
} unit_masks;

/* One matrix a unit kind reaches into: its channels along rows (input side) or columns
 * (output side), in `sections` equal sections of units · width channels each. */
typedef struct {
    linear_ref ref;
    unit_kind kind;
    int along_cols; /* 0: the units' channels are rows; 1: columns */
    int sections;   /* 3 for qkv, 2 for cross.kv, 1 otherwise */
    int width;      /* channels per unit: the head width, or 1 for neurons */
    int units;      /* the block's units of this kind */
} unit_linear;

enum { UNIT_LINEARS_MAX = 7 };

/* "heads", "cross_heads" or "neurons". */
const char *unit_kind_name(unit_kind k);
/* The block's units of kind k (heads, cross_heads or ffn). */
int block_units(const block_ref *b, unit_kind k);
/* The matrices of block b that hold units (present ones only), in param_block_linears'
 * order; returns the count. */
int unit_linears_of_block(const block_ref *b, unit_linear out[UNIT_LINEARS_MAX]);
/* The unit that channel c (a row or column index) of ul belongs to. */
static inline int unit_of_channel(const unit_linear *ul, int c) {
    return (c % (ul->units * ul->width)) / ul->width;
}

/* Allocates the keep flags, every unit kept; idempotent. */
pl_status unit_masks_enable(unit_masks *u, const model_config *cfg, const param_index *pi,
                            pl_error *err);
void unit_masks_free(unit_masks *u);

/* Keep flags of block `layer` of module m, kind k: NULL when the model has no unit masks or
 * the block no units of that kind. */
float *unit_masks_keep(const unit_masks *u, pl_module m, int layer, unit_kind k);
/* Units kept (all of them when there are no unit masks). */
int unit_masks_kept(const unit_masks *u, const block_ref *b, pl_module m, int layer, unit_kind k);

/* For every removed unit: its rows and columns of the mask become 0, and of params too when
 * params is non-NULL (a merged model, whose weights there must be exactly zero). */
void unit_masks_apply(const unit_masks *u, const param_index *pi, const model_config *cfg,
                      pl_buffer *params, pl_buffer *masks);

/* Row and column keep vectors of parameter tensor t ([out], [in] floats, 1 outside removed
 * units' channels): 0 where the tensor's channel belongs to a removed unit. Returns 1 when
 * t is a block matrix that holds units of this model, 0 (vectors untouched) otherwise. */
int unit_masks_linear_keep(const unit_masks *u, const param_index *pi, const model_config *cfg,
                           int t, float *rows, float *cols);

#endif
