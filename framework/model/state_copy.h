/* state_copy.h - an owned copy of a model's per-block states after a forward pass: block
 * outputs and/or self-attention maps, as a vlm_states view (model/layer_map.h). A
 * teacher's pass leaves them in activation buffers that the student's pass overwrites, so
 * a training loop keeps them here between the two, as it keeps the teacher's logits. */
#ifndef PL_MODEL_STATE_COPY_H
#define PL_MODEL_STATE_COPY_H

#include "model/vlm.h"

typedef struct {
    int hidden, att;  /* which states are kept */
    float *mem;       /* one allocation, every block's room sized for the model's max_batch */
    vlm_states view;  /* by block of the copied model; NULL for a kind not kept */
} vlm_state_copy;

/* Room for every block's output (hidden != 0) and/or attention map (att != 0) of m. */
pl_status vlm_state_copy_alloc(vlm_state_copy *c, const vlm *m, int hidden, int att,
                               pl_error *err);
/* Copies the states that m's last forward (over `batch` ≤ max_batch rows) left. */
void vlm_state_copy_take(vlm_state_copy *c, const vlm *m, int batch);
void vlm_state_copy_free(vlm_state_copy *c);

/* A view of the states m's last forward left in m's own activation buffers (no copy): for
 * a teacher with buffers of its own, valid until its next pass. */
void vlm_states_of(vlm_states *view, const vlm *m);

#endif
