/* loraprune.h - LoRAPrune: structured pruning of attention heads and MLP neurons while
 * LoRA fine-tunes, from importance the LoRA factors' gradients estimate.
 *
 * Importance. A linear layer W_eff = W⊙M + s·B·A (B [out, r], A [r, in]) whose factors have
 * gradients dB, dA this step. One SGD step of learning rate 1 on the factors would move the
 * product by B'A' − BA = −(dB·A + B·dA − dB·dA), so
 *
 *   G = dB·A + B·dA − dB·dA          (lora: W's gradient estimated from the factors')
 *   G = dL/dW                        (grad: the true weight gradient, as backward gives it for
 *                                     W, zero where masked; needs it in memory)
 *
 * and a weight's importance is |G ⊙ (W⊙M + s·B·A)| (magnitude: |W⊙M + s·B·A|, no gradient).
 * A unit's score in one matrix is the sum of its weights' importance (its rows on the input
 * side, its columns on the output side: model/units.h); each matrix's vector of unit scores
 * is divided by its L2 norm, the matrices of a unit kind are summed, and the result enters a
 * moving average, 0.9 old + 0.1 new, per unit.
 *
 * Schedule. Over `steps` steps with warm-up and cool-down fractions w and c, the fraction
 * removed at step t (0-based) is
 *   0                                  t < t_w = round(w·steps)
 *   ratio · (1 − (1 − (t − t_w)/(t_c − t_w))³)   t_w <= t < t_c = steps − round(c·steps)
 *   ratio                              t >= t_c, and at the last step whatever the rounding
 * (one_shot: ratio from t_w on). Every `every` steps, and at the last step, each block
 * removes its lowest-average kept units until int(units · fraction) are gone; removed units
 * never return (masks only grow), protected blocks are left whole. Removing a unit clears
 * its keep flag, its rows and columns of the mask, and LoRA's delta there. */
#ifndef PL_PRUNE_LORAPRUNE_H
#define PL_PRUNE_LORAPRUNE_H

#include <stdbool.h>

#include "model/vlm.h"

typedef enum { LORAPRUNE_LORA = 0, LORAPRUNE_GRAD, LORAPRUNE_MAGNITUDE } loraprune_criterion;

typedef struct {
    loraprune_criterion criterion;
    float ratio;                  /* in [0, 1): fraction of each block's heads and neurons */
    int steps, every;
    bool one_shot;
    float warmup_frac, cooldown_frac;
    unsigned char protect[MODULE_COUNT][VLM_MAX_LAYERS]; /* 1: the block is never pruned */
} loraprune_config;

/* "lora", "grad", "magnitude"; -1 if unknown. */
int loraprune_criterion_parse(const char *name);
const char *loraprune_criterion_name(loraprune_criterion c);

/* The fraction removed at step t (above). */
float loraprune_fraction_at(const loraprune_config *c, int step);
/* Whether step t prunes: every `every` steps from t_w on (one_shot: t_w only), and the last. */
int loraprune_prunes_at(const loraprune_config *c, int step);

/* G = dB·A + B·dA − dB·dA, G [out, in]; A, dA [r, in]; B, dB [out, r]. */
void lora_weight_grad_estimate(float *G, const float *A, const float *B, const float *dA,
                               const float *dB, int out, int in, int r);

/* The moving-average unit scores of every block's heads and neurons, and scratch. */
typedef struct {
    loraprune_config cfg;
    double *ema;     /* one allocation: per (module, block, kind) `units` doubles */
    int offset[MODULE_COUNT][VLM_MAX_LAYERS][UNIT_KIND_COUNT]; /* into ema, -1: not pruned */
    float *g, *w;    /* [largest out·in]: G and the current weight */
    double *sums, *total; /* [largest units] */
} loraprune_state;

/* Scores for m's heads and neurons (m's unit masks and masks are enabled here). */
pl_status loraprune_state_init(loraprune_state *s, vlm *m, const loraprune_config *cfg,
                               pl_error *err);
void loraprune_state_free(loraprune_state *s);

/* Folds this step's importance into the averages: a the LoRA adapters being trained (their
 * gradients this step), weight_grads m's dL/dW_eff (grad criterion; else NULL). */
void loraprune_observe(loraprune_state *s, const vlm *m, const adapter_set *a,
                       const pl_buffer *weight_grads);

/* Removes units to the schedule's count at step t (call when loraprune_prunes_at) and
 * refreshes the adapters' unit restriction; returns the units removed now, or -1 with err. */
int loraprune_apply(loraprune_state *s, vlm *m, adapter_set *a, int step, pl_error *err);

/* Spearman's rank correlation of x and y (ties get average ranks); scratch holds 2n doubles,
 * order n ints. 0 when either is constant. */
double loraprune_spearman(const double *x, const double *y, int n, double *scratch, int *order);

/* How two criteria's moving-average scores agree: Spearman's rho of a's and b's unit scores
 * within each block and kind (heads, neurons) of 3 or more units, averaged weighted by the
 * units. Both states must have been set up on m with the same protected blocks. */
pl_status loraprune_rank_agreement(const loraprune_state *a, const loraprune_state *b, const vlm *m,
                                   double *rho, pl_error *err);

#endif
