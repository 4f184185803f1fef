/* teacher.c - a distillation teacher's pass before each student pass (see teacher.h). */
#include "tune/teacher.h"

#include <string.h>

#include "core/alloc.h"
#include "model/checkpoint.h"
#include "model/state_loss.h"

teacher_source teacher_source_of(const char *word) {
    if (strcmp(word, "input") == 0 || strcmp(word, "same") == 0) return TEACHER_INPUT;
    return strcmp(word, "first") == 0 ? TEACHER_FIRST : TEACHER_FILE;
}

pl_status teacher_load(const char *word, const char *first_file, const char *key, int max_batch,
                       vlm *owned, vlm **teacher, pl_error *err) {
    *teacher = NULL;
    teacher_source source = teacher_source_of(word);
    if (source == TEACHER_INPUT) return PL_OK;
    if (source == TEACHER_FIRST && first_file == NULL)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s 'first' needs a pipeline that starts with load "
                        "(a pretrained model is not on disk); name a checkpoint path or use "
                        "'input'", key);
    PL_TRY(vlm_load(owned, source == TEACHER_FIRST ? first_file : word, max_batch, err));
    *teacher = owned;
    return PL_OK;
}

static pl_status check_inputs_match(const model_config *t, const model_config *s, pl_error *err) {
    if (t->vocab_size != s->vocab_size || t->text_len != s->text_len ||
        t->num_queries != s->num_queries || t->image_size != s->image_size ||
        t->patch_size != s->patch_size || t->aux_classes != s->aux_classes)
        return PL_ERROR(err, PL_ERR_CONFIG, "the teacher's image or patch size, vocabulary, "
                        "text length, query count or cell classes differ from the student's: "
                        "it cannot read the same inputs and answer in the same words");
    return PL_OK;
}

pl_status train_teacher_setup(train_teacher *t, vlm *student, vlm *teacher,
                              const teacher_needs *needs, pl_error *err) {
    memset(t, 0, sizeof *t);
    t->student = student;
    t->batch_size = needs->batch_size;
    if (needs->layer_map != NULL) t->map = *needs->layer_map;
    else vlm_layer_map_identity(&t->map, &student->cfg);
    const int states = needs->hidden || needs->attn;
    if (teacher != NULL) {
        if (teacher->max_batch < needs->batch_size)
            return PL_ERROR(err, PL_ERR_INVALID, "the teacher holds %d rows, the batch is %d",
                            teacher->max_batch, needs->batch_size);
        PL_TRY(check_inputs_match(&teacher->cfg, &student->cfg, err));
        if (states)
            PL_TRY(state_loss_check(&t->map, &student->cfg, &teacher->cfg, needs->hidden,
                                    needs->attn, err));
        t->model = teacher;
        t->weights = vlm_weights(teacher, 0, 0); /* unmasked, no adapters */
        t->logits = teacher->logits;
        vlm_states_of(&t->view, teacher);
        return PL_OK;
    }
    t->model = student;
    if (needs->logits) {
        const size_t n = (size_t)student->max_batch * model_lm_len(&student->cfg) *
                         student->cfg.vocab_size;
        t->logits = pl_alloc(n, sizeof(float), err);
        if (t->logits == NULL) return PL_ERR_NOMEM;
    }
    pl_status rc = PL_OK;
    if (states) rc = vlm_state_copy_alloc(&t->states, student, needs->hidden, needs->attn, err);
    t->weights = vlm_weights(student, 0, 0); /* unmasked, no adapters */
    if (rc == PL_OK && needs->params_train) {
        rc = pl_buffer_alloc(&t->copy, &student->index.layout, err);
        if (rc == PL_OK) {
            memcpy(t->copy.data, student->params.data,
                   student->index.layout.total * sizeof(float));
            t->weights.params = &t->copy;
        }
    }
    if (rc != PL_OK) train_teacher_free(t);
    return rc;
}

void train_teacher_free(train_teacher *t) {
    pl_buffer_free(&t->copy);
    if (t->model == t->student) pl_free(t->logits); /* else the teacher's own buffer */
    t->logits = NULL;
    vlm_state_copy_free(&t->states);
}

pl_status train_teacher_before_forward(void *ctx, vlm_input *in, int64_t step, pl_error *err) {
    (void)step, (void)err;
    train_teacher *t = ctx;
    vlm_input batch = *in;
    batch.cells = NULL; /* the teacher's pass scores answers only */
    vlm_forward(t->model, &t->weights, &batch, (vlm_loss_weights){.task_weight = 1.0f});
    if (t->model != t->student) { /* its own buffers: read in place */
        in->teacher_logits = t->logits;
        in->teacher_states = &t->view;
        in->layer_map = &t->map;
        return PL_OK;
    }
    if (t->logits != NULL) {
        const size_t n = (size_t)t->batch_size * model_lm_len(&t->student->cfg) *
                         t->student->cfg.vocab_size;
        memcpy(t->logits, t->student->logits, n * sizeof(float));
        in->teacher_logits = t->logits;
    }
    if (t->states.mem != NULL) {
        vlm_state_copy_take(&t->states, t->student, t->batch_size);
        in->teacher_states = &t->states.view;
        in->layer_map = &t->map;
    }
    return PL_OK;
}
