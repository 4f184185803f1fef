/* rng.c - Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
 *
 * Key = the 64-bit seed; counter = (index, stream). Ten rounds of two 32x32->64 multiplies
 * with key bumps by the golden-ratio and sqrt(3)-1 Weyl constants. */
#include "core/rng.h"

#include <math.h>

static const uint32_t PHILOX_M0 = 0xD2511F53u, PHILOX_M1 = 0xCD9E8D57u;
static const uint32_t PHILOX_W0 = 0x9E3779B9u, PHILOX_W1 = 0xBB67AE85u;

void pl_rng_block(pl_rng rng, uint64_t index, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)index, c1 = (uint32_t)(index >> 32);
    uint32_t c2 = (uint32_t)rng.stream, c3 = (uint32_t)(rng.stream >> 32);
    uint32_t k0 = (uint32_t)rng.seed, k1 = (uint32_t)(rng.seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0, c1 = n1, c2 = n2, c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

uint32_t pl_rng_u32(pl_rng rng, uint64_t index) {
    uint32_t w[4];
    pl_rng_block(rng, index, w);
    return w[0];
}

float pl_rng_uniform(pl_rng rng, uint64_t index) {
    return (float)(pl_rng_u32(rng, index) >> 8) * (1.0f / 16777216.0f);
}

float pl_rng_normal(pl_rng rng, uint64_t index) {
    uint32_t w[4];
    pl_rng_block(rng, index, w);
    /* u1 in (0, 1] so the log is finite; u2 in [0, 1). */
    double u1 = ((double)(w[0] >> 8) + 1.0) / 16777216.0;
    double u2 = (double)(w[1] >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint32_t pl_rng_below(pl_rng rng, uint64_t index, uint32_t n) {
    /* Lemire's multiply-shift on a 64-bit draw: bias < n / 2^64, negligible. */
    uint32_t w[4];
    pl_rng_block(rng, index, w);
    uint64_t x = ((uint64_t)w[1] << 32) | w[0];
    return (uint32_t)(((unsigned __int128)x * n) >> 64);
}

pl_rng pl_rng_derive(pl_rng parent, uint64_t label) {
    uint32_t w[4];
    pl_rng probe = {parent.seed ^ 0x5DEECE66DULL, parent.stream};
    pl_rng_block(probe, label, w);
    pl_rng child = {parent.seed, ((uint64_t)w[1] << 32) | w[0]};
    return child;
}
