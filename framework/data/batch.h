/* batch.h - a batch of fashion-scenes samples laid out for the model: images, token rows
 * with the answer after a separator at a fixed position, next-token targets, question types
 * and per-cell class labels.
 *
 * Row layout (T = text_len, S = answer_start):
 *   tokens : q0 q1 .. qk PAD .. PAD | SEP a0 a1 .. am EOS PAD .. PAD
 *            positions 0..S-1         S   S+1 ..       S+m+2 ..
 *   targets: -1 for p < S; targets[p] = tokens[p+1] for S <= p < position of EOS (so the last
 *            target is EOS); -1 from the EOS position on.
 * The model's prediction at position p is scored against targets[p]. Because SEP is at the
 * same position in every row, batched greedy decoding starts at S for all rows. */
#ifndef PL_DATA_BATCH_H
#define PL_DATA_BATCH_H

#include "core/error.h"

enum { SCENE_SIDE = 56, SCENE_PIXELS = 56 * 56, SCENE_CELLS = 4, CELL_EMPTY = 10, CELL_CLASSES = 11 };

/* Question types. QTYPE_HOWMANY is the count-over-a-category question. */
typedef enum {
    QTYPE_WHAT = 0,
    QTYPE_EXISTS,
    QTYPE_HOWMANY,
    QTYPE_WHERE,
    QTYPE_RELATION,
    QTYPE_CAPTION,
    QTYPE_COUNT_TYPES
} pl_qtype;

typedef struct {
    int capacity, size;   /* rows allocated / filled */
    int text_len;         /* T: tokens per row, fixed */
    int answer_start;     /* position of SEP in every row */
    float *images;        /* [capacity, SCENE_PIXELS] normalised */
    int *tokens;          /* [capacity, T] */
    int *targets;         /* [capacity, T] next-token targets or -1 */
    int *qtype;           /* [capacity] pl_qtype */
    int *cells;           /* [capacity, SCENE_CELLS] class 0..9 or CELL_EMPTY */
} pl_batch;

/* Short name of a question type ("what", "exists", "howmany", "where", "relation",
 * "caption"), as used in metric names (acc_<name>). */
const char *pl_qtype_name(int qtype);

/* Allocates room for `capacity` rows of text_len tokens with SEP at answer_start. */
pl_status pl_batch_alloc(pl_batch *b, int capacity, int text_len, int answer_start,
                         pl_error *err);
void pl_batch_free(pl_batch *b);

/* Writes row `row`'s tokens and targets from a question (nq tokens) and an answer (na
 * tokens, without SEP/EOS). Fails if either does not fit the layout. */
pl_status pl_batch_set_text(pl_batch *b, int row, const int *question, int nq,
                            const int *answer, int na, pl_error *err);

/* Longest answer (without EOS) a row can hold. */
static inline int pl_batch_answer_room(const pl_batch *b) {
    return b->text_len - b->answer_start - 2;
}

#endif
