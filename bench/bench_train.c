/* bench_train.c - throughput of one full training step (forward, backward, AdamW) of the
 * prunelab VLM on a real fashion-scenes batch; the C half of `make bench-train`.
 *
 *   bench_train PRESET [BATCH] [STEPS]   prints "samples_per_s <value>" last */
#include <stdio.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/startup.h"
#include "core/threads.h"
#include "core/timing.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "model/vlm.h"
#include "tune/optimizer.h"

static void adamw_all(vlm *m, pl_buffer *mom, pl_buffer *vel, int t) {
    adamw_config ac = {0.9f, 0.999f, 1e-8f, 0.01f};
    for (int i = 0; i < m->index.layout.count; i++)
        adamw_update(pl_buffer_view(&m->params, i), pl_buffer_view(&m->grads, i),
                     pl_buffer_view(mom, i), pl_buffer_view(vel, i), NULL,
                     m->index.layout.tensors[i].count, 1e-3f, &ac, t);
}

int main(int argc, char **argv) {
    pl_startup(argv);
    const char *preset = argc > 1 ? argv[1] : "tiny";
    int batch = argc > 2 ? atoi(argv[2]) : 32, steps = argc > 3 ? atoi(argv[3]) : 20;
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
    vlm_init(&m, 1);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .cells = b.cells, .batch = batch};
    weight_set w = vlm_weights(&m, 0, 1);
    double best = 1e30;
    for (int s = 0; s < steps + 3; s++) {
        double t0 = pl_now();
        vlm_zero_grad(&m);
        vlm_forward(&m, &w, &in, (vlm_loss_weights){.task_weight = 1.0f, .aux_weight = 0.5f, .bridge_aux_weight = 0.5f});
        vlm_backward(&m, &w);
        adamw_all(&m, &mom, &vel, s + 1);
        double dt = pl_now() - t0;
        if (s >= 3 && dt < best) best = dt; /* first steps warm caches and thread pools */
    }
    printf("prunelab %s batch %d threads %d kernels %s: best step %.2f ms\n", preset, batch,
           pl_threads_get(), pl_blas_core_name(), best * 1e3);
    printf("samples_per_s %.1f\n", batch / best);
    return 0;
fail:
    pl_error_print(stderr, &err);
    return 1;
}
