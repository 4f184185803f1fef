/* test_nn_attention.c - multi-head attention forward against a naive double oracle and its
 * gradients against central finite differences: packed qkv (stride 3C) bidirectional and
 * causal, each also with a loss on the probabilities themselves (the extra ∂L/∂att that
 * attention-map distillation hands to backward), and cross-attention with Tq ≠ Tkv composed with linear projections of different
 * input widths (queries from width 8, keys/values from width 12).
 * Tolerances: sums over ≤ 12 terms of O(1) floats plus expf (≤ 2 ulp) keep the float kernels
 * within ~1e-6 of the scale; 1e-5 forward and 1e-4 gradients leave margin. */
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn_testutil.h"

static void ref_attention(double *out, double *att, const double *q, int qs, const double *k,
                          const double *v, int kvs, int B, int Tq, int Tkv, int C, int H,
                          int causal) {
    const int hs = C / H;
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Tq; i++) {
                double s[64], mx = -1e300, z = 0.0;
                const int lim = causal ? i + 1 : Tkv;
                for (int j = 0; j < lim; j++) {
                    double d = 0.0;
                    for (int e = 0; e < hs; e++)
                        d += q[(b * Tq + i) * qs + h * hs + e] * k[(b * Tkv + j) * kvs + h * hs + e];
                    s[j] = d / sqrt((double)hs);
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j < lim; j++) z += exp(s[j] - mx);
                for (int j = 0; j < Tkv; j++) {
                    const double p = j < lim ? exp(s[j] - mx) / z : 0.0;
                    if (att != NULL) att[((b * H + h) * Tq + i) * Tkv + j] = p;
                    s[j] = p;
                }
                for (int e = 0; e < hs; e++) {
                    double o = 0.0;
                    for (int j = 0; j < Tkv; j++) o += s[j] * v[(b * Tkv + j) * kvs + h * hs + e];
                    out[(b * Tq + i) * C + h * hs + e] = o;
                }
            }
}

/* ---- self-attention on a packed qkv activation ---- */
enum { SB = 2, ST = 5, SC = 8, SH = 2 };

enum { NA = SB * SH * ST * ST };

/* Loss Σ out·r + Σ att·ra: dout = r, datt = ra (ra all zero: no loss on att). */
typedef struct {
    int causal;
    double qkv[SB * ST * 3 * SC], r[SB * ST * SC], ra[NA];
} self_ctx;

static double self_loss(void *ctx) {
    self_ctx *c = ctx;
    double out[SB * ST * SC], att[NA];
    ref_attention(out, att, c->qkv, 3 * SC, c->qkv + SC, c->qkv + 2 * SC, 3 * SC, SB, ST, ST,
                  SC, SH, c->causal);
    return tu_dot(out, c->r, SB * ST * SC) + tu_dot(att, c->ra, NA);
}

static void check_self(int causal, int with_datt) {
    enum { NQKV = SB * ST * 3 * SC, NO = SB * ST * SC };
    float qkv[NQKV], r[NO], out[NO], att[NA], ra[NA];
    tu_randn(qkv, NQKV, 51, 1.0f, 0.0f);
    tu_randn(r, NO, 52, 1.0f, 0.0f);
    tu_randn(ra, NA, 53, with_datt ? 2.0f : 0.0f, 0.0f);
    self_ctx c = {.causal = causal};
    for (int i = 0; i < NQKV; i++) c.qkv[i] = qkv[i];
    for (int i = 0; i < NO; i++) c.r[i] = r[i];
    for (int i = 0; i < NA; i++) c.ra[i] = ra[i];
    attention_forward(out, att, qkv, 3 * SC, qkv + SC, qkv + 2 * SC, 3 * SC, SB, ST, ST, SC, SH,
                      causal);
    double oref[NO], aref[NA];
    ref_attention(oref, aref, c.qkv, 3 * SC, c.qkv + SC, c.qkv + 2 * SC, 3 * SC, SB, ST, ST, SC,
                  SH, causal);
    tu_check(out, oref, NO, 0.0f, 1e-5, "attention out");
    tu_check(att, aref, NA, 0.0f, 1e-6, "attention probabilities");
    if (causal) /* future keys get exactly zero probability */
        for (int bh = 0; bh < SB * SH; bh++)
            for (int i = 0; i < ST; i++)
                for (int j = i + 1; j < ST; j++) cr_assert_eq(att[(bh * ST + i) * ST + j], 0.0f);
    float *dqkv = tu_alloc_f(NQKV, 0.25f);
    attention_backward(dqkv, dqkv + SC, dqkv + 2 * SC, r, with_datt ? ra : NULL, att, qkv,
                       3 * SC, qkv + SC, qkv + 2 * SC, 3 * SC, SB, ST, ST, SC, SH, causal);
    double num[NQKV];
    tu_numgrad(num, c.qkv, NQKV, self_loss, &c);
    tu_check(dqkv, num, NQKV, 0.25f, 1e-4, causal ? "causal dqkv" : "bidirectional dqkv");
    free(dqkv);
}

Test(nn_attention, bidirectional_packed_qkv) { check_self(0, 0); }
Test(nn_attention, causal_packed_qkv) { check_self(1, 0); }
/* ra is random over every entry, masked ones too: those must get no gradient. */
Test(nn_attention, bidirectional_with_loss_on_probabilities) { check_self(0, 1); }
Test(nn_attention, causal_with_loss_on_probabilities) { check_self(1, 1); }

/* ---- cross-attention: q = xq·Wqᵀ + bq (width 8), k/v = xkv·Wk/vᵀ + bk/v (width 12) ---- */
enum { XB = 2, TQ = 3, TKV = 5, XC = 8, XH = 2, DQ = 8, DKV = 12 };

typedef struct {
    double xq[XB * TQ * DQ], xkv[XB * TKV * DKV];
    double wq[XC * DQ], bq[XC], wk[XC * DKV], bk[XC], wv[XC * DKV], bv[XC];
    double r[XB * TQ * XC];
} cross_ctx;

static void ref_linear(double *y, const double *x, const double *w, const double *b, int n,
                       int in, int out) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int j = 0; j < in; j++) s += x[i * in + j] * w[o * in + j];
            y[i * out + o] = s;
        }
}

static double cross_loss(void *ctx) {
    cross_ctx *c = ctx;
    double q[XB * TQ * XC], k[XB * TKV * XC], v[XB * TKV * XC], out[XB * TQ * XC];
    ref_linear(q, c->xq, c->wq, c->bq, XB * TQ, DQ, XC);
    ref_linear(k, c->xkv, c->wk, c->bk, XB * TKV, DKV, XC);
    ref_linear(v, c->xkv, c->wv, c->bv, XB * TKV, DKV, XC);
    ref_attention(out, NULL, q, XC, k, v, XC, XB, TQ, TKV, XC, XH, 0);
    return tu_dot(out, c->r, XB * TQ * XC);
}

static void to_d(double *d, const float *f, int n) {
    for (int i = 0; i < n; i++) d[i] = f[i];
}

Test(nn_attention, cross_with_projections_of_different_widths) {
    enum { NXQ = XB * TQ * DQ, NXKV = XB * TKV * DKV, NQ = XB * TQ * XC, NK = XB * TKV * XC };
    float xq[NXQ], xkv[NXKV], wq[XC * DQ], bq[XC], wk[XC * DKV], bk[XC], wv[XC * DKV], bv[XC];
    float r[NQ], q[NQ], k[NK], v[NK], out[NQ], att[XB * XH * TQ * TKV];
    tu_randn(xq, NXQ, 61, 1.0f, 0.0f);
    tu_randn(xkv, NXKV, 62, 1.0f, 0.0f);
    tu_randn(wq, XC * DQ, 63, 0.4f, 0.0f);
    tu_randn(wk, XC * DKV, 64, 0.4f, 0.0f);
    tu_randn(wv, XC * DKV, 65, 0.4f, 0.0f);
    tu_randn(bq, XC, 66, 0.1f, 0.0f);
    tu_randn(bk, XC, 67, 0.1f, 0.0f);
    tu_randn(bv, XC, 68, 0.1f, 0.0f);
    tu_randn(r, NQ, 69, 1.0f, 0.0f);
    cross_ctx c;
    to_d(c.xq, xq, NXQ), to_d(c.xkv, xkv, NXKV), to_d(c.wq, wq, XC * DQ), to_d(c.bq, bq, XC);
    to_d(c.wk, wk, XC * DKV), to_d(c.bk, bk, XC), to_d(c.wv, wv, XC * DKV), to_d(c.bv, bv, XC);
    to_d(c.r, r, NQ);

    linear_params pq = {.weight = wq, .bias = bq}, pk = {.weight = wk, .bias = bk},
                  pv = {.weight = wv, .bias = bv};
    linear_forward(q, NULL, xq, &pq, XB * TQ, DQ, XC);
    linear_forward(k, NULL, xkv, &pk, XB * TKV, DKV, XC);
    linear_forward(v, NULL, xkv, &pv, XB * TKV, DKV, XC);
    attention_forward(out, att, q, XC, k, v, XC, XB, TQ, TKV, XC, XH, 0);

    double qd[NQ], kd[NK], vd[NK], oref[NQ];
    ref_linear(qd, c.xq, c.wq, c.bq, XB * TQ, DQ, XC);
    ref_linear(kd, c.xkv, c.wk, c.bk, XB * TKV, DKV, XC);
    ref_linear(vd, c.xkv, c.wv, c.bv, XB * TKV, DKV, XC);
    ref_attention(oref, NULL, qd, XC, kd, vd, XC, XB, TQ, TKV, XC, XH, 0);
    tu_check(out, oref, NQ, 0.0f, 1e-5, "cross-attention out");

    float *dq = tu_alloc_f(NQ, 0.0f), *dk = tu_alloc_f(NK, 0.0f), *dv = tu_alloc_f(NK, 0.0f);
    attention_backward(dq, dk, dv, r, NULL, att, q, XC, k, v, XC, XB, TQ, TKV, XC, XH, 0);
    float *dxq = tu_alloc_f(NXQ, 0.0f), *dxkv = tu_alloc_f(NXKV, 0.0f);
    float *dwq = tu_alloc_f(XC * DQ, 0.0f), *dwk = tu_alloc_f(XC * DKV, 0.0f);
    float *dwv = tu_alloc_f(XC * DKV, 0.0f), *dbk = tu_alloc_f(XC, 0.0f);
    linear_grads gq = {.weight = dwq}, gk = {.weight = dwk, .bias = dbk}, gv = {.weight = dwv};
    linear_backward(dxq, &gq, NULL, dq, xq, NULL, &pq, XB * TQ, DQ, XC);
    linear_backward(dxkv, &gk, NULL, dk, xkv, NULL, &pk, XB * TKV, DKV, XC);
    linear_backward(dxkv, &gv, NULL, dv, xkv, NULL, &pv, XB * TKV, DKV, XC); /* adds to dxkv */

    double num[NXKV];
    tu_numgrad(num, c.xq, NXQ, cross_loss, &c);
    tu_check(dxq, num, NXQ, 0.0f, 1e-4, "cross dxq");
    tu_numgrad(num, c.xkv, NXKV, cross_loss, &c);
    tu_check(dxkv, num, NXKV, 0.0f, 1e-4, "cross dxkv");
    tu_numgrad(num, c.wq, XC * DQ, cross_loss, &c);
    tu_check(dwq, num, XC * DQ, 0.0f, 1e-4, "cross dWq");
    tu_numgrad(num, c.wk, XC * DKV, cross_loss, &c);
    tu_check(dwk, num, XC * DKV, 0.0f, 1e-4, "cross dWk");
    tu_numgrad(num, c.wv, XC * DKV, cross_loss, &c);
    tu_check(dwv, num, XC * DKV, 0.0f, 1e-4, "cross dWv");
    tu_numgrad(num, c.bk, XC, cross_loss, &c); /* softmax is shift-invariant: ≈ 0 */
    tu_check(dbk, num, XC, 0.0f, 1e-4, "cross dbk");
    free(dq), free(dk), free(dv), free(dxq), free(dxkv), free(dwq), free(dwk), free(dwv), free(dbk);
}
