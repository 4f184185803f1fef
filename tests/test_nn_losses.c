/* test_nn_losses.c - cross-entropy with ignored rows, temperature KL and MSE: values against
 * double oracles (and hand-computed cases), gradients against central finite differences.
 * Tolerances: rows of ≤ 7 values summed in float (≈1e-7 relative), so 1e-5 for values and
 * 1e-5 of the scale for gradients. */
#include "nn/losses.h"
#include "nn_testutil.h"

enum { N = 6, V = 7 };

/* ---- cross-entropy ---- */
static const int targets[N] = {3, -1, 0, 6, -1, 2}; /* rows 1 and 4 ignored */

typedef struct {
    double x[N * V];
} ce_ctx;

static double lse_row(const double *x, int v, double inv_t) {
    double mx = x[0] * inv_t, z = 0.0;
    for (int j = 1; j < v; j++) mx = fmax(mx, x[j] * inv_t);
    for (int j = 0; j < v; j++) z += exp(x[j] * inv_t - mx);
    return mx + log(z);
}

static double ce_loss(void *ctx) {
    ce_ctx *c = ctx;
    double s = 0.0;
    int cnt = 0;
    for (int i = 0; i < N; i++)
        if (targets[i] >= 0) s += lse_row(c->x + i * V, V, 1.0) - c->x[i * V + targets[i]], cnt++;
    return s / cnt;
}

Test(nn_losses, crossentropy_ignores_rows) {
    float x[N * V], probs[N * V];
    tu_randn(x, N * V, 71, 2.0f, 0.0f);
    ce_ctx c;
    for (int i = 0; i < N * V; i++) c.x[i] = x[i];
    int counted = -1;
    const float loss = crossentropy_forward(probs, x, targets, N, V, &counted);
    cr_assert_eq(counted, 4);
    cr_assert_float_eq(loss, ce_loss(&c), 1e-5);
    double pref[N * V];
    for (int i = 0; i < N; i++) {
        const double z = lse_row(c.x + i * V, V, 1.0);
        for (int j = 0; j < V; j++) pref[i * V + j] = exp(c.x[i * V + j] - z);
    }
    tu_check(probs, pref, N * V, 0.0f, 1e-6, "crossentropy probs");

    const float dloss = 1.3f;
    float *dx = tu_alloc_f(N * V, 0.25f);
    crossentropy_backward(dx, probs, targets, N, V, dloss);
    double num[N * V];
    tu_numgrad(num, c.x, N * V, ce_loss, &c);
    for (int i = 0; i < N * V; i++) num[i] *= dloss;
    tu_check(dx, num, N * V, 0.25f, 1e-5, "crossentropy dlogits");
    for (int j = 0; j < V; j++) cr_assert_eq(dx[1 * V + j], 0.25f); /* ignored row untouched */

    const int none[2] = {-1, -1};
    cr_assert_eq(crossentropy_forward(probs, x, none, 2, V, &counted), 0.0f);
    cr_assert_eq(counted, 0);
    free(dx);
}

/* ---- KL(teacher ‖ student) with temperature ---- */
static const unsigned char use[N] = {1, 0, 1, 1, 1, 0};
static const double temp = 2.0;

typedef struct {
    double s[N * V], t[N * V];
} kl_ctx;

static double kl_loss(void *ctx) {
    kl_ctx *c = ctx;
    double total = 0.0;
    int used = 0;
    for (int i = 0; i < N; i++) {
        if (!use[i]) continue;
        used++;
        const double zt = lse_row(c->t + i * V, V, 1.0 / temp);
        const double zs = lse_row(c->s + i * V, V, 1.0 / temp);
        for (int j = 0; j < V; j++) {
            const double lp = c->t[i * V + j] / temp - zt, lq = c->s[i * V + j] / temp - zs;
            total += exp(lp) * (lp - lq);
        }
    }
    return temp * temp * total / used;
}

Test(nn_losses, kl_with_temperature) {
    float s[N * V], t[N * V], p[N * V], q[N * V];
    tu_randn(s, N * V, 72, 2.0f, 0.0f);
    tu_randn(t, N * V, 73, 2.0f, 0.0f);
    kl_ctx c;
    for (int i = 0; i < N * V; i++) c.s[i] = s[i], c.t[i] = t[i];
    const float loss = kl_forward(p, q, s, t, use, N, V, (float)temp);
    cr_assert_float_eq(loss, kl_loss(&c), 1e-5);
    const float dloss = 0.7f;
    float *ds = tu_alloc_f(N * V, 0.25f);
    kl_backward(ds, p, q, use, N, V, (float)temp, dloss);
    double num[N * V];
    tu_numgrad(num, c.s, N * V, kl_loss, &c);
    for (int i = 0; i < N * V; i++) num[i] *= dloss;
    tu_check(ds, num, N * V, 0.25f, 1e-5, "kl dstudent");
    free(ds);
}

Test(nn_losses, kl_hand_computed) {
    /* T = 2, teacher logits [0, 0] ⇒ p = [1/2, 1/2]; student logits [2·ln 3, 0] ⇒ s/T =
     * [ln 3, 0] ⇒ q = [3/4, 1/4]. KL(p‖q) = ½·ln(½ / ¾) + ½·ln(½ / ¼) = ½·ln(4/3);
     * L = T²·KL = 2·ln(4/3) = 0.5753641449. */
    const float s[2] = {2.0f * logf(3.0f), 0.0f}, t[2] = {0.0f, 0.0f};
    float p[2], q[2];
    const float loss = kl_forward(p, q, s, t, NULL, 1, 2, 2.0f);
    cr_assert_float_eq(loss, 0.5753641449f, 1e-6);
    cr_assert_float_eq(q[0], 0.75f, 1e-6);
    /* identical logits ⇒ zero divergence */
    cr_assert_float_eq(kl_forward(p, q, t, t, NULL, 1, 2, 3.0f), 0.0f, 1e-7);
}

/* ---- MSE ---- */
enum { M = 11 };
typedef struct {
    double a[M], b[M];
} mse_ctx;

static double mse_loss(void *ctx) {
    mse_ctx *c = ctx;
    double s = 0.0;
    for (int i = 0; i < M; i++) s += (c->a[i] - c->b[i]) * (c->a[i] - c->b[i]);
    return s / M;
}

Test(nn_losses, mse) {
    const float ha[3] = {1, 2, 3}, hb[3] = {0, 2, 5};
    cr_assert_float_eq(mse_forward(ha, hb, 3), 5.0f / 3.0f, 1e-6); /* (1 + 0 + 4)/3 */
    float a[M], b[M];
    tu_randn(a, M, 74, 1.0f, 0.0f);
    tu_randn(b, M, 75, 1.0f, 0.0f);
    mse_ctx c;
    for (int i = 0; i < M; i++) c.a[i] = a[i], c.b[i] = b[i];
    cr_assert_float_eq(mse_forward(a, b, M), mse_loss(&c), 1e-5);
    const float dloss = 0.7f;
    float *da = tu_alloc_f(M, 0.25f), *db = tu_alloc_f(M, 0.25f);
    mse_backward(da, db, a, b, M, dloss);
    double num[M];
    tu_numgrad(num, c.a, M, mse_loss, &c);
    for (int i = 0; i < M; i++) num[i] *= dloss;
    tu_check(da, num, M, 0.25f, 1e-5, "mse da");
    tu_numgrad(num, c.b, M, mse_loss, &c);
    for (int i = 0; i < M; i++) num[i] *= dloss;
    tu_check(db, num, M, 0.25f, 1e-5, "mse db");
    free(da), free(db);
}
