/* bench_train.c - throughput of one full training step (forward, backward, AdamW) of the
 * prunelab VLM on a real fashion-scenes batch; the C half of `make bench-train`, and the
 * program bench/profile_train.sh profiles.
 *
 *   bench_train PRESET [BATCH] [STEPS] [fp32|bf16]
 *
 * prints the median time of each phase (zeroing the gradients, forward, backward, AdamW),
 * then "samples_per_s <value>" (best step) last. bf16: the linear layers' products on BF16
 * operands (numerics precision bf16); exits 3 when this CPU has no BF16 products. */
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
    printf("prunelab %s batch %d threads %d precision %s kernels %s: best step %.2f ms\n",
           preset, batch, pl_threads_get(), precision, bf16 ? pl_bf16_isa_name() : pl_blas_core_name(),
           best * 1e3);
    double total = 0.0, med[PHASES];
    for (int p = 0; p < PHASES; p++) total += med[p] = median(phase_s[p], steps);
    for (int p = 0; p < PHASES; p++)
        printf("phase %-9s %8.2f ms  %5.1f %%  (median of %d steps)\n", PHASE_NAMES[p],
               med[p] * 1e3, 100.0 * med[p] / total, steps);
    printf("samples_per_s %.1f\n", batch / best);
    free(list);
    free(partials);
    ws_bf16_free(&lowp);
    return 0;
fail:
    pl_error_print(stderr, &err);
    return 1;
}
