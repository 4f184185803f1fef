/* losses.h - cross-entropy over chosen positions, temperature KL divergence between two
 * logit sets, and mean-squared error.
 *
 * Positions: targets[i] < 0 means "ignore row i" for cross-entropy; for KL, use[i] == 0
 * (use may be NULL = every row). Losses are means over the counted rows; reductions are
 * done in a fixed order so results do not depend on the thread count. */
#ifndef PL_NN_LOSSES_H
#define PL_NN_LOSSES_H

#include <stddef.h>

/* probs[n,v] = softmax(logits); returns mean over counted rows of −log probs[i,targets[i]]
 * (0 when no row counts). *counted (may be NULL) receives the number of counted rows. */
float crossentropy_forward(float *probs, const float *logits, const int *targets, int n, int v,
                           int *counted);
/* dlogits += dloss · (probs − onehot) / counted on counted rows. */
void crossentropy_backward(float *dlogits, const float *probs, const int *targets, int n,
                           int v, float dloss);

/* L = T² · mean over used rows of KL(p ‖ q), p = softmax(teacher/T), q = softmax(student/T).
 * Writes p_teacher and q_student [n,v] for backward. */
float kl_forward(float *p_teacher, float *q_student, const float *student_logits,
                 const float *teacher_logits, const unsigned char *use, int n, int v,
                 float temperature);
/* dstudent += dloss · T · (q − p) / used on used rows. */
void kl_backward(float *dstudent, const float *p_teacher, const float *q_student,
                 const unsigned char *use, int n, int v, float temperature, float dloss);

/* mean((a − b)²) over n values. */
float mse_forward(const float *a, const float *b, size_t n);
/* da += dloss · 2(a − b)/n (da may be NULL); db likewise with the opposite sign (may be NULL). */
void mse_backward(float *da, float *db, const float *a, const float *b, size_t n, float dloss);

#endif
