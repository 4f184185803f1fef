/* weights.h - the buffers a forward/backward pass reads and writes for its parameters
 * (values, masks, effective weights, gradients), and linear layers run through them. */
#ifndef PL_MODEL_WEIGHTS_H
#define PL_MODEL_WEIGHTS_H

#include "core/buffer.h"
#include "model/adapters.h"
#include "model/params.h"
#include "nn/linear.h"

/* A layer's input as its last forward rounded it: backward's weight gradient reads these
 * values instead of rounding the same input again, when it is handed the same input (the
 * same pointer and row count; a layer's input is an activation forward wrote, which
 * backward reads as forward left it, so equal pointers mean equal values). */
typedef struct {
    uint16_t *values;
    size_t cap;
    const float *from; /* the FP32 input forward rounded (NULL: none yet) */
    int rows;
} ws_bf16_input;

/* BF16 products for the linear layers of a training pass (numerics precision bf16; see
 * nn/linear.h): a BF16 copy of every weight, rounded by each forward and read by the
 * backward after it, at the parameters' own offsets; every layer's rounded input, kept from
 * forward for backward (by the index of the layer's weight tensor; half the bytes of the
 * layers' FP32 inputs, held for the whole run); and scratch for the
 * rounded upstream gradient and for inputs rounded again, grown to the largest layer on
 * first use. A failure (out of memory, oneDNN) is sticky in the product context: check
 * ws_bf16_status after a pass. */
typedef struct {
    pl_bf16_gemm *gemm;
    uint16_t *weights;     /* [layout->total] */
    ws_bf16_input *inputs; /* [layout->count] */
    uint16_t *x, *dy;
    size_t x_cap, dy_cap;
    int count;         /* entries of inputs */
    int out_of_memory; /* a kept input or the scratch could not grow: the passes since
                          are invalid */
} ws_bf16;

pl_status ws_bf16_create(ws_bf16 *b, const pl_layout *layout, pl_error *err);
void ws_bf16_free(ws_bf16 *b);
pl_status ws_bf16_status(const ws_bf16 *b, pl_error *err);

typedef struct {
    const pl_buffer *params;
    const pl_buffer *masks; /* NULL: dense; else 0/1 per element of prunable weights */
    pl_buffer *weff;        /* effective weights (needed when masks or adapters are set) */
    pl_buffer *grads;       /* NULL: no parameter gradients (inference, or adapters only) */
    float *dweff;           /* scratch for the largest weight's out×in gradient */
    const adapter_set *adapters; /* NULL: no adapters */
    pl_buffer *adapter_grads;    /* NULL: no adapter gradients */
    /* Inference only (no backward may follow): 1 when weff already holds every masked or
     * adapted layer's effective weight (ws_freeze_linear), so forward reads it as a plain
     * weight - except unmerged LoRA layers, whose weff holds W⊙M and whose delta s·B·A
     * runs factored beside it, as an unmerged adapter is deployed. */
    int frozen;
    const struct vlm_gates *gates; /* NULL: no unit gates (model/block.h); training passes
                                      only: KV-cached decoding (model/decode.h) ignores them */
    ws_bf16 *bf16; /* NULL: FP32 products; else the linear layers' BF16 path (not frozen
                      sets: inference stays FP32) */
} weight_set;

/* Writes r's frozen weight into w->weff once: W⊙M + s·B·A (SparseLoRA: its masked sum,
 * which cannot run factored), or W⊙M alone for an unmerged LoRA layer. */
void ws_freeze_linear(const weight_set *w, const linear_ref *r);

/* Layer norm through the set: out, mean, rstd from inp. */
void ws_norm_forward(const weight_set *w, const norm_ref *r, float *out, float *mean,
                     float *rstd, const float *inp, int n, int c);
void ws_norm_backward(const weight_set *w, const norm_ref *r, float *dinp, const float *dout,
                      const float *inp, const float *mean, const float *rstd, int n, int c);

/* y[n,out] = x · W_effᵀ + b for the linear layer r. */
void ws_linear_forward(const weight_set *w, const linear_ref *r, float *y, const float *x, int n);
/* Accumulates dx (may be NULL) and, when w->grads is set, the layer's gradients. */
void ws_linear_backward(const weight_set *w, const linear_ref *r, float *dx, const float *dy,
                        const float *x, int n);
/* The same with dx overwritten (what ws_linear_backward leaves in a zeroed dx). */
void ws_linear_backward_set_dx(const weight_set *w, const linear_ref *r, float *dx,
                               const float *dy, const float *x, int n);

#endif
