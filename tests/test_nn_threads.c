/* test_nn_threads.c - every kernel gives bit-identical results with 1 and 2 threads: each
 * scenario runs forward and backward into one result array, once per thread count, and the
 * two arrays are compared with memcmp. Sizes are large enough for the parallel loops, the
 * chunked reductions (several rounds) and OpenBLAS's own threading to split work. */
#include <string.h>

#include "core/threads.h"
#include "nn/activations.h"
#include "nn/attention.h"
#include "nn/embedding.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/losses.h"
#include "nn_testutil.h"
#include "tune/optimizer.h"

typedef void (*scenario_fn)(float *res);

static void same_with_1_and_2_threads(scenario_fn fn, size_t n) {
    float *r1 = tu_alloc_f(n, 0.0f), *r2 = tu_alloc_f(n, 0.0f);
    pl_threads_set(1);
    fn(r1);
    pl_threads_set(2);
    fn(r2);
    cr_assert(memcmp(r1, r2, n * sizeof(float)) == 0, "results differ between 1 and 2 threads");
    free(r1), free(r2);
}

/* linear, sparselora rank 8: res = y | dx | dW | db | dA | dB */
enum { LN = 300, LI = 96, LO = 160, LR = 8 };
static void linear_scenario(float *res) {
    float *x = tu_alloc_f(LN * LI, 0), *w = tu_alloc_f(LO * LI, 0), *b = tu_alloc_f(LO, 0);
    float *m = tu_alloc_f(LO * LI, 0), *a = tu_alloc_f(LR * LI, 0), *bb = tu_alloc_f(LO * LR, 0);
    float *dy = tu_alloc_f(LN * LO, 0), *weff = tu_alloc_f(LO * LI, 0), *dweff = tu_alloc_f(LO * LI, 0);
    tu_randn(x, LN * LI, 1, 1, 0), tu_randn(w, LO * LI, 2, 1, 0), tu_randn(b, LO, 3, 1, 0);
    tu_randn(a, LR * LI, 4, 1, 0), tu_randn(bb, LO * LR, 5, 1, 0), tu_randn(dy, LN * LO, 6, 1, 0);
    for (int i = 0; i < LO * LI; i++) m[i] = (float)((i * 7) % 3 != 0);
    linear_params p = {w, b, m, ADAPTER_SPARSELORA, a, bb, LR, 2.0f, NULL, NULL, NULL};
    float *y = res, *dx = y + LN * LO, *dw = dx + LN * LI, *db = dw + LO * LI;
    float *da = db + LO, *dbb = da + LR * LI;
    linear_forward(y, weff, x, &p, LN, LI, LO);
    linear_grads g = {dw, db, da, dbb};
    linear_backward(dx, &g, dweff, dy, x, weff, &p, LN, LI, LO);
    linear_params plain = {w, b, NULL, ADAPTER_NONE, NULL, NULL, 0, 0.0f, NULL, NULL, NULL};
    linear_grads gp = {dw, db, NULL, NULL};
    linear_forward(y, NULL, x, &plain, LN, LI, LO); /* plain path accumulates on top */
    linear_backward(dx, &gp, NULL, dy, x, NULL, &plain, LN, LI, LO);
    free(x), free(w), free(b), free(m), free(a), free(bb), free(dy), free(weff), free(dweff);
}
Test(nn_threads, linear) {
    same_with_1_and_2_threads(linear_scenario, LN * LO + LN * LI + LO * LI + LO + LR * LI + LO * LR);
}

/* layernorm: res = out | mean | rstd | dx | dw | db */
enum { NN = 333, NC = 80 };
static void layernorm_scenario(float *res) {
    float *x = tu_alloc_f(NN * NC, 0), *w = tu_alloc_f(NC, 0), *b = tu_alloc_f(NC, 0);
    float *dy = tu_alloc_f(NN * NC, 0);
    tu_randn(x, NN * NC, 7, 1, 0), tu_randn(w, NC, 8, 1, 1), tu_randn(b, NC, 9, 1, 0);
    tu_randn(dy, NN * NC, 10, 1, 0);
    float *out = res, *mean = out + NN * NC, *rstd = mean + NN, *dx = rstd + NN;
    float *dw = dx + NN * NC, *db = dw + NC;
    layernorm_forward(out, mean, rstd, x, w, b, NN, NC);
    layernorm_backward(dx, dw, db, dy, x, w, mean, rstd, NN, NC);
    free(x), free(w), free(b), free(dy);
}
Test(nn_threads, layernorm) { same_with_1_and_2_threads(layernorm_scenario, 2 * NN * NC + 2 * NN + 2 * NC); }

/* gelu, softmax, residual: res = gelu | dgelu | softmax | dsoftmax | sum | da | db */
enum { AE = 10007, SN = 100, SC = 77 }; /* softmax reads SN·SC ≤ AE inputs */
static void activations_scenario(float *res) {
    float *x = tu_alloc_f(AE, 0), *dy = tu_alloc_f(AE, 0);
    tu_randn(x, AE, 11, 2, 0), tu_randn(dy, AE, 12, 1, 0);
    float *g = res, *dg = g + AE, *s = dg + AE, *ds = s + SN * SC, *sum = ds + SN * SC;
    float *da = sum + AE, *db = da + AE;
    gelu_forward(g, x, AE);
    gelu_backward(dg, x, dy, AE);
    softmax_forward(s, x, SN, SC);
    softmax_backward(ds, s, dy, SN, SC);
    residual_forward(sum, x, dy, AE);
    residual_backward(da, db, dy, AE);
    free(x), free(dy);
}
Test(nn_threads, activations) { same_with_1_and_2_threads(activations_scenario, 5 * AE + 2 * SN * SC); }

/* attention: causal self (packed qkv, with an extra ∂L/∂att) then cross (Tq 9, Tkv 23):
 * res = out | att | dqkv | out2 | att2 | dq | dk | dv */
enum { AB = 4, AT = 17, AC = 32, AH = 4, XQ = 9, XK = 23 };
static void attention_scenario(float *res) {
    float *qkv = tu_alloc_f(AB * AT * 3 * AC, 0), *dy = tu_alloc_f(AB * AT * AC, 0);
    float *q = tu_alloc_f(AB * XQ * AC, 0), *kv = tu_alloc_f(AB * XK * 2 * AC, 0);
    tu_randn(qkv, AB * AT * 3 * AC, 13, 1, 0), tu_randn(dy, AB * AT * AC, 14, 1, 0);
    tu_randn(q, AB * XQ * AC, 15, 1, 0), tu_randn(kv, AB * XK * 2 * AC, 16, 1, 0);
    float *datt = tu_alloc_f(AB * AH * AT * AT, 0);
    tu_randn(datt, AB * AH * AT * AT, 17, 1, 0);
    float *out = res, *att = out + AB * AT * AC, *dqkv = att + AB * AH * AT * AT;
    float *out2 = dqkv + AB * AT * 3 * AC, *att2 = out2 + AB * XQ * AC;
    float *dq = att2 + AB * AH * XQ * XK, *dkv = dq + AB * XQ * AC;
    attention_forward(out, att, qkv, 3 * AC, qkv + AC, qkv + 2 * AC, 3 * AC, AB, AT, AT, AC, AH, 1);
    attention_backward(dqkv, dqkv + AC, dqkv + 2 * AC, dy, datt, att, qkv, 3 * AC, qkv + AC,
                       qkv + 2 * AC, 3 * AC, AB, AT, AT, AC, AH, 1);
    attention_forward(out2, att2, q, AC, kv, kv + AC, 2 * AC, AB, XQ, XK, AC, AH, 0);
    attention_backward(dq, dkv, dkv + AC, dy, NULL, att2, q, AC, kv, kv + AC, 2 * AC, AB, XQ, XK,
                       AC, AH, 0);
    free(qkv), free(dy), free(q), free(kv), free(datt);
}
Test(nn_threads, attention) {
    same_with_1_and_2_threads(attention_scenario, AB * AT * AC + AB * AH * AT * AT + AB * AT * 3 * AC +
                                                      2 * AB * XQ * AC + AB * AH * XQ * XK +
                                                      AB * XK * 2 * AC);
}

/* embedding with many repeated ids: res = out | dtable */
enum { EV = 50, EN = 500, EC = 48 };
static void embedding_scenario(float *res) {
    float *table = tu_alloc_f(EV * EC, 0), *dy = tu_alloc_f(EN * EC, 0);
    int ids[EN];
    for (int i = 0; i < EN; i++) ids[i] = (i * 37) % EV;
    tu_randn(table, EV * EC, 17, 1, 0), tu_randn(dy, EN * EC, 18, 1, 0);
    embedding_forward(res, ids, table, EN, EC);
    embedding_backward(res + EN * EC, dy, ids, EN, EC);
    free(table), free(dy);
}
Test(nn_threads, embedding) { same_with_1_and_2_threads(embedding_scenario, EN * EC + EV * EC); }

/* losses over several reduction rounds: res = ce | probs | dlogits | kl | p | q | ds | mse | da */
enum { CN = 3000, CV = 37, MN = 2000003 };
static void losses_scenario(float *res) {
    float *x = tu_alloc_f(CN * CV, 0), *t = tu_alloc_f(CN * CV, 0);
    float *a = tu_alloc_f(MN, 0), *b = tu_alloc_f(MN, 0);
    int *tg = malloc(CN * sizeof *tg);
    unsigned char *use = malloc(CN);
    cr_assert(tg && use);
    for (int i = 0; i < CN; i++) tg[i] = i % 5 == 0 ? -1 : (i * 11) % CV, use[i] = i % 4 != 0;
    tu_randn(x, CN * CV, 19, 2, 0), tu_randn(t, CN * CV, 20, 2, 0);
    tu_randn(a, MN, 21, 1, 0), tu_randn(b, MN, 22, 1, 0);
    float *probs = res + 1, *dl = probs + CN * CV, *p = dl + CN * CV + 1, *q = p + CN * CV;
    float *ds = q + CN * CV, *da = ds + CN * CV + 1;
    res[0] = crossentropy_forward(probs, x, tg, CN, CV, NULL);
    crossentropy_backward(dl, probs, tg, CN, CV, 1.0f);
    dl[CN * CV] = kl_forward(p, q, x, t, use, CN, CV, 2.0f);
    kl_backward(ds, p, q, use, CN, CV, 2.0f, 1.0f);
    ds[CN * CV] = mse_forward(a, b, MN);
    mse_backward(da, NULL, a, b, MN, 1.0f);
    free(x), free(t), free(a), free(b), free(tg), free(use);
}
Test(nn_threads, losses) { same_with_1_and_2_threads(losses_scenario, 3 + 5 * CN * CV + MN); }

/* optimizer: res = Σg² (as two floats) | clipped grads | params | m | v */
enum { ON = 1500001 };
static void optimizer_scenario(float *res) {
    float *g = res + 2, *p = g + ON, *m = p + ON, *v = m + ON;
    float *mask = tu_alloc_f(ON, 1.0f);
    for (int i = 0; i < ON; i += 3) mask[i] = 0.0f;
    tu_randn(g, ON, 23, 1, 0), tu_randn(p, ON, 24, 1, 0);
    const double sq = grad_sum_squares(g, ON);
    memcpy(res, &sq, sizeof sq);
    grad_scale(g, ON, grad_clip_factor(sq, 100.0f));
    const adamw_config cfg = {0.9f, 0.95f, 1e-8f, 0.1f};
    adamw_update(p, g, m, v, mask, ON, 1e-3f, &cfg, 1);
    adamw_update(p, g, m, v, mask, ON, 1e-3f, &cfg, 2);
    free(mask);
}
Test(nn_threads, optimizer) { same_with_1_and_2_threads(optimizer_scenario, 2 + 4 * ON); }
