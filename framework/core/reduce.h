/* reduce.h - sums that give the same bits whatever the thread count.
 *
 * [0, n) is cut into fixed chunks of `chunk` items (the cut depends on n and chunk only);
 * each chunk's partial sum is computed by `partial` (in parallel, one chunk per call), and
 * the partials are added in chunk order in double. Used by the losses and the gradient
 * norm. */
#ifndef PL_CORE_REDUCE_H
#define PL_CORE_REDUCE_H

#include <stddef.h>

/* Returns the sum over items [i0, i1) (with whatever side effects the caller wants, e.g.
 * writing per-row probabilities: each item belongs to exactly one call). */
typedef double (*pl_partial_fn)(const void *ctx, size_t i0, size_t i1);

double pl_sum_chunked(size_t n, size_t chunk, pl_partial_fn partial, const void *ctx);

#endif
