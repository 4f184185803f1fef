/* embedding.c - table lookup forward; scatter-add backward that is race-free and
 * deterministic because each thread owns a block of columns of the whole table. */
#include "nn/embedding.h"

#include <assert.h>

enum { COL_BLOCK = 16 };

void embedding_forward(float *out, const int *ids, const float *table, int n, int c) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *src = table + (long)ids[i] * c;
        float *dst = out + (long)i * c;
        for (int j = 0; j < c; j++) dst[j] = src[j];
    }
}

void embedding_backward(float *dtable, const float *dout, const int *ids, int n, int c) {
    /* Repeated ids add up in the order of i for every column, whatever the thread count. */
    const int blocks = (c + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < blocks; blk++) {
        const int j0 = blk * COL_BLOCK;
        const int width = c - j0 < COL_BLOCK ? c - j0 : COL_BLOCK;
        for (int i = 0; i < n; i++) {
            assert(ids[i] >= 0);
            float *dst = dtable + (long)ids[i] * c + j0;
            const float *src = dout + (long)i * c + j0;
            for (int j = 0; j < width; j++) dst[j] += src[j];
        }
    }
}
