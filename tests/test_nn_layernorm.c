/* test_nn_layernorm.c - layernorm forward (outputs, mean, rstd) against a double oracle and
 * dx, dweight, dbias against central finite differences. Rows of 10 values: float rounding in
 * the kernel is ~1e-6 relative; 1e-5 forward / 1e-4 gradient tolerances leave margin. */
#include "nn/layernorm.h"
#include "nn_testutil.h"

enum { N = 4, C = 10 };

typedef struct {
    double x[N * C], w[C], b[C], r[N * C];
} ln_ctx;

static void ref_forward(double *y, double *mean, double *rstd, const ln_ctx *c) {
    for (int i = 0; i < N; i++) {
        double mu = 0.0, var = 0.0;
        for (int j = 0; j < C; j++) mu += c->x[i * C + j];
        mu /= C;
        for (int j = 0; j < C; j++) var += (c->x[i * C + j] - mu) * (c->x[i * C + j] - mu);
        var /= C;
        const double rs = 1.0 / sqrt(var + 1e-5);
        for (int j = 0; j < C; j++) y[i * C + j] = (c->x[i * C + j] - mu) * rs * c->w[j] + c->b[j];
        mean[i] = mu;
        rstd[i] = rs;
    }
}

static double ref_loss(void *ctx) {
    ln_ctx *c = ctx;
    double y[N * C], mean[N], rstd[N];
    ref_forward(y, mean, rstd, c);
    return tu_dot(y, c->r, N * C);
}

Test(nn_layernorm, forward_and_gradients) {
    float x[N * C], w[C], b[C], r[N * C], y[N * C], mean[N], rstd[N];
    tu_randn(x, N * C, 21, 2.0f, 0.5f);
    tu_randn(w, C, 22, 0.3f, 1.0f);
    tu_randn(b, C, 23, 0.3f, 0.0f);
    tu_randn(r, N * C, 24, 1.0f, 0.0f);
    ln_ctx c;
    for (int i = 0; i < N * C; i++) c.x[i] = x[i], c.r[i] = r[i];
    for (int j = 0; j < C; j++) c.w[j] = w[j], c.b[j] = b[j];

    layernorm_forward(y, mean, rstd, x, w, b, N, C);
    double yref[N * C], mref[N], rref[N];
    ref_forward(yref, mref, rref, &c);
    tu_check(y, yref, N * C, 0.0f, 1e-5, "layernorm out");
    tu_check(mean, mref, N, 0.0f, 1e-5, "layernorm mean");
    tu_check(rstd, rref, N, 0.0f, 1e-5, "layernorm rstd");

    float *dx = tu_alloc_f(N * C, 0.25f), *dw = tu_alloc_f(C, 0.25f), *db = tu_alloc_f(C, 0.25f);
    layernorm_backward(dx, dw, db, r, x, w, mean, rstd, N, C);
    double num[N * C];
    tu_numgrad(num, c.x, N * C, ref_loss, &c);
    tu_check(dx, num, N * C, 0.25f, 1e-4, "layernorm dx");
    tu_numgrad(num, c.w, C, ref_loss, &c);
    tu_check(dw, num, C, 0.25f, 1e-4, "layernorm dweight");
    tu_numgrad(num, c.b, C, ref_loss, &c);
    tu_check(db, num, C, 0.25f, 1e-4, "layernorm dbias");
    free(dx), free(dw), free(db);
}
