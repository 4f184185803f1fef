/* activations.h - element-wise tanh-GELU, row softmax and residual addition. */
#ifndef PL_NN_ACTIVATIONS_H
#define PL_NN_ACTIVATIONS_H

#include <stddef.h>

/* gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) */
void gelu_forward(float *out, const float *inp, size_t n);
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t n); /* += */
/* gelu_forward for training: the input is overwritten by gelu'(input), from the same tanh, so
 * backward needs neither the input nor a second tanh. out gets gelu_forward's bits. */
void gelu_forward_keep_grad(float *out, float *x_then_grad, size_t n);
/* d = d ⊙ grad (grad from gelu_forward_keep_grad): the bits gelu_backward leaves in a zeroed
 * buffer, in place */
void gelu_backward_from_grad(float *d, const float *grad, size_t n);

/* Softmax over each row of c values. */
void softmax_forward(float *out, const float *inp, int n, int c);
void softmax_backward(float *dinp, const float *out, const float *dout, int n, int c); /* += */

/* out = a + b */
void residual_forward(float *out, const float *a, const float *b, size_t n);
void residual_backward(float *da, float *db, const float *dout, size_t n); /* += */

#endif
