/* test_nn_activations.c - tanh-GELU, softmax and residual: forward against double oracles,
 * backward against central finite differences. Element-wise or 9-wide rows: float error is a
 * few ulps (~1e-7 relative), so 1e-5 / 1e-4 tolerances are generous yet catch any wrong term. */
#include <string.h>

#include "nn/activations.h"
#include "nn_testutil.h"

enum { NE = 40, SN = 5, SC = 9 };

static double gelu_d(double x) {
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
}

typedef struct {
    double x[NE], r[NE];
} ew_ctx;

static double gelu_loss(void *ctx) {
    ew_ctx *c = ctx;
    double s = 0.0;
    for (int i = 0; i < NE; i++) s += gelu_d(c->x[i]) * c->r[i];
    return s;
}

Test(nn_activations, gelu) {
    float x[NE], r[NE], y[NE];
    tu_randn(x, NE, 31, 2.0f, 0.0f);
    tu_randn(r, NE, 32, 1.0f, 0.0f);
    ew_ctx c;
    double yref[NE];
    for (int i = 0; i < NE; i++) c.x[i] = x[i], c.r[i] = r[i], yref[i] = gelu_d(x[i]);
    gelu_forward(y, x, NE);
    tu_check(y, yref, NE, 0.0f, 1e-5, "gelu forward");
    float *dx = tu_alloc_f(NE, 0.25f);
    gelu_backward(dx, x, r, NE);
    double num[NE];
    tu_numgrad(num, c.x, NE, gelu_loss, &c);
    tu_check(dx, num, NE, 0.25f, 1e-4, "gelu dx");
    /* The training pair: the kept derivative times r is the same gradient. */
    float kept[NE], y2[NE], d[NE];
    memcpy(kept, x, sizeof kept);
    memcpy(d, r, sizeof d);
    gelu_forward_keep_grad(y2, kept, NE);
    tu_check(y2, yref, NE, 0.0f, 1e-5, "gelu forward (keep grad)");
    gelu_backward_from_grad(d, kept, NE);
    tu_check(d, num, NE, 0.0f, 1e-4, "gelu dx (kept grad)");
    free(dx);
}

typedef struct {
    double x[SN * SC], r[SN * SC];
} sm_ctx;

static void softmax_d(double *y, const double *x) {
    for (int i = 0; i < SN; i++) {
        double mx = x[i * SC], z = 0.0;
        for (int j = 1; j < SC; j++) mx = fmax(mx, x[i * SC + j]);
        for (int j = 0; j < SC; j++) z += exp(x[i * SC + j] - mx);
        for (int j = 0; j < SC; j++) y[i * SC + j] = exp(x[i * SC + j] - mx) / z;
    }
}

static double softmax_loss(void *ctx) {
    sm_ctx *c = ctx;
    double y[SN * SC];
    softmax_d(y, c->x);
    return tu_dot(y, c->r, SN * SC);
}

Test(nn_activations, softmax) {
    float x[SN * SC], r[SN * SC], y[SN * SC];
    tu_randn(x, SN * SC, 33, 3.0f, 10.0f); /* large offset: needs the max subtraction */
    tu_randn(r, SN * SC, 34, 1.0f, 0.0f);
    sm_ctx c;
    for (int i = 0; i < SN * SC; i++) c.x[i] = x[i], c.r[i] = r[i];
    double yref[SN * SC];
    softmax_d(yref, c.x);
    softmax_forward(y, x, SN, SC);
    tu_check(y, yref, SN * SC, 0.0f, 1e-6, "softmax forward");
    float *dx = tu_alloc_f(SN * SC, 0.25f);
    softmax_backward(dx, y, r, SN, SC);
    double num[SN * SC];
    tu_numgrad(num, c.x, SN * SC, softmax_loss, &c);
    tu_check(dx, num, SN * SC, 0.25f, 1e-5, "softmax dx");
    free(dx);
}

typedef struct {
    double a[NE], b[NE], r[NE];
} res_ctx;

static double residual_loss(void *ctx) {
    res_ctx *c = ctx;
    double s = 0.0;
    for (int i = 0; i < NE; i++) s += (c->a[i] + c->b[i]) * c->r[i];
    return s;
}

Test(nn_activations, residual) {
    float a[NE], b[NE], r[NE], y[NE];
    tu_randn(a, NE, 35, 1.0f, 0.0f);
    tu_randn(b, NE, 36, 1.0f, 0.0f);
    tu_randn(r, NE, 37, 1.0f, 0.0f);
    res_ctx c;
    double yref[NE];
    for (int i = 0; i < NE; i++) c.a[i] = a[i], c.b[i] = b[i], c.r[i] = r[i], yref[i] = (double)a[i] + b[i];
    residual_forward(y, a, b, NE);
    tu_check(y, yref, NE, 0.0f, 1e-6, "residual forward");
    float *da = tu_alloc_f(NE, 0.25f), *db = tu_alloc_f(NE, 0.25f);
    residual_backward(da, db, r, NE);
    double num[NE];
    tu_numgrad(num, c.a, NE, residual_loss, &c);
    tu_check(da, num, NE, 0.25f, 1e-6, "residual da");
    tu_numgrad(num, c.b, NE, residual_loss, &c);
    tu_check(db, num, NE, 0.25f, 1e-6, "residual db");
    free(da), free(db);
}
