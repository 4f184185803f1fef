/* layer_map.h - which teacher block each student block is distilled from, per module, and
 * the teacher's per-block states that the hidden-state and attention-map MSE terms compare
 * against. In finetune student and teacher have the same depth and the map is
 * the identity; a half-depth student distilled from its teacher maps k ↔ 2k+1 or the like.
 * Plain data: a stage fills it, the model reads it (model/state_loss.h). */
#ifndef PL_MODEL_LAYER_MAP_H
#define PL_MODEL_LAYER_MAP_H

#include "model/params.h"

typedef struct {
    int teacher[MODULE_COUNT][VLM_MAX_LAYERS]; /* teacher block of student block k; -1 = none */
} vlm_layer_map;

/* A teacher's states, indexed by teacher block; NULL where not captured. Each must have
 * the student's shape in that module (same width, tokens and heads; batch of the input). */
typedef struct {
    const float *hidden[MODULE_COUNT][VLM_MAX_LAYERS]; /* block outputs [B, T, C] */
    const float *att[MODULE_COUNT][VLM_MAX_LAYERS];    /* self-attention maps [B, H, T, T] */
} vlm_states;

/* Every student block of cfg matched to the teacher block of the same index. */
void vlm_layer_map_identity(vlm_layer_map *map, const model_config *cfg);

#endif
