/* l0_gates.h - learned structured pruning with hard-concrete L0 gates (EfficientVLM's
 * modal-adaptive pruning, after CoFi): a gate per self-attention head, cross-attention head
 * and MLP neuron of every block (model/block.h's block_gates), trained with the model.
 *
 * Each step samples z from log_alpha (nn/hard_concrete.h; uniform draws from the seed, the
 * step and the gate: the same run draws the same gates whatever the thread count). The
 * expected fraction of the input model's prunable weights removed,
 *   s = Σ_u w_u (1 − P(z_u != 0)) / Σ_u w_u
 * with w_u the weights unit u owns (a head: its q, k, v rows and output-projection columns;
 * a cross head: its q rows, k and v rows and projection columns; a neuron: its fc1 row and
 * fc2 column), is held to a target t by the Lagrangian l1 (s − t) + l2 (s − t)², t ramping
 * linearly from 0 over target_warmup steps; with per-module targets each module has its own
 * s, t and multipliers. log_alpha takes an AdamW step (no decay) on dL/dz · dz/dlog_alpha +
 * the penalty's gradient and is clamped to [-4.6, 4.6]; the multipliers take a gradient
 * ascent step. At the end each block keeps round(Σ_u P(z_u != 0)) of its units of each kind,
 * those of highest P; kept gates become 1 and the others' units are removed (unit masks). */
#ifndef PL_PRUNE_L0_GATES_H
#define PL_PRUNE_L0_GATES_H

#include <stdint.h>

#include "model/block.h"
#include "model/vlm.h"
#include "nn/hard_concrete.h"

typedef struct {
    float target;                      /* global expected fraction removed, in (0, 1) */
    int per_module;                    /* 1: module_target instead of target */
    float module_target[MODULE_COUNT]; /* in [0, 1) each */
    int target_warmup;                 /* steps of the linear ramp of t from 0 */
    float gate_lr, lagrangian_lr;      /* > 0 */
    float head_drop, neuron_drop;      /* initial drop rates, in (0, 1) */
    uint64_t seed;
} l0_config;

typedef struct {
    double sparsity, module_sparsity[MODULE_COUNT]; /* expected fraction removed */
    double target, penalty;
    double l1, l2;                                  /* the global (or vision) multipliers */
} l0_report;

typedef struct {
    l0_config cfg;
    hard_concrete hc;
    size_t n;                      /* gates */
    float *log_alpha, *z, *dz, *dzda, *p, *dp, *m, *v; /* [n] each, one allocation */
    double *weights;               /* [n] prunable weights of each gate's unit */
    unsigned char *module;         /* [n] */
    vlm_gates gates;               /* views of z and dz by block */
    int offset[MODULE_COUNT][VLM_MAX_LAYERS][UNIT_KIND_COUNT]; /* first gate, -1: none */
    int count[MODULE_COUNT][VLM_MAX_LAYERS][UNIT_KIND_COUNT];  /* gates there */
    double module_weights[MODULE_COUNT], total_weights;
    double l1[MODULE_COUNT + 1], l2[MODULE_COUNT + 1]; /* per module, then global */
    int adam_t;
} l0_state;

/* Gates for every unit of m; PL_ERR_CONFIG when m has none. */
pl_status l0_init(l0_state *s, const vlm *m, const l0_config *cfg, pl_error *err);
void l0_free(l0_state *s);

/* Draws this step's z (and dz/dlog_alpha) and clears dz. */
void l0_sample(l0_state *s, int64_t step);

/* The expected fractions removed (per module into per_module, may be NULL), from P. */
double l0_expected_sparsity(l0_state *s, double per_module[MODULE_COUNT]);

/* After backward (dz holds dL/dz): the penalty at this step's target, the log_alpha and
 * multiplier steps; *out gets what it measured. PL_ERR_NUMERIC if a multiplier diverged. */
pl_status l0_step(l0_state *s, int64_t step, l0_report *out, pl_error *err);

/* Units each block keeps of kind k: round(Σ P(z != 0)) over its gates. */
int l0_expected_kept(const l0_state *s, pl_module mod, int layer, unit_kind k);

/* Ends training: m's unit masks keep the l0_expected_kept units of highest P per block and
 * kind, the rest removed (masks too); returns the units removed. */
pl_status l0_finalise(const l0_state *s, vlm *m, int *removed, pl_error *err);

#endif
