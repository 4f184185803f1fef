/* test_nn_linear.c - linear forward against a naive double oracle and every gradient (x, W,
 * b, A, B) against central finite differences, for the plain, masked, lora and sparselora
 * forms. Tolerances: the float kernel's sums run over at most 7 products of O(1) values, so
 * its rounding error is ~1e-6 of the scale; 1e-5 (forward) and 1e-4 (gradients) leave margin
 * while a wrong term (a missing mask, a missing scale) shows up at order 1. */
#include <string.h>

#include "nn/linear.h"
#include "nn_testutil.h"

enum { N = 5, IN = 7, OUT = 6, RANK = 3 };

typedef struct {
    adapter_kind kind;
    int use_mask, use_units; /* use_units: lora's unit keep vectors kr (rows), kc (columns) */
    double kr[OUT], kc[IN];
    double s;
    double x[N * IN], w[OUT * IN], b[OUT], m[OUT * IN], a[RANK * IN], bb[OUT * RANK];
    double r[N * OUT];
} lin_ctx;

static void ref_forward(double *y, const lin_ctx *c) {
    double weff[OUT * IN];
    for (int o = 0; o < OUT; o++)
        for (int i = 0; i < IN; i++) {
            double delta = 0.0;
            for (int k = 0; k < RANK; k++) delta += c->bb[o * RANK + k] * c->a[k * IN + i];
            const double w = c->w[o * IN + i], m = c->use_mask ? c->m[o * IN + i] : 1.0;
            double e = w * m;                                              /* masked/plain */
            if (c->kind == ADAPTER_LORA) e = w * m + c->s * delta;         /* W⊙M + sBA   */
            if (c->kind == ADAPTER_LORA && c->use_units) e *= c->kr[o] * c->kc[i]; /* ⊙U */
            if (c->kind == ADAPTER_SPARSELORA) e = (w + c->s * delta) * m; /* (W + sBA)⊙M */
            weff[o * IN + i] = e;
        }
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OUT; o++) {
            double acc = c->b[o];
            for (int i = 0; i < IN; i++) acc += c->x[n * IN + i] * weff[o * IN + i];
            y[n * OUT + o] = acc;
        }
}

static double ref_loss(void *ctx) {
    lin_ctx *c = ctx;
    double y[N * OUT];
    ref_forward(y, c);
    return tu_dot(y, c->r, N * OUT);
}

static void copy_d(double *d, const float *f, int n) {
    for (int i = 0; i < n; i++) d[i] = f[i];
}

static void check_linear_units(adapter_kind kind, int use_mask, int use_units) {
    float x[N * IN], w[OUT * IN], b[OUT], m[OUT * IN], a[RANK * IN], bb[OUT * RANK], r[N * OUT];
    tu_randn(x, N * IN, 1, 1.0f, 0.0f);
    tu_randn(w, OUT * IN, 2, 0.5f, 0.0f);
    tu_randn(b, OUT, 3, 0.5f, 0.0f);
    tu_randn(a, RANK * IN, 4, 0.5f, 0.0f);
    tu_randn(bb, OUT * RANK, 5, 0.5f, 0.0f); /* non-zero B so dA is exercised */
    tu_randn(r, N * OUT, 6, 1.0f, 0.0f);
    pl_rng rng = {77, 7};
    for (int i = 0; i < OUT * IN; i++) m[i] = pl_rng_uniform(rng, i) < 0.5f ? 0.0f : 1.0f;

    /* A removed unit's output row 2 and input columns 1 and 4 (e.g. a neuron of fc1, fc2). */
    float kr[OUT], kc[IN];
    for (int o = 0; o < OUT; o++) kr[o] = o == 2 ? 0.0f : 1.0f;
    for (int i = 0; i < IN; i++) kc[i] = (i == 1 || i == 4) ? 0.0f : 1.0f;
    lin_ctx c = {.kind = kind, .use_mask = use_mask, .use_units = use_units, .s = 0.7};
    copy_d(c.kr, kr, OUT);
    copy_d(c.kc, kc, IN);
    copy_d(c.x, x, N * IN);
    copy_d(c.w, w, OUT * IN);
    copy_d(c.b, b, OUT);
    copy_d(c.m, m, OUT * IN);
    copy_d(c.a, a, RANK * IN);
    copy_d(c.bb, bb, OUT * RANK);
    copy_d(c.r, r, N * OUT);

    linear_params p = {.weight = w, .bias = b, .mask = use_mask ? m : NULL, .adapter = kind,
                       .lora_a = a, .lora_b = bb, .rank = RANK, .scale = 0.7f,
                       .keep_rows = use_units ? kr : NULL, .keep_cols = use_units ? kc : NULL};
    float y[N * OUT], weff[OUT * IN], dweff[OUT * IN];
    linear_forward(y, weff, x, &p, N, IN, OUT);
    double yref[N * OUT];
    ref_forward(yref, &c);
    tu_check(y, yref, N * OUT, 0.0f, 1e-5, "linear forward");

    /* Gradients pre-filled with 0.25: backward must add to them. */
    float *dx = tu_alloc_f(N * IN, 0.25f), *dw = tu_alloc_f(OUT * IN, 0.25f);
    float *db = tu_alloc_f(OUT, 0.25f), *da = tu_alloc_f(RANK * IN, 0.25f);
    float *dbb = tu_alloc_f(OUT * RANK, 0.25f);
    linear_grads g = {.weight = dw, .bias = db, .lora_a = kind ? da : NULL,
                      .lora_b = kind ? dbb : NULL};
    linear_backward(dx, &g, dweff, r, x, linear_needs_weff(&p) ? weff : NULL, &p, N, IN, OUT);

    double num[OUT * IN];
    tu_numgrad(num, c.x, N * IN, ref_loss, &c);
    tu_check(dx, num, N * IN, 0.25f, 1e-4, "dx");
    tu_numgrad(num, c.w, OUT * IN, ref_loss, &c);
    tu_check(dw, num, OUT * IN, 0.25f, 1e-4, "dW");
    tu_numgrad(num, c.b, OUT, ref_loss, &c);
    tu_check(db, num, OUT, 0.25f, 1e-4, "db");
    if (kind != ADAPTER_NONE) {
        tu_numgrad(num, c.a, RANK * IN, ref_loss, &c);
        tu_check(da, num, RANK * IN, 0.25f, 1e-4, "dA");
        tu_numgrad(num, c.bb, OUT * RANK, ref_loss, &c);
        tu_check(dbb, num, OUT * RANK, 0.25f, 1e-4, "dB");
    }
    if (use_mask) /* gradients of masked weights stay masked: untouched, exactly */
        for (int i = 0; i < OUT * IN; i++)
            if (m[i] == 0.0f) cr_assert_eq(dw[i], 0.25f, "masked dW[%d] changed", i);
    if (use_units) /* removed units' rows and columns: W_eff exactly 0, dW untouched */
        for (int o = 0; o < OUT; o++)
            for (int i = 0; i < IN; i++)
                if (kr[o] == 0.0f || kc[i] == 0.0f) {
                    cr_assert_eq(weff[o * IN + i], 0.0f, "W_eff[%d, %d] of a removed unit", o, i);
                    cr_assert_eq(dw[o * IN + i], 0.25f, "dW[%d, %d] of a removed unit", o, i);
                }
    free(dx), free(dw), free(db), free(da), free(dbb);
}

static void check_linear(adapter_kind kind, int use_mask) { check_linear_units(kind, use_mask, 0); }

Test(nn_linear, plain_gradients) { check_linear(ADAPTER_NONE, 0); }
Test(nn_linear, masked_gradients) { check_linear(ADAPTER_NONE, 1); }
Test(nn_linear, lora_gradients) { check_linear(ADAPTER_LORA, 1); }
Test(nn_linear, lora_without_mask_gradients) { check_linear(ADAPTER_LORA, 0); }
Test(nn_linear, sparselora_gradients) { check_linear(ADAPTER_SPARSELORA, 1); }
Test(nn_linear, lora_with_unit_keep_vectors_gradients) { check_linear_units(ADAPTER_LORA, 1, 1); }
Test(nn_linear, lora_with_unit_keep_vectors_without_mask_gradients) { check_linear_units(ADAPTER_LORA, 0, 1); }

Test(nn_linear, sparselora_weff_keeps_sparsity) {
    /* (W + s·B·A)⊙M is zero wherever M is, even with a dense delta; lora's W⊙M + sBA is not. */
    float w[OUT * IN], m[OUT * IN], a[RANK * IN], bb[OUT * RANK], weff[OUT * IN];
    tu_randn(w, OUT * IN, 11, 1.0f, 0.0f);
    tu_randn(a, RANK * IN, 12, 1.0f, 0.0f);
    tu_randn(bb, OUT * RANK, 13, 1.0f, 0.0f);
    for (int i = 0; i < OUT * IN; i++) m[i] = (float)(i % 2);
    linear_params p = {.weight = w, .mask = m, .adapter = ADAPTER_SPARSELORA, .lora_a = a,
                       .lora_b = bb, .rank = RANK, .scale = 2.0f};
    linear_effective_weight(weff, &p, IN, OUT);
    int lora_nonzero = 0;
    for (int i = 0; i < OUT * IN; i++)
        if (m[i] == 0.0f) cr_assert_eq(weff[i], 0.0f);
    p.adapter = ADAPTER_LORA;
    linear_effective_weight(weff, &p, IN, OUT);
    for (int i = 0; i < OUT * IN; i++) lora_nonzero += m[i] == 0.0f && weff[i] != 0.0f;
    cr_assert_gt(lora_nonzero, 0);
    p.adapter = ADAPTER_NONE;
    p.mask = NULL;
    cr_assert_eq(linear_needs_weff(&p), 0);
    cr_assert_eq(linear_effective_weight(weff, &p, IN, OUT), w);
}
