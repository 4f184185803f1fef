/* layernorm.h - layer normalisation over the last dimension, with affine weight and bias.
 * out = (x − mean)·rstd·w + b, rstd = 1/sqrt(var + 1e-5); forward keeps mean and rstd. */
#ifndef PL_NN_LAYERNORM_H
#define PL_NN_LAYERNORM_H

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int n, int c);
/* Accumulates dinp, dweight, dbias (dweight/dbias may be NULL). */
void layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight, const float *mean,
                        const float *rstd, int n, int c);

#endif
