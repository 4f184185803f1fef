/* activations.h - element-wise tanh-GELU, row softmax and residual addition. */
#ifndef PL_NN_ACTIVATIONS_H
#define PL_NN_ACTIVATIONS_H

#include <stddef.h>

/* gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) */
void gelu_forward(float *out, const float *inp, size_t n);
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t n); /* += */
/* d = d ⊙ gelu'(inp): the same numbers as gelu_backward into a zeroed buffer, in place */
void gelu_backward_inplace(float *d, const float *inp, size_t n);

/* Softmax over each row of c values. */
void softmax_forward(float *out, const float *inp, int n, int c);
void softmax_backward(float *dinp, const float *out, const float *dout, int n, int c); /* += */

/* out = a + b */
void residual_forward(float *out, const float *a, const float *b, size_t n);
void residual_backward(float *da, float *db, const float *dout, size_t n); /* += */

#endif
