/* student.h - a shallower student built from a teacher's own blocks (EfficientVLM's layer
 * halving): per module, a scheme picks which teacher blocks the student keeps; the student
 * copies those blocks' weights (and shapes) and every shared tensor (embeddings, positions,
 * queries, final norms, projection, heads), and the layer map pairs each student block with
 * the teacher block it was copied from, for the state distillation terms.
 *
 * Schemes, over a module of L teacher blocks counted from 1:
 *   even        blocks 2, 4, 6, ...            odd    blocks 1, 3, 5, ...
 *   first       the first floor(L/2)           last   the last floor(L/2)
 *   uniform:<k> k blocks at 0-based positions round(i (L-1) / (k-1)), i = 0..k-1 (first
 *               and last kept; k = 1 keeps the last)
 *   none        every block */
#ifndef PL_MODEL_STUDENT_H
#define PL_MODEL_STUDENT_H

#include <stdbool.h>

#include "model/layer_map.h"
#include "model/vlm.h"

typedef struct { /* the teacher blocks a student keeps, per module, in order */
    int kept[MODULE_COUNT][VLM_MAX_LAYERS];
    int count[MODULE_COUNT];
} student_plan;

/* The layer-halving schemes: every second block (even: 2, 4, ... counting from 1; odd: 1,
 * 3, ...), the first or last half, all of them, or uniform:<k>, k blocks evenly spread. */
typedef enum { STUDENT_EVEN, STUDENT_ODD, STUDENT_FIRST, STUDENT_LAST, STUDENT_NONE, STUDENT_UNIFORM } student_scheme;

/* Parses a scheme name (the one parser of it): its kind and, for uniform:<k>, k >= 1 in *k.
 * false when it names no scheme. */
bool student_scheme_parse(const char *scheme, student_scheme *kind, long *k);

/* The 0-based teacher blocks `scheme` keeps of `layers` into kept[0..*count). Errors name
 * the scheme: unknown, keeping no block (e.g. even of 1 block), uniform:<k> with k < 1 or
 * above layers. */
pl_status student_scheme_select(const char *scheme, int layers, int *kept, int *count,
                                pl_error *err);

/* Creates *student (max_batch rows) of the teacher's shape with only the plan's blocks,
 * copies its weights from the teacher and fills map (student block k -> plan.kept[k]).
 * The teacher must not carry unmerged adapters (merge them first); its masks, if any, are
 * copied with the blocks, so a pruned teacher's student stays pruned. */
pl_status student_create(vlm *student, const vlm *teacher, const student_plan *plan,
                         int max_batch, vlm_layer_map *map, pl_error *err);

#endif
