/* test_prune_layer.c - pruning one hand-made linear layer: exact masks for magnitude and
 * Wanda, N:M groups, exact target counts, SparseGPT's reconstruction error against the
 * other two on correlated inputs, its damping retry, statistics, thread-count independence. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/threads.h"
#include "prune/mask.h"
#include "prune/sparsegpt.h"
#include "prune/stats.h"
#include "prune/wanda.h"

static float *ones(size_t n) {
    float *m = pl_alloc(n, sizeof *m, NULL);
    cr_assert_not_null(m);
    for (size_t i = 0; i < n; i++) m[i] = 1.0f;
    return m;
}

static float *randn(size_t n, uint64_t stream) {
    float *a = pl_alloc(n, sizeof *a, NULL);
    cr_assert_not_null(a);
    pl_rng r = {77, stream};
    for (size_t i = 0; i < n; i++) a[i] = pl_rng_normal(r, i);
    return a;
}

static const prune_rule HALF_ROW = {0.5, 0, 0, PRUNE_GROUP_ROW};

static void expect_mask(const float *mask, const float *want, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(mask[i], want[i], "%s: mask[%zu] = %g, want %g", what, i, (double)mask[i],
                     (double)want[i]);
}

Test(prune_layer, magnitude_removes_the_smallest_per_row_and_zeroes_them) {
    float w[2 * 4] = {1, -4, 3, 2, /* row 1 */ 0.5f, 0.1f, -0.2f, 9};
    float mask[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    cr_assert_eq(prune_layer_magnitude(w, mask, 2, 4, &HALF_ROW, NULL), PL_OK);
    const float want[8] = {0, 1, 1, 0, 1, 0, 0, 1};
    expect_mask(mask, want, 8, "magnitude");
    const float want_w[8] = {0, -4, 3, 0, 0.5f, 0, 0, 9};
    cr_assert(memcmp(w, want_w, sizeof w) == 0, "pruned weights must be exactly 0, kept untouched");
}

Test(prune_layer, wanda_activation_norms_change_the_choice_magnitude_makes) {
    /* One row [1 2 3 4]. RMS inputs [10 1 1 0.1] give Wanda scores [10 2 3 0.4]:
     * magnitude removes columns 0 and 1, Wanda removes 3 and 1. */
    const float w0[4] = {1, 2, 3, 4};
    const double tokens = 4;
    const double sumsq[4] = {100 * tokens, 1 * tokens, 1 * tokens, 0.01 * tokens};
    float w[4], mask[4] = {1, 1, 1, 1};
    memcpy(w, w0, sizeof w);
    cr_assert_eq(prune_layer_magnitude(w, mask, 1, 4, &HALF_ROW, NULL), PL_OK);
    expect_mask(mask, (const float[]){0, 0, 1, 1}, 4, "magnitude");
    memcpy(w, w0, sizeof w);
    for (int i = 0; i < 4; i++) mask[i] = 1;
    cr_assert_eq(prune_layer_wanda(w, mask, 1, 4, sumsq, (int64_t)tokens, &HALF_ROW, NULL), PL_OK);
    expect_mask(mask, (const float[]){1, 0, 1, 0}, 4, "wanda");
    cr_assert(w[1] == 0.0f && w[3] == 0.0f && w[0] == 1.0f && w[2] == 3.0f);
}

Test(prune_layer, matrix_group_compares_across_rows_and_ties_break_by_index) {
    /* Row 0 holds the three smallest weights: a matrix group takes all of them, row groups
     * one per row... ties (equal |w|) go to the lower flat index. */
    float w[2 * 3] = {0.1f, 0.2f, 0.3f, 5, 5, 5};
    float mask[6] = {1, 1, 1, 1, 1, 1};
    const prune_rule matrix = {0.5, 0, 0, PRUNE_GROUP_MATRIX};
    cr_assert_eq(prune_layer_magnitude(w, mask, 2, 3, &matrix, NULL), PL_OK);
    expect_mask(mask, (const float[]){0, 0, 0, 1, 1, 1}, 6, "matrix");
    float w2[6] = {0.1f, 0.2f, 0.3f, 5, 5, 5}, mask2[6] = {1, 1, 1, 1, 1, 1};
    const prune_rule row = {0.34, 0, 0, PRUNE_GROUP_ROW}; /* round(0.34·3) = 1 per row */
    cr_assert_eq(prune_layer_magnitude(w2, mask2, 2, 3, &row, NULL), PL_OK);
    expect_mask(mask2, (const float[]){0, 1, 1, 0, 1, 1}, 6, "row, tie at index 3");
}

static size_t zeros_in(const float *mask, size_t first, size_t n) {
    size_t z = 0;
    for (size_t i = first; i < first + n; i++) z += mask[i] == 0.0f;
    return z;
}

/* Gram matrix of X [n, in] in double: what the calibration would accumulate. */
static double *gram_of(const float *x, int n, int in, int64_t *tokens) {
    prune_stats s;
    cr_assert_eq(prune_stats_init(&s, in, 1, NULL), PL_OK);
    cr_assert_eq(prune_stats_add(&s, x, n, NULL), PL_OK);
    double *g = pl_alloc((size_t)in * in, sizeof *g, NULL);
    cr_assert_not_null(g);
    memcpy(g, s.xtx, (size_t)in * in * sizeof *g);
    *tokens = s.tokens;
    prune_stats_free(&s);
    return g;
}

static double *sumsq_of(const float *x, int n, int in) {
    double *q = pl_alloc((size_t)in, sizeof *q, NULL);
    cr_assert_not_null(q);
    for (int t = 0; t < n; t++)
        for (int j = 0; j < in; j++) q[j] += (double)x[(size_t)t * in + j] * x[(size_t)t * in + j];
    return q;
}

/* Prunes a copy of w0 with the given method (0 magnitude, 1 wanda, 2 sparsegpt). */
static void prune_copy(int method, float *w, float *mask, const float *w0, int rows, int cols,
                       const float *x, int n, const prune_rule *rule) {
    memcpy(w, w0, (size_t)rows * cols * sizeof *w);
    for (size_t i = 0; i < (size_t)rows * cols; i++) mask[i] = 1.0f;
    int64_t tokens;
    double *g = gram_of(x, n, cols, &tokens), *q = sumsq_of(x, n, cols);
    pl_status st = method == 0 ? prune_layer_magnitude(w, mask, rows, cols, rule, NULL)
                 : method == 1 ? prune_layer_wanda(w, mask, rows, cols, q, tokens, rule, NULL)
                               : prune_layer_sparsegpt(w, mask, rows, cols, g, tokens,
                                                       &(sparsegpt_options){16, 0.01, 6}, rule, NULL);
    cr_assert_eq(st, PL_OK);
    pl_free(g);
    pl_free(q);
}

Test(prune_layer, nm_prunes_exactly_n_of_every_m_for_every_method) {
    enum { R = 6, C = 32, N = 64 };
    float *w0 = randn(R * C, 1), *x = randn(N * C, 2), *w = ones(R * C), *mask = ones(R * C);
    const int pats[][2] = {{2, 4}, {4, 8}, {1, 4}, {3, 8}};
    for (int p = 0; p < 4; p++)
        for (int method = 0; method < 3; method++) {
            const prune_rule rule = {0, pats[p][0], pats[p][1], PRUNE_GROUP_ROW};
            prune_copy(method, w, mask, w0, R, C, x, N, &rule);
            for (size_t g = 0; g < (size_t)R * C; g += (size_t)rule.m)
                cr_assert_eq(zeros_in(mask, g, (size_t)rule.m), (size_t)rule.n,
                             "%d:%d method %d: group at %zu has %zu removed", rule.n, rule.m,
                             method, g, zeros_in(mask, g, (size_t)rule.m));
            for (size_t i = 0; i < (size_t)R * C; i++)
                if (mask[i] == 0.0f) cr_assert_eq(w[i], 0.0f);
            if (method == 0) /* magnitude: the removed are the N smallest |w| of the group */
                for (size_t g = 0; g < (size_t)R * C; g += (size_t)rule.m)
                    for (int a = 0; a < rule.m; a++)
                        for (int b = 0; b < rule.m; b++)
                            if (mask[g + a] == 0.0f && mask[g + b] != 0.0f)
                                cr_assert(fabsf(w0[g + a]) <= fabsf(w0[g + b]));
        }
    pl_free(w0), pl_free(x), pl_free(w), pl_free(mask);
}

Test(prune_layer, exact_target_count_per_row_and_per_matrix) {
    enum { R = 7, C = 40, N = 50 };
    float *w0 = randn(R * C, 3), *x = randn(N * C, 4), *w = ones(R * C), *mask = ones(R * C);
    const double targets[] = {0.3, 0.5, 0.7, 0.55};
    for (int t = 0; t < 4; t++)
        for (int method = 0; method < 3; method++) {
            const prune_rule row = {targets[t], 0, 0, PRUNE_GROUP_ROW};
            prune_copy(method, w, mask, w0, R, C, x, N, &row);
            for (int r = 0; r < R; r++)
                cr_assert_eq(zeros_in(mask, (size_t)r * C, C), prune_target_count(targets[t], C),
                             "method %d sparsity %g row %d", method, targets[t], r);
            const prune_rule matrix = {targets[t], 0, 0, PRUNE_GROUP_MATRIX};
            prune_copy(method, w, mask, w0, R, C, x, N, &matrix);
            cr_assert_eq(zeros_in(mask, 0, R * C), prune_target_count(targets[t], R * C),
                         "method %d sparsity %g matrix", method, targets[t]);
        }
    pl_free(w0), pl_free(x), pl_free(w), pl_free(mask);
}

/* ‖XWᵀ − XŴᵀ‖_F. */
static double recon_error(const float *x, int n, const float *w0, const float *w, int rows, int cols) {
    double total = 0.0;
    for (int t = 0; t < n; t++)
        for (int r = 0; r < rows; r++) {
            double d = 0.0;
            for (int j = 0; j < cols; j++)
                d += (double)x[(size_t)t * cols + j] * ((double)w0[(size_t)r * cols + j] - w[(size_t)r * cols + j]);
            total += d * d;
        }
    return sqrt(total);
}

/* Inputs with strongly correlated columns: x_t = z_t·L with L lower-bidiagonal-ish mixing
 * (each column a running blend of its neighbours) and uneven column scales. */
static float *correlated_inputs(int n, int in) {
    float *z = randn((size_t)n * in, 11), *x = pl_alloc((size_t)n * in, sizeof *x, NULL);
    cr_assert_not_null(x);
    for (int t = 0; t < n; t++) {
        double run = 0.0;
        for (int j = 0; j < in; j++) {
            run = 0.8 * run + z[(size_t)t * in + j];
            x[(size_t)t * in + j] = (float)(run * (0.5 + (j % 5) * 0.4));
        }
    }
    pl_free(z);
    return x;
}

Test(prune_layer, sparsegpt_reconstructs_better_than_wanda_and_magnitude) {
    enum { R = 32, C = 64, N = 512 };
    float *x = correlated_inputs(N, C), *w0 = randn(R * C, 12);
    float *w = ones(R * C), *mask = ones(R * C);
    const prune_rule rules[] = {{0.5, 0, 0, PRUNE_GROUP_ROW}, {0, 2, 4, PRUNE_GROUP_ROW}};
    const char *names[] = {"50% unstructured", "2:4"};
    for (int k = 0; k < 2; k++) {
        double e[3];
        for (int method = 0; method < 3; method++) {
            prune_copy(method, w, mask, w0, R, C, x, N, &rules[k]);
            e[method] = recon_error(x, N, w0, w, R, C);
        }
        fprintf(stderr, "prune_layer: %s reconstruction error ||XW'-XW^'||_F: magnitude %.4g, "
                "wanda %.4g, sparsegpt %.4g\n", names[k], e[0], e[1], e[2]);
        cr_expect(e[2] < e[1] && e[2] < e[0], "%s: sparsegpt %g, wanda %g, magnitude %g",
                  names[k], e[2], e[1], e[0]);
    }
    pl_free(x), pl_free(w0), pl_free(w), pl_free(mask);
}

Test(prune_layer, sparsegpt_updates_the_kept_weights_and_zeroes_the_removed) {
    enum { R = 8, C = 32, N = 128 };
    float *x = correlated_inputs(N, C), *w0 = randn(R * C, 13), *w = ones(R * C), *mask = ones(R * C);
    prune_copy(2, w, mask, w0, R, C, x, N, &HALF_ROW);
    int changed = 0;
    for (size_t i = 0; i < (size_t)R * C; i++) {
        if (mask[i] == 0.0f) cr_assert(w[i] == 0.0f && !signbit(w[i]));
        else changed += w[i] != w0[i];
    }
    cr_assert_gt(changed, R * C / 4, "SparseGPT changed only %d kept weights", changed);
    pl_free(x), pl_free(w0), pl_free(w), pl_free(mask);
}

Test(prune_layer, sparsegpt_retries_with_more_damping_when_cholesky_fails) {
    /* An indefinite "Gram" matrix (eigenvalues 4 and -2, mean diagonal 1): damping 0.01,
     * 0.1 and 1 leave it indefinite, 10 makes it positive definite. */
    const double xtx[4] = {1, 3, 3, 1};
    float w[2] = {1.0f, 0.5f}, mask[2] = {1, 1};
    const prune_rule rule = {0.5, 0, 0, PRUNE_GROUP_ROW};
    pl_error err = {0};
    cr_assert_eq(prune_layer_sparsegpt(w, mask, 1, 2, xtx, 2, &(sparsegpt_options){128, 0.01, 2},
                                       &rule, &err), PL_ERR_NUMERIC);
    cr_assert(strstr(err.message, "not positive definite") != NULL, "%s", err.message);
    cr_assert_eq(prune_layer_sparsegpt(w, mask, 1, 2, xtx, 2, &(sparsegpt_options){128, 0.01, 6},
                                       &rule, NULL), PL_OK);
    cr_assert_eq(zeros_in(mask, 0, 2), 1);
}

Test(prune_layer, already_masked_weights_stay_removed) {
    float w[4] = {0, 2, 3, 4}, mask[4] = {0, 1, 1, 1};
    const prune_rule quarter = {0.25, 0, 0, PRUNE_GROUP_ROW};
    cr_assert_eq(prune_layer_magnitude(w, mask, 1, 4, &quarter, NULL), PL_OK);
    expect_mask(mask, (const float[]){0, 1, 1, 1}, 4, "re-pruned at the same target");
    w[0] = 7.0f; /* a stale value under the mask must not win it back */
    cr_assert_eq(prune_layer_magnitude(w, mask, 1, 4, &HALF_ROW, NULL), PL_OK);
    expect_mask(mask, (const float[]){0, 0, 1, 1}, 4, "re-pruned at 50%");
}

Test(prune_layer, statistics_accumulate_over_batches) {
    enum { N = 40, C = 48 };
    float *x = randn(N * C, 21);
    prune_stats one, two;
    cr_assert_eq(prune_stats_init(&one, C, 1, NULL), PL_OK);
    cr_assert_eq(prune_stats_init(&two, C, 1, NULL), PL_OK);
    cr_assert_eq(prune_stats_add(&one, x, N, NULL), PL_OK);
    cr_assert_eq(prune_stats_add(&two, x, 15, NULL), PL_OK);
    cr_assert_eq(prune_stats_add(&two, x + 15 * C, N - 15, NULL), PL_OK);
    cr_assert_eq(one.tokens, N);
    cr_assert_eq(two.tokens, N);
    for (int j = 0; j < C; j++) {
        double want = 0.0;
        for (int t = 0; t < N; t++) want += (double)x[t * C + j] * x[t * C + j];
        cr_assert(fabs(one.sumsq[j] - want) <= 1e-12 * want);
        cr_assert(fabs(two.sumsq[j] - want) <= 1e-12 * want);
        cr_assert(fabs(one.xtx[j * C + j] - want) <= 1e-12 * want);
        for (int k = 0; k < C; k++) {
            double g = 0.0;
            for (int t = 0; t < N; t++) g += (double)x[t * C + j] * x[t * C + k];
            cr_assert(fabs(two.xtx[j * C + k] - g) <= 1e-12 * (1.0 + fabs(g)));
            cr_assert_eq(one.xtx[j * C + k], one.xtx[k * C + j], "Gram matrix must be symmetric");
        }
    }
    prune_stats_free(&one), prune_stats_free(&two);
    pl_free(x);
}

/* Everything a layer prune produces, with a given thread count. */
static void layer_run(int threads, int method, const prune_rule *rule, float *w, float *mask) {
    enum { R = 96, C = 160, N = 300 };
    pl_threads_set(threads);
    float *x = correlated_inputs(N, C), *w0 = randn(R * C, 31);
    prune_copy(method, w, mask, w0, R, C, x, N, rule);
    pl_free(x), pl_free(w0);
}

Test(prune_layer, results_do_not_depend_on_the_thread_count) {
    enum { R = 96, C = 160 };
    float *w1 = ones(R * C), *m1 = ones(R * C), *w2 = ones(R * C), *m2 = ones(R * C);
    const prune_rule rules[] = {{0.6, 0, 0, PRUNE_GROUP_ROW}, {0.6, 0, 0, PRUNE_GROUP_MATRIX},
                                {0, 2, 4, PRUNE_GROUP_ROW}};
    for (int method = 0; method < 3; method++)
        for (int k = 0; k < 3; k++) {
            layer_run(1, method, &rules[k], w1, m1);
            layer_run(2, method, &rules[k], w2, m2);
            cr_assert(memcmp(w1, w2, sizeof(float) * R * C) == 0, "method %d rule %d: weights", method, k);
            cr_assert(memcmp(m1, m2, sizeof(float) * R * C) == 0, "method %d rule %d: masks", method, k);
        }
    pl_free(w1), pl_free(m1), pl_free(w2), pl_free(m2);
}
