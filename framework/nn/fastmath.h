/* fastmath.h - exp and tanh that the compiler can vectorise (libm's expf/tanhf are scalar
 * calls; in tanh-GELU they were a third of a training step).
 *
 * exp: x = n·ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by its degree-7
 * Taylor polynomial (truncation < 2e-8 relative), times 2^n built in the exponent bits.
 * Max relative error about 2 ulp; inputs are clamped to [-87, 88] so the result is finite
 * and normal (exp(-87) ~ 1.6e-38, far below anything that matters after a max-shift).
 * tanh(u) = 1 − 2/(e^{2u} + 1): absolute error ~1e-7, exact limits ±1. */
#ifndef PL_NN_FASTMATH_H
#define PL_NN_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float pl_fast_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    /* Adding and subtracting 1.5·2^23 rounds to the nearest integer (|x·log2 e| < 2^22). */
    const float shifter = 12582912.0f;
    const float n = (x * 1.44269504088896341f + shifter) - shifter;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f; /* ln2 = hi + lo */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    /* unsigned shift: a NaN input (a diverged run) must not be undefined behaviour here */
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float pl_fast_tanhf(float u) {
    return 1.0f - 2.0f / (pl_fast_expf(2.0f * u) + 1.0f);
}

/* y = softmax(x) over n values (y may be x): max-shifted, normalised by the reciprocal sum. */
static inline void pl_softmax_row(float *y, const float *x, int n) {
    float mx = x[0];
    for (int j = 1; j < n; j++) mx = x[j] > mx ? x[j] : mx;
    float sum = 0.0f;
    for (int j = 0; j < n; j++) {
        y[j] = pl_fast_expf(x[j] - mx);
        sum += y[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < n; j++) y[j] *= inv;
}

#endif
