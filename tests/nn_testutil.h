/* nn_testutil.h - helpers shared by the kernel tests: seeded random fill, float/double
 * copies, central finite differences on a double-precision oracle, and tolerance checks. */
#ifndef PL_TESTS_NN_TESTUTIL_H
#define PL_TESTS_NN_TESTUTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/gemm_bf16.h"
#include "core/rng.h"

/* a[i] = offset + scale·N(0,1), reproducible from stream. */
static inline void tu_randn(float *a, size_t n, uint64_t stream, float scale, float offset) {
    pl_rng rng = {1234, stream};
    for (size_t i = 0; i < n; i++) a[i] = offset + scale * pl_rng_normal(rng, i);
}

static inline double *tu_dup_d(const float *a, size_t n) {
    double *d = malloc(n * sizeof *d);
    cr_assert_not_null(d);
    for (size_t i = 0; i < n; i++) d[i] = a[i];
    return d;
}

static inline float *tu_alloc_f(size_t n, float fill) {
    float *f = malloc((n ? n : 1) * sizeof *f);
    cr_assert_not_null(f);
    for (size_t i = 0; i < n; i++) f[i] = fill;
    return f;
}

/* Central differences of loss(ctx) with respect to x[0..n): h = 1e-5 in double gives
 * truncation error ~h²·L''' ≈ 1e-10 and rounding error ~1e-16/h ≈ 1e-11, far below the
 * float tolerances the kernels are held to. */
typedef double (*tu_loss_fn)(void *ctx);
static inline void tu_numgrad(double *grad, double *x, size_t n, tu_loss_fn loss, void *ctx) {
    const double h = 1e-5;
    for (size_t i = 0; i < n; i++) {
        const double keep = x[i];
        x[i] = keep + h;
        const double lp = loss(ctx);
        x[i] = keep - h;
        const double lm = loss(ctx);
        x[i] = keep;
        grad[i] = (lp - lm) / (2.0 * h);
    }
}

/* Asserts |got_i − offset − want_i| ≤ tol·max(1, max_j |want_j|) for all i. offset lets a
 * test pre-fill gradients with a constant to check that backward accumulates (+=). */
static inline void tu_check(const float *got, const double *want, size_t n, float offset,
                            double tol, const char *what) {
    double scale = 1.0, worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs((double)got[i] - offset - want[i]);
        if (e > worst) worst = e, at = i;
    }
    cr_assert(worst <= tol * scale, "%s: |error| %.3g at [%zu] (got %.8g, want %.8g) > %.3g",
              what, worst, at, (double)got[at] - offset, want[at], tol * scale);
}

/* Σ y·r: the scalar whose gradient with respect to y is r, so dout = r in backward. */
static inline double tu_dot(const double *y, const double *r, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += y[i] * r[i];
    return s;
}

/* Skips the calling test on a CPU without BF16 products, saying why. */
static inline void tu_need_bf16(void) {
    char why[256];
    if (!pl_bf16_supported(why, sizeof why)) cr_skip_test("%s", why);
}

#endif
