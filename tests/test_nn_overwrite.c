/* test_nn_overwrite.c - the backward entry points that overwrite their input gradient
 * (linear_backward_set_dx, gelu_backward_from_grad, attention_backward_set) leave exactly the
 * bits the accumulating ones leave in a zeroed buffer, so dropping the zeroing pass changes no
 * number a stage computes. The overwriting calls start from NaN-filled buffers: a value not
 * written shows. Linear shapes: one small enough for OpenBLAS's small-matrix kernels, one
 * above its threshold (M·N·K > 10⁶, the packed path); FP32 and, where the CPU has it, BF16,
 * there also with inputs so small that the products are denormal (flushed to zeros of either
 * sign). */
#include <math.h>
#include <string.h>

#include "core/gemm_bf16.h"
#include "nn/activations.h"
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn_testutil.h"

enum { RANK = 4 };

typedef struct {
    int n, in, out;
    float *x, *w, *b, *m, *a, *bb, *dy;
} layer_case;

static layer_case make_case(int n, int in, int out, float scale) {
    layer_case c = {n, in, out, tu_alloc_f((size_t)n * in, 0), tu_alloc_f((size_t)out * in, 0),
                    tu_alloc_f(out, 0), tu_alloc_f((size_t)out * in, 0),
                    tu_alloc_f((size_t)RANK * in, 0), tu_alloc_f((size_t)out * RANK, 0),
                    tu_alloc_f((size_t)n * out, 0)};
    tu_randn(c.x, (size_t)n * in, 11, scale, 0), tu_randn(c.w, (size_t)out * in, 12, 0.5f * scale, 0);
    tu_randn(c.b, out, 13, 1, 0), tu_randn(c.a, (size_t)RANK * in, 14, 0.5f, 0);
    tu_randn(c.bb, (size_t)out * RANK, 15, 0.5f, 0), tu_randn(c.dy, (size_t)n * out, 16, scale, 0);
    for (size_t i = 0; i < (size_t)out * in; i++) c.m[i] = (float)((i * 7) % 3 != 0);
    return c;
}

static void free_case(layer_case *c) {
    free(c->x), free(c->w), free(c->b), free(c->m), free(c->a), free(c->bb), free(c->dy);
}

/* dx, dW and db of one backward, accumulating into zeros (set = 0) or overwriting a
 * NaN-filled dx (set = 1); weff and dweff are the layer's scratch. */
static void one_backward(const layer_case *c, const linear_params *p, int set, float *dx,
                         float *dw, float *db, float *weff, float *dweff) {
    const size_t nx = (size_t)c->n * c->in;
    for (size_t i = 0; i < nx; i++) dx[i] = set ? NAN : 0.0f;
    memset(dw, 0, (size_t)c->out * c->in * sizeof(float));
    memset(db, 0, (size_t)c->out * sizeof(float));
    float *y = tu_alloc_f((size_t)c->n * c->out, 0);
    linear_forward(y, weff, c->x, p, c->n, c->in, c->out);
    linear_grads g = {dw, db, NULL, NULL};
    const float *we = linear_needs_weff(p) ? weff : NULL;
    if (set) linear_backward_set_dx(dx, &g, dweff, c->dy, c->x, we, p, c->n, c->in, c->out);
    else linear_backward(dx, &g, dweff, c->dy, c->x, we, p, c->n, c->in, c->out);
    free(y);
}

/* Inputs drawn at scale (1: ordinary values). */
static void check_same_bits(int n, int in, int out, adapter_kind kind, int bf16, float scale) {
    if (bf16) tu_need_bf16();
    layer_case c = make_case(n, in, out, scale);
    linear_bf16 h = {0};
    if (bf16) {
        cr_assert_eq(pl_bf16_gemm_create(&h.gemm, NULL), PL_OK);
        h.weight = calloc((size_t)out * in, sizeof(uint16_t));
        h.x = calloc((size_t)n * in, sizeof(uint16_t));
        h.dy = calloc((size_t)n * out, sizeof(uint16_t));
        cr_assert(h.weight && h.x && h.dy);
    }
    linear_params p = {.weight = c.w, .bias = c.b, .mask = kind != ADAPTER_NONE ? c.m : NULL,
                       .adapter = kind, .lora_a = c.a, .lora_b = c.bb,
                       .rank = kind != ADAPTER_NONE ? RANK : 0, .scale = 0.5f,
                       .bf16 = bf16 ? &h : NULL};
    const size_t nx = (size_t)n * in, nw = (size_t)out * in;
    float *dx[2], *dw[2], *db[2];
    float *weff = tu_alloc_f(nw, 0), *dweff = tu_alloc_f(nw, 0);
    for (int set = 0; set < 2; set++) {
        dx[set] = tu_alloc_f(nx, 0), dw[set] = tu_alloc_f(nw, 0), db[set] = tu_alloc_f(out, 0);
        one_backward(&c, &p, set, dx[set], dw[set], db[set], weff, dweff);
    }
    for (size_t i = 0; i < nx; i++)
        cr_assert(memcmp(&dx[0][i], &dx[1][i], sizeof(float)) == 0, "dx[%zu]: %a vs %a", i,
                  (double)dx[0][i], (double)dx[1][i]);
    cr_assert(memcmp(dw[0], dw[1], nw * sizeof(float)) == 0, "dW differs");
    cr_assert(memcmp(db[0], db[1], (size_t)out * sizeof(float)) == 0, "db differs");
    for (int set = 0; set < 2; set++) free(dx[set]), free(dw[set]), free(db[set]);
    free(weff), free(dweff);
    if (bf16) pl_bf16_gemm_free(h.gemm), free(h.weight), free(h.x), free(h.dy);
    free_case(&c);
}

Test(nn_overwrite, linear_small_kernels) { check_same_bits(9, 13, 11, ADAPTER_NONE, 0, 1.0f); }
Test(nn_overwrite, linear_packed_path) { check_same_bits(260, 96, 128, ADAPTER_NONE, 0, 1.0f); }
Test(nn_overwrite, sparselora_packed_path) { check_same_bits(260, 96, 128, ADAPTER_SPARSELORA, 0, 1.0f); }
Test(nn_overwrite, lora_small_kernels) { check_same_bits(9, 13, 11, ADAPTER_LORA, 0, 1.0f); }
Test(nn_overwrite, linear_bf16) { check_same_bits(260, 96, 128, ADAPTER_NONE, 1, 1.0f); }
Test(nn_overwrite, sparselora_bf16) { check_same_bits(70, 64, 96, ADAPTER_SPARSELORA, 1, 1.0f); }
/* Products of about 2^-130: denormal sums, which the BF16 kernels flush to ±0. */
Test(nn_overwrite, linear_bf16_denormal_sums) { check_same_bits(9, 13, 11, ADAPTER_NONE, 1, 1e-20f); }

/* A layer without outputs (every unit removed) still defines dx: all zeros. */
Test(nn_overwrite, no_outputs_zeroes_dx) {
    enum { N = 4, IN = 5 };
    float x[N * IN], dx[N * IN];
    tu_randn(x, N * IN, 21, 1, 0);
    for (int i = 0; i < N * IN; i++) dx[i] = NAN;
    const linear_params p = {.weight = x}; /* never read: no output row */
    linear_backward_set_dx(dx, NULL, NULL, NULL, x, NULL, &p, N, IN, 0);
    for (int i = 0; i < N * IN; i++) cr_assert(dx[i] == 0.0f && !signbit(dx[i]), "dx[%d]", i);
}

/* GELU for training: forward keeps gelu'(x) in x's buffer, backward multiplies by it. Both
 * give gelu_forward's and gelu_backward's bits. */
Test(nn_overwrite, gelu_keep_grad) {
    enum { NE = 4099 }; /* not a multiple of any vector width: the loop's tail runs too */
    float *x = tu_alloc_f(NE, 0), *up = tu_alloc_f(NE, 0), *acc = tu_alloc_f(NE, 0.0f);
    float *y = tu_alloc_f(NE, 0), *y2 = tu_alloc_f(NE, 0), *grad = tu_alloc_f(NE, 0);
    tu_randn(x, NE, 31, 3.0f, 0.0f); /* wide enough that tanh saturates: zeros of both signs */
    tu_randn(up, NE, 32, 1.0f, 0.0f);
    gelu_forward(y, x, NE);
    gelu_backward(acc, x, up, NE);
    memcpy(grad, x, NE * sizeof(float));
    gelu_forward_keep_grad(y2, grad, NE);
    cr_assert(memcmp(y, y2, NE * sizeof(float)) == 0, "GELU forward differs");
    gelu_backward_from_grad(up, grad, NE);
    cr_assert(memcmp(acc, up, NE * sizeof(float)) == 0, "GELU backward differs");
    free(x), free(up), free(acc), free(y), free(y2), free(grad);
}

/* Attention backward into NaN-filled gradients (set) against zeroed ones (accumulate): self
 * attention on a packed qkv (bidirectional and causal, with a loss on the probabilities) and
 * cross attention between sequences of different lengths. */
static void check_attention_set(int Tq, int Tkv, int causal, int cross) {
    enum { B = 3, C = 16, H = 4 };
    const int qs = cross ? C : 3 * C, kvs = cross ? 2 * C : 3 * C;
    const size_t nq = (size_t)B * Tq * qs, nkv = cross ? (size_t)B * Tkv * kvs : 0;
    float *q = tu_alloc_f(nq, 0), *kv = cross ? tu_alloc_f(nkv, 0) : q;
    float *att = tu_alloc_f((size_t)B * H * Tq * Tkv, 0), *out = tu_alloc_f((size_t)B * Tq * C, 0);
    float *dout = tu_alloc_f((size_t)B * Tq * C, 0), *datt = tu_alloc_f((size_t)B * H * Tq * Tkv, 0);
    tu_randn(q, nq, 41, 1, 0), tu_randn(dout, (size_t)B * Tq * C, 42, 1, 0);
    tu_randn(datt, (size_t)B * H * Tq * Tkv, 43, 0.1f, 0);
    if (cross) tu_randn(kv, nkv, 44, 1, 0);
    const float *k = cross ? kv : q + C, *v = cross ? kv + C : q + 2 * C;
    attention_forward(out, att, q, qs, k, v, kvs, B, Tq, Tkv, C, H, causal);
    /* Gradient buffers laid out as q and kv: dq (stride qs), dk and dv (stride kvs). */
    float *acc_q = tu_alloc_f(nq, 0.0f), *acc_kv = cross ? tu_alloc_f(nkv, 0.0f) : acc_q;
    float *set_q = tu_alloc_f(nq, NAN), *set_kv = cross ? tu_alloc_f(nkv, NAN) : set_q;
    const float *dp = cross ? NULL : datt;
    attention_backward(acc_q, cross ? acc_kv : acc_q + C, cross ? acc_kv + C : acc_q + 2 * C, dout,
                       dp, att, q, qs, k, v, kvs, B, Tq, Tkv, C, H, causal);
    attention_backward_set(set_q, cross ? set_kv : set_q + C, cross ? set_kv + C : set_q + 2 * C,
                           dout, dp, att, q, qs, k, v, kvs, B, Tq, Tkv, C, H, causal);
    cr_assert(memcmp(acc_q, set_q, nq * sizeof(float)) == 0, "dq (and dk, dv) differ");
    if (cross) cr_assert(memcmp(acc_kv, set_kv, nkv * sizeof(float)) == 0, "dk, dv differ");
    free(q), free(att), free(out), free(dout), free(datt), free(acc_q), free(set_q);
    if (cross) free(kv), free(acc_kv), free(set_kv);
}

Test(nn_overwrite, attention_self) { check_attention_set(7, 7, 0, 0); }
Test(nn_overwrite, attention_causal) { check_attention_set(9, 9, 1, 0); }
Test(nn_overwrite, attention_cross) { check_attention_set(5, 11, 0, 1); }
