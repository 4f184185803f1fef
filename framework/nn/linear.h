/* linear.h - fully connected layer y = x·W_effᵀ + b with an optional element mask and an
 * optional low-rank adapter.
 *
 * The effective weight W_eff[out,in] is
 *   plain       W                      (mask NULL, adapter none)
 *   masked      W ⊙ M
 *   lora        W ⊙ M + s·B·A          (M = 1 when mask is NULL)
 *               (W ⊙ M + s·B·A) ⊙ U    with unit keep vectors: U = keep_rows·keep_colsᵀ
 *   sparselora  (W + s·B·A) ⊙ M
 * with A[rank,in], B[out,rank], s = scale. Forward materialises W_eff into a caller buffer
 * (the llm.c rule: whatever backward needs, forward writes in plain sight); backward reads
 * it. Gradients of masked weights stay masked. U zeros the rows and columns of whole units a
 * structured pruning removed (model/units.h), so LoRA's delta cannot bring them back; M is
 * already 0 there, and SparseLoRA's delta is masked by M itself. */
#ifndef PL_NN_LINEAR_H
#define PL_NN_LINEAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gemm_bf16.h"

typedef enum { ADAPTER_NONE = 0, ADAPTER_LORA, ADAPTER_SPARSELORA } adapter_kind;

/* A layer's BF16 products (numerics precision bf16): the three products of x·W_effᵀ run on
 * BF16-rounded operands with FP32 accumulation; W_eff itself, masks, adapters, bias and
 * every gradient stay FP32 (the master weights). Forward rounds W_eff once into `weight`,
 * which backward reads again, and x into `x`; backward rounds dy into scratch of n·out
 * values, and x again unless x_rounded says `x` still holds what forward rounded. */
typedef struct {
    pl_bf16_gemm *gemm;
    uint16_t *weight; /* [out, in], written by forward */
    uint16_t *x;      /* [n, in]: written by forward; by backward unless x_rounded */
    bool x_rounded;   /* backward: x holds round(x) already */
    uint16_t *dy;     /* [n, out] scratch */
} linear_bf16;

typedef struct {
    const float *weight; /* [out, in] */
    const float *bias;   /* [out] or NULL */
    const float *mask;   /* [out, in] of 0/1, or NULL */
    adapter_kind adapter;
    const float *lora_a; /* [rank, in] (adapter != NONE) */
    const float *lora_b; /* [out, rank] */
    int rank;
    float scale; /* s = alpha / rank */
    const float *keep_rows; /* lora: [out] 0/1, or NULL (every row kept) */
    const float *keep_cols; /* lora: [in] 0/1, or NULL */
    const linear_bf16 *bf16; /* NULL: FP32 products (SGEMM) */
} linear_params;

typedef struct { /* any pointer may be NULL: that gradient is not wanted */
    float *weight;
    float *bias;
    float *lora_a;
    float *lora_b;
} linear_grads;

/* True when W_eff differs from W, i.e. linear_forward needs a weff buffer. */
int linear_needs_weff(const linear_params *p);

/* Writes W_eff into weff[out*in] and returns it; returns p->weight (weff untouched) when
 * the layer is plain. */
const float *linear_effective_weight(float *weff, const linear_params *p, int in, int out);

/* y[n,out] = x[n,in]·W_effᵀ + b. weff: [out*in] scratch written here (may be NULL for a
 * plain layer). */
void linear_forward(float *y, float *weff, const float *x, const linear_params *p, int n,
                    int in, int out);

/* y[n,out] += s·(x[n,in]·Aᵀ)·Bᵀ: an unmerged LoRA delta applied as two thin products (A
 * [rank,in], B [out,rank]), the way an adapter runs when it is kept apart from W. Ranks up
 * to LINEAR_MAX_RANK (the config and checkpoint loader refuse more). */
enum { LINEAR_MAX_RANK = 1024 };
void linear_lora_delta_forward(float *y, const float *x, const float *lora_a, const float *lora_b,
                               int rank, float scale, int n, int in, int out);

/* Accumulates dx[n,in] (may be NULL) and the wanted parameter gradients. weff is the buffer
 * forward wrote (or NULL for a plain layer); dweff is [out*in] scratch. */
void linear_backward(float *dx, const linear_grads *g, float *dweff, const float *dy,
                     const float *x, const float *weff, const linear_params *p, int n, int in,
                     int out);
/* The same, but dx is overwritten: the numbers linear_backward leaves in a zeroed dx. */
void linear_backward_set_dx(float *dx, const linear_grads *g, float *dweff, const float *dy,
                            const float *x, const float *weff, const linear_params *p, int n,
                            int in, int out);

#endif
