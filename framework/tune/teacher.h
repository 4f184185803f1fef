/* teacher.h - the frozen teacher of a distillation loss, as a training-loop hook: before
 * each student pass it runs the teacher on the same batch and points the input's teacher
 * fields (logits, block states, layer map) at what the pass left.
 *
 * Two kinds. A teacher model (a checkpoint, or distill's full-depth teacher) runs through
 * buffers of its own, which the student's pass reads in place; it may have another shape,
 * as far as the layer map pairs its blocks with the student's (state_loss_check). The
 * default teacher is the student model's own weights without masks and without adapters:
 * its pass runs through the student's activation buffers, so its logits and, when the loss
 * reads them, its block states are copied out before the student's pass. When the student's
 * parameters themselves train (masked full fine-tuning) that default keeps one copy of the
 * parameters as they were. */
#ifndef PL_TUNE_TEACHER_H
#define PL_TUNE_TEACHER_H

#include "model/layer_map.h"
#include "model/state_copy.h"
#include "model/vlm.h"

/* Which model a stage distils from, in the one vocabulary of every stage that names one:
 *   input   the stage's input as it came in: its weights unmasked, without adapters, frozen
 *           (the default teacher above)
 *   first   the checkpoint the pipeline's first stage read
 *   <path>  a checkpoint file
 * "same" is an older word for "input" (finetune's); a stage's schema stores the word it
 * shipped with, so one teacher keeps one run id. */
#define TEACHER_WORDS "input|first|same"

typedef enum { TEACHER_INPUT, TEACHER_FIRST, TEACHER_FILE } teacher_source;

teacher_source teacher_source_of(const char *word);

/* The teacher `word` names: *teacher NULL for input (the caller passes NULL on, the default
 * teacher), else the loaded checkpoint in *owned (free with vlm_free). first_file: the file
 * the pipeline's first stage read, NULL when it read none; key names the setting in
 * messages. */
pl_status teacher_load(const char *word, const char *first_file, const char *key, int max_batch,
                       vlm *owned, vlm **teacher, pl_error *err);

typedef struct {
    int logits, hidden, attn; /* which teacher signals the loss reads (KD, L_hid, L_attn) */
    int params_train;         /* the student's own parameters change while it trains */
    int batch_size;
    const vlm_layer_map *layer_map; /* student block -> teacher block; NULL: the identity */
} teacher_needs;

typedef struct {
    vlm *student, *model;  /* model: whose buffers the teacher's pass uses */
    pl_buffer copy;        /* the default teacher of a full fine-tuning: W before training */
    weight_set weights;
    float *logits;         /* own buffers: the teacher's logits; default: a [max_batch, L, V] copy */
    vlm_state_copy states; /* default teacher: block outputs / attention maps, when read */
    vlm_states view;       /* own buffers: the teacher's states in place */
    vlm_layer_map map;
    int batch_size;
} train_teacher;

/* teacher NULL: the default teacher of `student`. */
pl_status train_teacher_setup(train_teacher *t, vlm *student, vlm *teacher,
                              const teacher_needs *needs, pl_error *err);
void train_teacher_free(train_teacher *t);

/* The train_hooks.before_forward of a distillation loss (ctx: a train_teacher). */
pl_status train_teacher_before_forward(void *ctx, vlm_input *in, int64_t step, pl_error *err);

#endif
