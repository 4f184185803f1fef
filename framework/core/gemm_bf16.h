/* gemm_bf16.h - matrix products on BF16 operands with FP32 accumulation and FP32 output
 * (oneDNN's matmul), for the `numerics: {precision: bf16}` training path.
 *
 *   C[M,N] = op(A)[M,K] · op(B)[K,N]  (+ bias[N] on every row) (+ C when accumulate)
 *
 * A and B hold BF16 values (the upper 16 bits of an IEEE float, rounded to nearest even by
 * pl_bf16_from_float, or by the product itself: pl_bf16_operand); op = transpose when the
 * flag is set, the ld are row strides as stored, as in core/blas.h. C is split into a fixed grid of tiles that depends on the shape
 * only; each tile is one single-threaded oneDNN call, and threads share out whole tiles, so
 * the result does not depend on the thread count.
 *
 * A context caches one oneDNN primitive per tile shape (creating one costs far more than
 * running it) and each thread's scratch memory. It is not shared between threads that
 * call it at the same time; a run owns its own. Failures inside a product (out of memory,
 * a shape oneDNN refuses) leave C unspecified and make the context's status sticky: the
 * caller checks pl_bf16_gemm_status after a pass, the way it checks a loss for NaN. */
#ifndef PL_CORE_GEMM_BF16_H
#define PL_CORE_GEMM_BF16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct pl_bf16_gemm pl_bf16_gemm;

/* True when this CPU runs BF16 products natively (AVX512-BF16 or AMX); else false with the
 * reason in why. */
bool pl_bf16_supported(char *why, size_t cap);

/* The instruction set oneDNN uses here, e.g. "avx512_core_bf16" (for provenance). */
const char *pl_bf16_isa_name(void);

/* "bf16: oneDNN <version>, <isa>", for a run's provenance. */
void pl_bf16_describe(char *out, size_t cap);

pl_status pl_bf16_gemm_create(pl_bf16_gemm **out, pl_error *err);
void pl_bf16_gemm_free(pl_bf16_gemm *g);

/* dst[i] = src[i] rounded to the nearest BF16, ties to even; NaN stays NaN. Threads own
 * contiguous ranges. */
void pl_bf16_from_float(uint16_t *dst, const float *src, size_t n);

static inline float pl_bf16_to_float(uint16_t h) {
    union { uint32_t u; float f; } v = {(uint32_t)h << 16};
    return v.f;
}

/* One operand of a product: its BF16 values as stored (row stride ld); when round_from is
 * not NULL, its first `count` values are rounded from those FP32 values first, inside the
 * product's own parallel region (one wake-up of the threads instead of two). */
typedef struct {
    uint16_t *values;
    int ld;
    const float *round_from;
    size_t count;
} pl_bf16_operand;

/* bias: NULL, or [n] added to every row of the product (before an accumulated C). */
void pl_bf16_gemm_run(pl_bf16_gemm *g, bool trans_a, bool trans_b, int m, int n, int k,
                      pl_bf16_operand a, pl_bf16_operand b, const float *bias, bool accumulate,
                      float *c, int ldc);

/* C = op(A)·op(B) computed as 0 + product through the sum post-op, the zeros written tile by
 * tile inside the product's own parallel region: the bits of zeroing C and accumulating into
 * it (oneDNN flushes a denormal sum to a signed zero; only the sum onto +0 makes it +0), without
 * a separate pass. A context that has failed leaves C as it was, not zeroed. */
void pl_bf16_gemm_run_into_zeros(pl_bf16_gemm *g, bool trans_a, bool trans_b, int m, int n,
                                 int k, pl_bf16_operand a, pl_bf16_operand b, float *c, int ldc);

/* PL_OK, or the first failure since the context was created (copied into err). */
pl_status pl_bf16_gemm_status(const pl_bf16_gemm *g, pl_error *err);

#endif
