/* test_nn_linear_bf16.c - the BF16 path of a linear layer against its definition: the FP32
 * layer whose three products read BF16-rounded operands (x, dy and W_eff) and sum in FP32.
 * y and dx against a double-precision product of the rounded operands; dW, dA and dB against
 * the FP32 layer run on pre-rounded x and dy (the same products, so agreement to FP32
 * summation); db, masks and unit keep vectors exactly as in FP32. Every adapter mode; a
 * layer at 1 and 2 threads bit for bit. Skipped on CPUs without BF16 products. */
#include <math.h>
#include <string.h>

#include "core/gemm_bf16.h"
#include "core/threads.h"
#include "nn/linear.h"
#include "nn_testutil.h"

enum { N = 70, IN = 48, OUT = 40, RANK = 4 };

static float rounded(float v) {
    uint16_t h;
    pl_bf16_from_float(&h, &v, 1);
    return pl_bf16_to_float(h);
}

static void round_all(float *dst, const float *src, int n) {
    for (int i = 0; i < n; i++) dst[i] = rounded(src[i]);
}

/* Largest |got - want| relative to the size of the terms summed (scale). */
static void check_close(const float *got, const double *want, const double *scale, int n,
                        const char *what) {
    for (int i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= 1e-5 * (scale[i] + 1e-6), "%s[%d]: %g vs %g", what, i,
                  (double)got[i], want[i]);
}

typedef struct {
    float x[N * IN], w[OUT * IN], b[OUT], m[OUT * IN], a[RANK * IN], bb[OUT * RANK], dy[N * OUT];
} inputs;

static void make_inputs(inputs *in) {
    tu_randn(in->x, N * IN, 1, 1, 0), tu_randn(in->w, OUT * IN, 2, 0.5f, 0);
    tu_randn(in->b, OUT, 3, 1, 0), tu_randn(in->a, RANK * IN, 4, 0.5f, 0);
    tu_randn(in->bb, OUT * RANK, 5, 0.5f, 0), tu_randn(in->dy, N * OUT, 6, 1, 0);
    for (int i = 0; i < OUT * IN; i++) in->m[i] = (float)((i * 5) % 3 != 0);
}

/* A product context and the BF16 copies of one N x IN -> OUT layer. */
static linear_bf16 bf16_storage(void) {
    static uint16_t hw[OUT * IN], hx[N * IN], hdy[N * OUT];
    pl_bf16_gemm *gemm;
    cr_assert_eq(pl_bf16_gemm_create(&gemm, NULL), PL_OK);
    return (linear_bf16){.gemm = gemm, .weight = hw, .x = hx, .dy = hdy};
}

static void check_mode(adapter_kind kind, int use_mask) {
    tu_need_bf16();
    static inputs in;
    make_inputs(&in);
    const linear_bf16 h = bf16_storage();
    pl_bf16_gemm *gemm = h.gemm;
    linear_params p = {.weight = in.w, .bias = in.b, .mask = use_mask ? in.m : NULL,
                       .adapter = kind, .lora_a = in.a, .lora_b = in.bb, .rank = RANK,
                       .scale = 0.7f, .bf16 = &h};
    linear_params p32 = p;
    p32.bf16 = NULL;

    static float y[N * OUT], weff[OUT * IN], dweff[OUT * IN];
    linear_forward(y, weff, in.x, &p, N, IN, OUT);
    const float *w_eff = linear_needs_weff(&p) ? weff : in.w;
    static float xr[N * IN], wr[OUT * IN], dyr[N * OUT];
    round_all(xr, in.x, N * IN), round_all(wr, w_eff, OUT * IN), round_all(dyr, in.dy, N * OUT);
    static double want[N * IN], scale[N * IN];
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double s = in.b[o], mag = fabs(in.b[o]);
            for (int k = 0; k < IN; k++) s += (double)xr[i * IN + k] * wr[o * IN + k], mag += fabs((double)xr[i * IN + k] * wr[o * IN + k]);
            want[i * OUT + o] = s, scale[i * OUT + o] = mag;
        }
    check_close(y, want, scale, N * OUT, "y");

    /* Gradients start at 0.25: backward adds. BF16 layer on (x, dy); FP32 layer on the
     * rounded (xr, dyr) for the weight-side gradients; FP32 on (x, dy) for db. */
    static float dx[N * IN], dw[OUT * IN], db[OUT], da[RANK * IN], dbb[OUT * RANK];
    static float dw32[OUT * IN], db32[OUT], da32[RANK * IN], dbb32[OUT * RANK], dx32[N * IN];
    float *all[] = {dx, dw, db, da, dbb, dw32, db32, da32, dbb32, dx32};
    const int sizes[] = {N * IN, OUT * IN, OUT, RANK * IN, OUT * RANK, OUT * IN, OUT, RANK * IN, OUT * RANK, N * IN};
    for (int t = 0; t < 10; t++)
        for (int i = 0; i < sizes[t]; i++) all[t][i] = 0.25f;
    const int adapted = kind != ADAPTER_NONE;
    linear_grads g = {dw, db, adapted ? da : NULL, adapted ? dbb : NULL};
    linear_backward(dx, &g, dweff, in.dy, in.x, linear_needs_weff(&p) ? weff : NULL, &p, N, IN, OUT);
    cr_assert_eq(pl_bf16_gemm_status(gemm, NULL), PL_OK);

    for (int i = 0; i < N; i++)
        for (int k = 0; k < IN; k++) {
            double s = 0.25, mag = 0.25;
            for (int o = 0; o < OUT; o++) s += (double)dyr[i * OUT + o] * wr[o * IN + k], mag += fabs((double)dyr[i * OUT + o] * wr[o * IN + k]);
            want[i * IN + k] = s, scale[i * IN + k] = mag;
        }
    check_close(dx, want, scale, N * IN, "dx");

    static float weff32[OUT * IN], y32[N * OUT];
    linear_forward(y32, weff32, xr, &p32, N, IN, OUT);
    linear_grads g32 = {dw32, NULL, adapted ? da32 : NULL, adapted ? dbb32 : NULL};
    linear_backward(NULL, &g32, dweff, dyr, xr, linear_needs_weff(&p) ? weff32 : NULL, &p32, N, IN, OUT);
    for (int i = 0; i < OUT * IN; i++) {
        cr_assert(fabs(dw[i] - dw32[i]) <= 1e-5 * (fabs(dw32[i]) + 1.0), "dW[%d] %g vs %g", i, dw[i], dw32[i]);
        if (use_mask && in.m[i] == 0.0f) cr_assert_eq(dw[i], 0.25f, "a masked dW[%d] changed", i);
    }
    for (int i = 0; adapted && i < RANK * IN; i++)
        cr_assert(fabs(da[i] - da32[i]) <= 1e-5 * (fabs(da32[i]) + 1.0), "dA[%d] %g vs %g", i, da[i], da32[i]);
    for (int i = 0; adapted && i < OUT * RANK; i++)
        cr_assert(fabs(dbb[i] - dbb32[i]) <= 1e-5 * (fabs(dbb32[i]) + 1.0), "dB[%d] %g vs %g", i, dbb[i], dbb32[i]);
    linear_grads gb = {NULL, db32, NULL, NULL};
    linear_backward(NULL, &gb, dweff, in.dy, in.x, NULL, &p32, N, IN, OUT);
    cr_assert(memcmp(db, db32, sizeof db) == 0, "db is the FP32 sum of dy");
    pl_bf16_gemm_free(gemm);
}

Test(nn_linear_bf16, plain) { check_mode(ADAPTER_NONE, 0); }
Test(nn_linear_bf16, masked) { check_mode(ADAPTER_NONE, 1); }
Test(nn_linear_bf16, lora) { check_mode(ADAPTER_LORA, 1); }
Test(nn_linear_bf16, sparselora) { check_mode(ADAPTER_SPARSELORA, 1); }

/* y | dx | dW | db of a masked SparseLoRA layer, at the current thread count. */
static void scenario(float *res) {
    static inputs in;
    make_inputs(&in);
    const linear_bf16 h = bf16_storage();
    pl_bf16_gemm *gemm = h.gemm;
    linear_params p = {.weight = in.w, .bias = in.b, .mask = in.m, .adapter = ADAPTER_SPARSELORA,
                       .lora_a = in.a, .lora_b = in.bb, .rank = RANK, .scale = 0.7f, .bf16 = &h};
    static float weff[OUT * IN], dweff[OUT * IN];
    float *y = res, *dx = y + N * OUT, *dw = dx + N * IN, *db = dw + OUT * IN;
    linear_forward(y, weff, in.x, &p, N, IN, OUT);
    linear_grads g = {dw, db, NULL, NULL};
    linear_backward(dx, &g, dweff, in.dy, in.x, weff, &p, N, IN, OUT);
    pl_bf16_gemm_free(gemm);
}

Test(nn_linear_bf16, bit_identical_at_1_and_2_threads) {
    tu_need_bf16();
    enum { SIZE = N * OUT + N * IN + OUT * IN + OUT };
    float *r1 = tu_alloc_f(SIZE, 0.0f), *r2 = tu_alloc_f(SIZE, 0.0f);
    pl_threads_set(1);
    scenario(r1);
    pl_threads_set(2);
    scenario(r2);
    cr_assert(memcmp(r1, r2, SIZE * sizeof(float)) == 0);
    free(r1), free(r2);
}
