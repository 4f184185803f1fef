/* embedding.h - row lookup in a table: out[i] = table[ids[i]]. */
#ifndef PL_NN_EMBEDDING_H
#define PL_NN_EMBEDDING_H

void embedding_forward(float *out, const int *ids, const float *table, int n, int c);
/* dtable[ids[i]] += dout[i]; deterministic whatever the thread count. */
void embedding_backward(float *dtable, const float *dout, const int *ids, int n, int c);

#endif
