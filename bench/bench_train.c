/* bench_train.c - throughput of one full training step (forward, backward, AdamW) of the
 * prunelab VLM on a real fashion-scenes batch; the C half of `make bench-train`, and the
 * program bench/profile_train.sh profiles.
 *
 *   bench_train PRESET [BATCH] [STEPS] [fp32|bf16]
 *
 * prints the median time of each phase (zeroing the gradients, forward, backward, AdamW),
 * then "samples_per_s <value>" (best step) last. bf16: the linear layers' products on BF16
 * operands (numerics precision bf16); exits 3 when this CPU has no BF16 products.
 *
 * Then the step's matrix products: the program is linked with cblas_sgemm and the two BF16
 * product entries wrapped (-Wl,--wrap, see the Makefile), so one more step records every
 * product it runs. Those called outside a parallel region (the linear layers, the logits,
 * LoRA deltas) are replayed alone on the same shapes and threads; those inside one
 * (attention's per-(sample, head) products) are counted. It prints the step's GFLOP, the
 * replay's GFLOP/s, and the step's own GFLOP/s as a share of it: the criterion "the
 * step at 85 % of its linear layers alone on the same shapes", measured instead of
 * estimated. The step's GFLOP/s count all its products (attention's too), the replay's
 * only the replayed ones. The replay is a lower bound of what those products take inside
 * the step: it reuses one set of buffers, warmer in cache than each layer's own, and its
 * BF16 products read operands already rounded. */
#include <cblas.h>
#include <omp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/gemm_bf16.h"
#include "core/startup.h"
#include "core/threads.h"
#include "core/timing.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "tune/optimizer.h"

enum { PHASES = 4, MAX_STEPS = 1000 };
static const char *const PHASE_NAMES[PHASES] = {"zero_grad", "forward", "backward", "adamw"};

/* One recorded product: 'f' FP32 SGEMM (alpha, beta as called), 'b' BF16 (accumulate, bias),
 * 'z' BF16 into zeros. */
typedef struct {
    char kind;
    bool trans_a, trans_b, accumulate, bias;
    int m, n, k, lda, ldb, ldc;
    float alpha, beta;
} product_call;

/* The recorder behind the wrapped products: on for one step only. */
static struct {
    bool on;
    product_call *calls;
    int count, cap;
    double top_flops;
    _Atomic long long nested_flops; /* threads of attention's parallel loop add at once */
    bool overflow;
} rec;

static void record(const product_call *c) {
    if (c->m <= 0 || c->n <= 0 || c->k <= 0) return; /* no work: not replayed */
    const double flops = 2.0 * c->m * c->n * c->k;
    if (omp_get_level() > 0) { /* inside a parallel region: counted, not replayed */
        rec.nested_flops += (long long)flops;
        return;
    }
    rec.top_flops += flops;
    if (rec.count == rec.cap) {
        const int cap = rec.cap ? 2 * rec.cap : 256;
        product_call *grown = realloc(rec.calls, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            rec.overflow = true;
            return;
        }
        rec.calls = grown, rec.cap = cap;
    }
    rec.calls[rec.count++] = *c;
}

void __real_cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint,
                        blasint, blasint, float, const float *, blasint, const float *, blasint,
                        float, float *, blasint);
void __wrap_cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb,
                        blasint m, blasint n, blasint k, float alpha, const float *a, blasint lda,
                        const float *b, blasint ldb, float beta, float *c, blasint ldc) {
    if (rec.on)
        record(&(product_call){'f', ta == CblasTrans, tb == CblasTrans, false, false, m, n, k,
                               lda, ldb, ldc, alpha, beta});
    __real_cblas_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void __real_pl_bf16_gemm_run_into_zeros(pl_bf16_gemm *, bool, bool, int, int, int,
                                        pl_bf16_operand, pl_bf16_operand, float *, int);
void __wrap_pl_bf16_gemm_run_into_zeros(pl_bf16_gemm *g, bool ta, bool tb, int m, int n, int k,
                                        pl_bf16_operand a, pl_bf16_operand b, float *c, int ldc) {
    if (rec.on) record(&(product_call){'z', ta, tb, true, false, m, n, k, a.ld, b.ld, ldc, 1.0f, 0.0f});
    __real_pl_bf16_gemm_run_into_zeros(g, ta, tb, m, n, k, a, b, c, ldc);
}

void __real_pl_bf16_gemm_run(pl_bf16_gemm *, bool, bool, int, int, int, pl_bf16_operand,
                             pl_bf16_operand, const float *, bool, float *, int);
void __wrap_pl_bf16_gemm_run(pl_bf16_gemm *g, bool ta, bool tb, int m, int n, int k,
                             pl_bf16_operand a, pl_bf16_operand b, const float *bias,
                             bool accumulate, float *c, int ldc) {
    if (rec.on)
        record(&(product_call){'b', ta, tb, accumulate, bias != NULL, m, n, k, a.ld, b.ld, ldc,
                               1.0f, accumulate ? 1.0f : 0.0f});
    __real_pl_bf16_gemm_run(g, ta, tb, m, n, k, a, b, bias, accumulate, c, ldc);
}

/* Elements an operand of `rows` x `cols` (as op() sees it) spans in memory at stride ld. */
static size_t span(bool trans, int rows, int cols, int ld) {
    return trans ? (size_t)(cols - 1) * ld + rows : (size_t)(rows - 1) * ld + cols;
}

/* Replays the recorded top-level products on buffers of their shapes (operands already in
 * their product's type: BF16 products without the rounding pass); best of `reps` passes. */
static int replay(double *best_s, int reps, pl_error *err) {
    size_t na = 1, nb = 1, nc = 1;
    for (int i = 0; i < rec.count; i++) {
        const product_call *c = &rec.calls[i];
        const size_t sa = span(c->trans_a, c->m, c->k, c->lda), sb = span(c->trans_b, c->k, c->n, c->ldb);
        const size_t sc = span(false, c->m, c->n, c->ldc);
        na = sa > na ? sa : na, nb = sb > nb ? sb : nb, nc = sc > nc ? sc : nc;
    }
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *cbuf = malloc(nc * sizeof *cbuf);
    float *bias = calloc(nc, sizeof *bias);
    uint16_t *ah = malloc(na * sizeof *ah), *bh = malloc(nb * sizeof *bh);
    pl_bf16_gemm *g = NULL;
    int rc = 1;
    if (a == NULL || b == NULL || cbuf == NULL || bias == NULL || ah == NULL || bh == NULL) {
        PL_ERROR(err, PL_ERR_NOMEM, "out of memory for the product replay");
        goto done;
    }
    for (size_t i = 0; i < na; i++) a[i] = 0.01f * (float)(i % 97);
    for (size_t i = 0; i < nb; i++) b[i] = 0.01f * (float)(i % 89);
    for (size_t i = 0; i < nc; i++) cbuf[i] = 0.0f;
    pl_bf16_from_float(ah, a, na);
    pl_bf16_from_float(bh, b, nb);
    if (pl_bf16_gemm_create(&g, err)) goto done;
    *best_s = 1e30;
    for (int r = 0; r < reps; r++) {
        const double t0 = pl_now();
        for (int i = 0; i < rec.count; i++) {
            const product_call *c = &rec.calls[i];
            const pl_bf16_operand oa = {ah, c->lda, NULL, 0}, ob = {bh, c->ldb, NULL, 0};
            if (c->kind == 'f')
                pl_sgemm(c->trans_a, c->trans_b, c->m, c->n, c->k, c->alpha, a, c->lda, b, c->ldb,
                         c->beta, cbuf, c->ldc);
            else if (c->kind == 'z')
                __real_pl_bf16_gemm_run_into_zeros(g, c->trans_a, c->trans_b, c->m, c->n, c->k,
                                                   oa, ob, cbuf, c->ldc);
            else
                __real_pl_bf16_gemm_run(g, c->trans_a, c->trans_b, c->m, c->n, c->k, oa, ob,
                                        c->bias ? bias : NULL, c->accumulate, cbuf, c->ldc);
        }
        const double dt = pl_now() - t0;
        if (dt < *best_s) *best_s = dt;
    }
    rc = pl_bf16_gemm_status(g, err) != PL_OK;
done:
    pl_bf16_gemm_free(g);
    free(a), free(b), free(cbuf), free(bias), free(ah), free(bh);
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Under bench/profile_train.sh, perf starts disabled and is switched on for the timed steps
 * only (not data loading, allocation or the warm-up steps) through its control FIFO, whose
 * path PL_PERF_CTL names. */
static void perf_control(const char *command) {
    const char *path = getenv("PL_PERF_CTL");
    if (path == NULL) return;
    FILE *f = fopen(path, "w");
    if (f == NULL) return;
    fprintf(f, "%s\n", command);
    fclose(f);
}

/* The training loop's optimizer step on every tensor: the gradient norm, then AdamW (the
 * norm's clipping factor is left at 1). */
static void adamw_all(vlm *m, pl_buffer *mom, pl_buffer *vel, adamw_tensor *list, double *partials, int t) {
    adamw_config ac = {0.9f, 0.999f, 1e-8f, 0.01f};
    const int count = m->index.layout.count;
    for (int i = 0; i < count; i++)
        list[i] = (adamw_tensor){pl_buffer_view(&m->params, i), pl_buffer_view(&m->grads, i),
                                 pl_buffer_view(mom, i), pl_buffer_view(vel, i), NULL,
                                 m->index.layout.tensors[i].count, ac.weight_decay, t};
    (void)grad_sum_squares_many(list, count, partials);
    adamw_update_many(list, count, 1.0f, 1e-3f, &ac);
}

int main(int argc, char **argv) {
    pl_startup(argv);
    const char *preset = argc > 1 ? argv[1] : "tiny";
    int batch = argc > 2 ? atoi(argv[2]) : 32, steps = argc > 3 ? atoi(argv[3]) : 20;
    const char *precision = argc > 4 ? argv[4] : "fp32";
    const int bf16 = strcmp(precision, "bf16") == 0;
    if (batch < 1 || steps < 1 || steps > MAX_STEPS || (!bf16 && strcmp(precision, "fp32") != 0)) {
        fprintf(stderr, "usage: bench_train PRESET [BATCH >= 1] [STEPS in 1..%d] [fp32|bf16]\n",
                MAX_STEPS);
        return 2;
    }
    char why[256];
    if (bf16 && !pl_bf16_supported(why, sizeof why)) {
        fprintf(stderr, "bench_train: bf16: %s\n", why);
        return 3;
    }
    static double phase_s[PHASES][MAX_STEPS];
    pl_error err;
    pl_data_config dc;
    pl_data_config_default(&dc);
    pl_data d;
    model_config mc;
    vlm m;
    pl_batch b;
    pl_buffer mom, vel;
    if (pl_data_open(&d, &dc, &err) || model_config_preset(&mc, preset, &err)) goto fail;
    mc.vocab_size = PL_VOCAB_SIZE, mc.text_len = dc.text_len;
    if (vlm_create(&m, &mc, batch, &err) || pl_data_batch_alloc(&d, &b, batch, &err) ||
        pl_buffer_alloc(&mom, &m.index.layout, &err) || pl_buffer_alloc(&vel, &m.index.layout, &err) ||
        pl_data_fill_batch(&d, PL_SPLIT_TRAIN, 0, batch, &b, &err))
        goto fail;
    adamw_tensor *list = calloc((size_t)m.index.layout.count, sizeof *list);
    for (int i = 0; list != NULL && i < m.index.layout.count; i++) list[i].n = m.index.layout.tensors[i].count;
    double *partials = list ? calloc(grad_sum_squares_chunks(list, m.index.layout.count) + 1, sizeof *partials) : NULL;
    if (list == NULL || partials == NULL) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    vlm_init(&m, 1);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .cells = b.cells, .batch = batch};
    weight_set w = vlm_weights(&m, 0, 1);
    ws_bf16 lowp = {0};
    if (bf16) {
        if (ws_bf16_create(&lowp, &m.index.layout, &err)) goto fail;
        w.bf16 = &lowp;
    }
    double best = 1e30;
    for (int s = 0; s < steps + 3; s++) {
        double t[PHASES + 1];
        t[0] = pl_now();
        vlm_zero_grad(&m);
        t[1] = pl_now();
        vlm_forward(&m, &w, &in, (vlm_loss_weights){.task_weight = 1.0f, .aux_weight = 0.5f, .bridge_aux_weight = 0.5f});
        t[2] = pl_now();
        vlm_backward(&m, &w);
        t[3] = pl_now();
        adamw_all(&m, &mom, &vel, list, partials, s + 1);
        t[4] = pl_now();
        if (bf16 && ws_bf16_status(&lowp, &err)) goto fail;
        if (s == 2) perf_control("enable");
        if (s < 3) continue; /* first steps warm caches and thread pools */
        for (int p = 0; p < PHASES; p++) phase_s[p][s - 3] = t[p + 1] - t[p];
        if (t[4] - t[0] < best) best = t[4] - t[0];
    }
    perf_control("disable");
    /* One more step with the products recorded. */
    rec.on = true;
    vlm_zero_grad(&m);
    vlm_forward(&m, &w, &in, (vlm_loss_weights){.task_weight = 1.0f, .aux_weight = 0.5f, .bridge_aux_weight = 0.5f});
    vlm_backward(&m, &w);
    rec.on = false;
    if (bf16 && ws_bf16_status(&lowp, &err)) goto fail;
    double replay_s = 0.0;
    if (rec.overflow) {
        fprintf(stderr, "bench_train: out of memory recording the products\n");
        return 1;
    }
    if (replay(&replay_s, 5, &err)) goto fail;
    printf("prunelab %s batch %d threads %d precision %s kernels %s: best step %.2f ms\n",
           preset, batch, pl_threads_get(), precision, bf16 ? pl_bf16_isa_name() : pl_blas_core_name(),
           best * 1e3);
    double total = 0.0, med[PHASES];
    for (int p = 0; p < PHASES; p++) total += med[p] = median(phase_s[p], steps);
    for (int p = 0; p < PHASES; p++)
        printf("phase %-9s %8.2f ms  %5.1f %%  (median of %d steps)\n", PHASE_NAMES[p],
               med[p] * 1e3, 100.0 * med[p] / total, steps);
    const double nested = (double)rec.nested_flops, flops = rec.top_flops + nested;
    printf("products of a step (forward and backward): %.2f GFLOP; %d calls outside parallel "
           "regions (linear layers, logits) %.2f GFLOP, inside them (attention) %.2f GFLOP\n",
           flops * 1e-9, rec.count, rec.top_flops * 1e-9, nested * 1e-9);
    printf("those %d calls replayed alone (same shapes, %d threads, best of 5): %.2f ms, %.1f GFLOP/s\n",
           rec.count, pl_threads_get(), replay_s * 1e3, rec.top_flops / replay_s * 1e-9);
    printf("step_gflops_per_s %.1f (%.1f %% of the products alone)\n", flops / best * 1e-9,
           100.0 * (flops / best) / (rec.top_flops / replay_s));
    printf("samples_per_s %.1f\n", batch / best);
    free(list);
    free(partials);
    free(rec.calls);
    ws_bf16_free(&lowp);
    return 0;
fail:
    pl_error_print(stderr, &err);
    return 1;
}
