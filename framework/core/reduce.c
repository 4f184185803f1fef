/* reduce.c - deterministic chunked sums (see reduce.h). */
#include "core/reduce.h"

enum { CHUNKS_PER_ROUND = 256 }; /* partials kept on the stack per parallel round */

double pl_sum_chunked(size_t n, size_t chunk, pl_partial_fn partial, const void *ctx) {
    double total = 0.0;
    const size_t round = chunk * CHUNKS_PER_ROUND;
    for (size_t base = 0; base < n; base += round) {
        const size_t end = n - base < round ? n : base + round;
        const int chunks = (int)((end - base + chunk - 1) / chunk);
        double part[CHUNKS_PER_ROUND];
#pragma omp parallel for schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            const size_t i0 = base + (size_t)ch * chunk;
            part[ch] = partial(ctx, i0, i0 + chunk < end ? i0 + chunk : end);
        }
        for (int ch = 0; ch < chunks; ch++) total += part[ch];
    }
    return total;
}
