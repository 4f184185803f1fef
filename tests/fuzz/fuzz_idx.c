/* fuzz_idx.c - libFuzzer target: arbitrary bytes through the IDX parser, then through the
 * Fashion-MNIST pair checks when they parse. Must never crash, leak or read out of bounds;
 * on success the reported dimensions must account for the payload exactly. */
#include <stdint.h>
#include <stdlib.h>

#include "data/fashion.h"
#include "data/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pl_idx idx;
    pl_error err;
    if (pl_idx_parse(data, size, "fuzz", &idx, &err) != PL_OK) return 0;
    size_t count = 1;
    for (int d = 0; d < idx.ndim; d++) count *= (size_t)idx.dims[d];
    if (count != idx.count || 4 + 4 * (size_t)idx.ndim + count != size) abort();
    volatile uint8_t sink = idx.data[idx.count - 1];
    (void)sink;
    /* Treat the parsed array as an image file paired with its own first dimension's worth
     * of labels (the bytes themselves): exercises the shape and label checks. */
    if (idx.ndim >= 1 && (size_t)idx.dims[0] <= idx.count) {
        pl_fashion set;
        if (pl_fashion_adopt(idx.data, idx.ndim, idx.dims, idx.data, 1, idx.dims, "fuzz", &set,
                             &err) == PL_OK)
            set.images = set.labels = NULL; /* the arrays still belong to idx */
    }
    pl_idx_free(&idx);
    return 0;
}
