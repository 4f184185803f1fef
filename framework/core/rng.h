/* rng.h - counter-based random numbers (Philox4x32-10).
 *
 * A random value is a pure function of (seed, stream, index): no hidden state advances, so
 * any thread can draw element i of a stream and get the same value whatever the thread
 * count or order. Streams separate independent uses (one per tensor initialised, one per
 * data sample, ...). pl_rng_cursor adds a running index for code that draws in sequence. */
#ifndef PL_CORE_RNG_H
#define PL_CORE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t seed;
    uint64_t stream;
} pl_rng;

/* The four 32-bit words of block `index`. */
void pl_rng_block(pl_rng rng, uint64_t index, uint32_t out[4]);

uint32_t pl_rng_u32(pl_rng rng, uint64_t index);
/* Uniform in [0, 1), 24 random bits. */
float pl_rng_uniform(pl_rng rng, uint64_t index);
/* Standard normal (Box-Muller on the block's first two words). */
float pl_rng_normal(pl_rng rng, uint64_t index);
/* Uniform integer in [0, n) without modulo bias (n > 0). */
uint32_t pl_rng_below(pl_rng rng, uint64_t index, uint32_t n);

/* A stream key derived from a parent and a label, e.g. a sample's split and number. */
pl_rng pl_rng_derive(pl_rng parent, uint64_t label);

/* Sequential drawing: index advances by one per draw. */
typedef struct {
    pl_rng rng;
    uint64_t index;
} pl_rng_cursor;

static inline pl_rng_cursor pl_rng_cursor_at(pl_rng rng, uint64_t start) {
    pl_rng_cursor c = {rng, start};
    return c;
}
static inline uint32_t pl_cursor_u32(pl_rng_cursor *c) { return pl_rng_u32(c->rng, c->index++); }
static inline float pl_cursor_uniform(pl_rng_cursor *c) { return pl_rng_uniform(c->rng, c->index++); }
static inline float pl_cursor_normal(pl_rng_cursor *c) { return pl_rng_normal(c->rng, c->index++); }
static inline uint32_t pl_cursor_below(pl_rng_cursor *c, uint32_t n) {
    return pl_rng_below(c->rng, c->index++, n);
}

#endif
