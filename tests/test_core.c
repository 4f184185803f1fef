/* test_core.c - errors (and when their source location is printed), buffers, the counter-based RNG and the SGEMM wrapper. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/buffer.h"
#include "core/error.h"
#include "core/rng.h"

Test(core_error, records_location_and_message) {
    pl_error err;
    pl_error_clear(&err);
    pl_status st = PL_ERROR(&err, PL_ERR_CONFIG, "key '%s' is unknown", "foo");
    cr_assert_eq(st, PL_ERR_CONFIG);
    cr_assert_str_eq(err.message, "key 'foo' is unknown");
    cr_assert(strstr(err.src_file, "test_core.c") != NULL);
    cr_assert_gt(err.src_line, 0);
    pl_error_wrap(&err, "in %s", "a.yaml");
    cr_assert_str_eq(err.message, "in a.yaml: key 'foo' is unknown");
    cr_assert_eq(PL_ERROR(NULL, PL_ERR_IO, "ignored"), PL_ERR_IO);
}

/* What pl_error_print writes for one error, with PRUNELAB_DEBUG as given (NULL = unset). */
static char *printed(const char *debug) {
    if (debug) setenv("PRUNELAB_DEBUG", debug, 1);
    else unsetenv("PRUNELAB_DEBUG");
    pl_error err;
    PL_ERROR(&err, PL_ERR_CONFIG, "a.yaml:1:1: bad");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    pl_error_print(out, &err);
    fclose(out);
    return text;
}

Test(core_error, source_location_only_when_debugging) {
    const char *settings[] = {NULL, "0", "", "1"};
    for (int i = 0; i < 4; i++) {
        char *text = printed(settings[i]);
        cr_expect_not_null(strstr(text, "prunelab: config error: a.yaml:1:1: bad\n"), "%s", text);
        bool located = strstr(text, "(raised at ") != NULL && strstr(text, "test_core.c:") != NULL;
        cr_expect_eq(located, i == 3, "PRUNELAB_DEBUG=%s: %s", settings[i] ? settings[i] : "(unset)", text);
        free(text);
    }
}

Test(core_alloc, overflow_is_an_error) {
    pl_error err;
    pl_error_clear(&err);
    void *p = pl_alloc((size_t)-1 / 2, 4, &err);
    cr_assert_null(p);
    cr_assert_eq(err.status, PL_ERR_NOMEM);
    float *q = pl_alloc(5, sizeof(float), &err);
    cr_assert_not_null(q);
    cr_assert_eq(((uintptr_t)q) % 64, 0);
    for (int i = 0; i < 5; i++) cr_assert_eq(q[i], 0.0f);
    pl_free(q);
}

Test(core_buffer, views_share_offsets_across_roles) {
    pl_layout layout;
    pl_layout_init(&layout);
    int a, b;
    cr_assert_eq(pl_layout_add(&layout, "w", 2, (int[]){3, 5}, &a, NULL), PL_OK);
    cr_assert_eq(pl_layout_add(&layout, "b", 1, (int[]){3}, &b, NULL), PL_OK);
    cr_assert_eq(pl_layout_add(&layout, "w", 1, (int[]){1}, NULL, NULL), PL_ERR_INVALID);
    cr_assert_eq(pl_layout_add(&layout, "z", 1, (int[]){0}, NULL, NULL), PL_ERR_INVALID);
    cr_assert_eq(layout.tensors[a].count, 15u);
    cr_assert_eq(layout.tensors[b].offset % 16, 0u);
    cr_assert_eq(pl_layout_find(&layout, "b"), b);
    cr_assert_eq(pl_layout_find(&layout, "nope"), -1);
    pl_buffer params, grads;
    cr_assert_eq(pl_buffer_alloc(&params, &layout, NULL), PL_OK);
    cr_assert_eq(pl_buffer_alloc(&grads, &layout, NULL), PL_OK);
    cr_assert_eq(pl_buffer_view(&params, b) - params.data, pl_buffer_view(&grads, b) - grads.data);
    pl_buffer_free(&params);
    pl_buffer_free(&grads);
    pl_layout_free(&layout);
}

Test(core_rng, pure_function_of_seed_stream_index) {
    pl_rng r = {42, 7};
    uint32_t x = pl_rng_u32(r, 1000);
    cr_assert_eq(pl_rng_u32(r, 1000), x);
    cr_assert_neq(pl_rng_u32(r, 1001), x);
    pl_rng other_stream = {42, 8}, other_seed = {43, 7};
    cr_assert_neq(pl_rng_u32(other_stream, 1000), x);
    cr_assert_neq(pl_rng_u32(other_seed, 1000), x);
}

Test(core_rng, thread_count_does_not_change_values) {
    enum { N = 4096 };
    static float one[N], two[N];
    pl_rng r = {3, 1};
    omp_set_num_threads(1);
#pragma omp parallel for
    for (int i = 0; i < N; i++) one[i] = pl_rng_normal(r, (uint64_t)i);
    omp_set_num_threads(2);
#pragma omp parallel for schedule(dynamic, 7)
    for (int i = 0; i < N; i++) two[i] = pl_rng_normal(r, (uint64_t)i);
    cr_assert_eq(memcmp(one, two, sizeof one), 0);
}

Test(core_rng, moments_are_right) {
    enum { N = 200000 };
    pl_rng r = {11, 0};
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < N; i++) {
        double u = pl_rng_uniform(r, (uint64_t)i), n = pl_rng_normal(r, (uint64_t)(N + i));
        cr_assert(u >= 0.0 && u < 1.0);
        su += u, su2 += u * u, sn += n, sn2 += n * n;
    }
    /* Standard errors at N = 2e5: ~6.5e-4 for the uniform mean, ~2.2e-3 for the normal's;
     * the bounds are about 5 standard errors. */
    cr_assert_float_eq(su / N, 0.5, 3e-3);
    cr_assert_float_eq(su2 / N - (su / N) * (su / N), 1.0 / 12.0, 3e-3);
    cr_assert_float_eq(sn / N, 0.0, 1.2e-2);
    cr_assert_float_eq(sn2 / N, 1.0, 1.5e-2);
    uint32_t counts[5] = {0};
    for (int i = 0; i < 50000; i++) counts[pl_rng_below(r, (uint64_t)i, 5)]++;
    for (int k = 0; k < 5; k++) cr_assert(counts[k] > 9500 && counts[k] < 10500);
}

Test(core_blas, sgemm_matches_naive_with_transposes) {
    enum { M = 5, N = 4, K = 3 };
    float a[K * M], b[N * K], c[M * N], ref[M * N];
    pl_rng r = {1, 2};
    for (int i = 0; i < K * M; i++) a[i] = pl_rng_normal(r, (uint64_t)i);
    for (int i = 0; i < N * K; i++) b[i] = pl_rng_normal(r, (uint64_t)(100 + i));
    /* a stored as [K][M] (so op(A) = A^T), b stored as [N][K] (op(B) = B^T). */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)a[k * M + i] * b[j * K + k];
            ref[i * N + j] = (float)s;
            c[i * N + j] = 1.0f;
        }
    pl_sgemm(true, true, M, N, K, 1.0f, a, M, b, K, 0.0f, c, N);
    for (int i = 0; i < M * N; i++) cr_assert_float_eq(c[i], ref[i], 1e-5);
}
