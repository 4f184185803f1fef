/* test_core_gemm_bf16.c - the BF16 product against its definition: C = op(A)·op(B) on the
 * BF16-rounded operands, summed in double here (oneDNN sums in FP32, so agreement is to FP32
 * rounding of the sum, far tighter than BF16's); every transpose combination, accumulate,
 * shapes with partial tiles; the product into zeros; bit-identical at 1 and 2 threads; the
 * rounding itself (ties to even, NaN, infinities). Skipped on CPUs without BF16 products. */
#include <math.h>
#include <string.h>

#include "core/gemm_bf16.h"
#include "core/threads.h"
#include "nn_testutil.h"

static uint16_t bits_of(float f) {
    uint16_t h;
    pl_bf16_from_float(&h, &f, 1);
    return h;
}

Test(gemm_bf16, rounding_is_nearest_even) {
    cr_assert_eq(bits_of(1.0f), 0x3f80);
    /* 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties to the even mantissa (1). */
    cr_assert_eq(bits_of(1.0f + 0x1p-8f), 0x3f80);
    /* 1 + 3·2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even). */
    cr_assert_eq(bits_of(1.0f + 3 * 0x1p-8f), 0x3f82);
    cr_assert_eq(bits_of(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81); /* above half: up */
    cr_assert_eq(bits_of(-2.0f), 0xc000);
    cr_assert_eq(bits_of(INFINITY), 0x7f80);
    cr_assert_eq(bits_of(-INFINITY), 0xff80);
    cr_assert(isnan(pl_bf16_to_float(bits_of(NAN))));
    cr_assert_eq(pl_bf16_to_float(bits_of(0x1.fep127f)), 0x1.fep127f); /* the largest finite */
    cr_assert_eq(pl_bf16_to_float(bits_of(0x1.ffp127f)), INFINITY);  /* halfway above it: even */
    cr_assert_eq(pl_bf16_to_float(bits_of(-3.5f)), -3.5f);
}

/* op(A)[i,p] for A stored [m,k] (or [k,m] when transposed) with row stride ld. */
static float at(const uint16_t *x, bool trans, int ld, int i, int p) {
    return pl_bf16_to_float(trans ? x[(size_t)p * ld + i] : x[(size_t)i * ld + p]);
}

static void check_product(bool ta, bool tb, int m, int n, int k, bool accumulate) {
    const int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
    const size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb;
    float *fa = tu_alloc_f(na, 0), *fb = tu_alloc_f(nb, 0), *c = tu_alloc_f((size_t)m * ldc, 0);
    tu_randn(fa, na, 1, 1, 0), tu_randn(fb, nb, 2, 1, 0), tu_randn(c, (size_t)m * ldc, 3, 1, 0);
    uint16_t *a = malloc(na * 2), *b = malloc(nb * 2);
    pl_bf16_from_float(a, fa, na), pl_bf16_from_float(b, fb, nb);
    float *c0 = tu_alloc_f((size_t)m * ldc, 0), *bias = tu_alloc_f((size_t)n, 0);
    tu_randn(bias, (size_t)n, 4, 1, 0);
    memcpy(c0, c, (size_t)m * ldc * sizeof *c);
    pl_bf16_gemm *g;
    cr_assert_eq(pl_bf16_gemm_create(&g, NULL), PL_OK);
    /* A arrives rounded; B is rounded by the product itself. */
    uint16_t *b2 = malloc(nb * 2);
    const pl_bf16_operand oa = {a, lda, NULL, 0}, ob = {b2, ldb, fb, nb};
    pl_bf16_gemm_run(g, ta, tb, m, n, k, oa, ob, bias, accumulate, c, ldc);
    cr_assert(memcmp(b, b2, nb * 2) == 0, "the product rounds as pl_bf16_from_float does");
    free(b2);
    cr_assert_eq(pl_bf16_gemm_status(g, NULL), PL_OK);
    double worst = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double want = (accumulate ? c0[(size_t)i * ldc + j] : 0.0) + bias[j];
            double scale = fabs(want);
            for (int p = 0; p < k; p++) {
                const double t = (double)at(a, ta, lda, i, p) * at(b, !tb, ldb, j, p);
                want += t, scale += fabs(t);
            }
            const double e = fabs(c[(size_t)i * ldc + j] - want) / (scale + 1e-30);
            worst = e > worst ? e : worst;
        }
    /* the padding columns of C are untouched */
    for (int i = 0; i < m; i++)
        for (int j = n; j < ldc; j++) cr_assert_eq(c[(size_t)i * ldc + j], c0[(size_t)i * ldc + j]);
    cr_assert(worst < 1e-5, "ta %d tb %d %dx%dx%d acc %d: relative error %g", ta, tb, m, n, k,
              accumulate, worst);
    pl_bf16_gemm_free(g);
    free(fa), free(fb), free(c), free(c0), free(a), free(b), free(bias);
}

Test(gemm_bf16, matches_the_definition_for_every_layout) {
    tu_need_bf16();
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_product(ta, tb, 1100, 530, 40, false); /* partial tiles in both directions */
            check_product(ta, tb, 37, 19, 65, true);    /* one partial tile */
        }
    check_product(false, true, 512, 512, 128, true); /* whole tiles only */
}

static void product_at(int threads, float *c, int m, int n, int k) {
    float *fa = tu_alloc_f((size_t)m * k, 0), *fb = tu_alloc_f((size_t)n * k, 0);
    tu_randn(fa, (size_t)m * k, 7, 1, 0), tu_randn(fb, (size_t)n * k, 8, 1, 0);
    uint16_t *a = malloc((size_t)m * k * 2), *b = malloc((size_t)n * k * 2);
    pl_bf16_from_float(a, fa, (size_t)m * k), pl_bf16_from_float(b, fb, (size_t)n * k);
    pl_threads_set(threads);
    pl_bf16_gemm *g;
    cr_assert_eq(pl_bf16_gemm_create(&g, NULL), PL_OK);
    /* dW-like: C[m,n] = Aᵀ·B with a long k, the shape a K-split plan would reduce across threads */
    pl_bf16_gemm_run(g, true, false, m, n, k, (pl_bf16_operand){a, m, NULL, 0},
                     (pl_bf16_operand){b, n, NULL, 0}, NULL, false, c, n);
    pl_bf16_gemm_run(g, false, true, m, n, 64, (pl_bf16_operand){a, 64, NULL, 0},
                     (pl_bf16_operand){b, 64, NULL, 0}, fb, true, c, n);
    cr_assert_eq(pl_bf16_gemm_status(g, NULL), PL_OK);
    pl_bf16_gemm_free(g);
    free(fa), free(fb), free(a), free(b);
}

Test(gemm_bf16, bit_identical_at_1_and_2_threads) {
    tu_need_bf16();
    enum { M = 192, N = 320, K = 2048 };
    float *c1 = tu_alloc_f(M * N, 0), *c2 = tu_alloc_f(M * N, 0);
    product_at(1, c1, M, N, K);
    product_at(2, c2, M, N, K);
    cr_assert(memcmp(c1, c2, sizeof(float) * M * N) == 0);
    free(c1), free(c2);
}

/* One context through more tile shapes than its kernel cache first holds (it grows while a
 * product looks up its second shape): every product equals the same product in a fresh
 * context, bit for bit. Regression: pointers into the cache went stale when it grew. */
Test(gemm_bf16, a_growing_kernel_cache_keeps_every_product) {
    tu_need_bf16();
    enum { CALLS = 40, MAXM = 200, N = 70, MAXK = 60 };
    float *fa = tu_alloc_f(MAXM * MAXK, 0), *fb = tu_alloc_f(MAXK * N, 0);
    tu_randn(fa, MAXM * MAXK, 11, 1, 0), tu_randn(fb, MAXK * N, 12, 1, 0);
    uint16_t *a = malloc(MAXM * MAXK * 2), *b = malloc(MAXK * N * 2);
    pl_bf16_from_float(a, fa, MAXM * MAXK), pl_bf16_from_float(b, fb, MAXK * N);
    float *c1 = tu_alloc_f(MAXM * N, 0), *c2 = tu_alloc_f(MAXM * N, 0);
    pl_bf16_gemm *shared;
    cr_assert_eq(pl_bf16_gemm_create(&shared, NULL), PL_OK);
    for (int i = 0; i < CALLS; i++) {
        /* Call 0: whole 32-row tiles only (one kernel); then 64-row tiles and a short one (two
         * kernels each, new k each time), so the cache fills on a call's second lookup. */
        const int m = i == 0 ? 128 : 150 + i, k = 20 + i;
        const pl_bf16_operand oa = {a, k, NULL, 0}, ob = {b, N, NULL, 0};
        pl_bf16_gemm *fresh;
        cr_assert_eq(pl_bf16_gemm_create(&fresh, NULL), PL_OK);
        pl_bf16_gemm_run(shared, false, false, m, N, k, oa, ob, NULL, false, c1, N);
        pl_bf16_gemm_run(fresh, false, false, m, N, k, oa, ob, NULL, false, c2, N);
        cr_assert_eq(pl_bf16_gemm_status(shared, NULL), PL_OK);
        cr_assert(memcmp(c1, c2, sizeof(float) * m * N) == 0, "call %d (%d x %d x %d)", i, m, N, k);
        pl_bf16_gemm_free(fresh);
    }
    pl_bf16_gemm_free(shared);
    free(fa), free(fb), free(a), free(b), free(c1), free(c2);
}

/* The product into zeros gives the bits of zeroing C and accumulating into it, C starting as
 * NaN: on a grid with short row tiles and narrow column tiles (N above the whole-row limit),
 * with operands so small that sums are denormal (flushed to zeros of either sign), on exact
 * multiples of the tiles with A transposed, and for an empty sum (K = 0: zeros). */
Test(gemm_bf16, into_zeros_equals_zeroing_then_accumulating) {
    tu_need_bf16();
    const struct { int m, n, k, trans_a; float scale; } cases[] = {
        {70, 1100, 24, 0, 1.0f}, {70, 1100, 24, 0, 1e-20f}, {64, 1024, 40, 1, 1.0f}, {70, 33, 0, 0, 1.0f}};
    for (int s = 0; s < (int)(sizeof cases / sizeof cases[0]); s++) {
        const int M = cases[s].m, N = cases[s].n, K = cases[s].k, ta = cases[s].trans_a;
        const size_t na = (size_t)M * K + 1, nb = (size_t)K * N + 1;
        float *fa = tu_alloc_f(na, 0), *fb = tu_alloc_f(nb, 0);
        tu_randn(fa, na, 21, cases[s].scale, 0), tu_randn(fb, nb, 22, cases[s].scale, 0);
        uint16_t *a = malloc(na * 2), *b = malloc(nb * 2);
        cr_assert(a != NULL && b != NULL);
        pl_bf16_from_float(a, fa, na), pl_bf16_from_float(b, fb, nb);
        float *zeroed = tu_alloc_f((size_t)M * N, 0.0f), *into = tu_alloc_f((size_t)M * N, NAN);
        pl_bf16_gemm *g;
        cr_assert_eq(pl_bf16_gemm_create(&g, NULL), PL_OK);
        const pl_bf16_operand oa = {a, ta ? M : K, NULL, 0}, ob = {b, N, NULL, 0};
        pl_bf16_gemm_run(g, ta, false, M, N, K, oa, ob, NULL, true, zeroed, N);
        pl_bf16_gemm_run_into_zeros(g, ta, false, M, N, K, oa, ob, into, N);
        cr_assert_eq(pl_bf16_gemm_status(g, NULL), PL_OK);
        cr_assert(memcmp(zeroed, into, sizeof(float) * M * N) == 0, "case %d", s);
        pl_bf16_gemm_free(g);
        free(fa), free(fb), free(a), free(b), free(zeroed), free(into);
    }
}
