/* attention.h - scaled dot-product multi-head attention, bidirectional, causal or cross.
 *
 * q[B,Tq,C] (row stride q_stride), k and v [B,Tkv,C] (row stride kv_stride), H heads of
 * C/H channels. att[B,H,Tq,Tkv] holds the softmax probabilities (written by forward, read by
 * backward); out[B,Tq,C] (row stride C). Causal requires Tq == Tkv. Strides let q, k, v live
 * packed in one qkv activation (stride 3C) or in separate ones (cross-attention: queries
 * from one sequence, keys/values projected from another of a different length). */
#ifndef PL_NN_ATTENTION_H
#define PL_NN_ATTENTION_H

void attention_forward(float *out, float *att, const float *q, int q_stride, const float *k,
                       const float *v, int kv_stride, int B, int Tq, int Tkv, int C, int H,
                       int causal);

/* Accumulates dq, dk, dv (same strides as q, k, v). datt[B,H,Tq,Tkv] (may be NULL) is a
 * gradient of the loss with respect to the probabilities att themselves (e.g. an
 * attention-map distillation term), added to the one that flows back from out; entries a
 * causal mask zeroes get none (their probability is the constant 0). */
void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *datt,
                        const float *att, const float *q, int q_stride, const float *k,
                        const float *v, int kv_stride, int B, int Tq, int Tkv, int C, int H,
                        int causal);

/* The same with dq, dk, dv written, not accumulated into: what attention_backward leaves in
 * zeroed buffers (every (sample, head) pair zeroes its own slices inside the parallel loop,
 * instead of a separate pass over them). */
void attention_backward_set(float *dq, float *dk, float *dv, const float *dout,
                            const float *datt, const float *att, const float *q, int q_stride,
                            const float *k, const float *v, int kv_stride, int B, int Tq,
                            int Tkv, int C, int H, int causal);

/* One new query row per sequence against cached keys and values (greedy decoding): for
 * each of B rows, q[b] [C] (row stride q_stride) attends over the Tkv cached positions of
 * k and v (k + b·cache_stride + t·kv_stride; v likewise), H heads of C/H channels, and
 * writes out[b] [C] (row stride C). scores is [B·H·Tkv] scratch. Equals attention_forward's
 * last row of a causal pass over the same Tkv positions, up to rounding. */
void attention_decode_forward(float *out, float *scores, const float *q, int q_stride,
                              const float *k, const float *v, long cache_stride, int kv_stride,
                              int B, int Tkv, int C, int H);

#endif
