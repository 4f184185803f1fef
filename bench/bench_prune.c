/* bench_prune.c - wall time of prune_model on a preset model (randomly initialised; the
 * cost does not depend on the weights) for each method, with the real fashion-scenes
 * calibration split.
 *
 *   bench_prune [preset=small] [calib_size=128] [max_batch=32] [calibration=sequential]  */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/threads.h"
#include "core/timing.h"
#include "data/tokenizer.h"
#include "prune/prune.h"

static int fail(const pl_error *err) {
    pl_error_print(stderr, err);
    return 1;
}

int main(int argc, char **argv) {
    pl_blas_prefer_fast_kernels(argv);
    const char *preset = argc > 1 ? argv[1] : "small";
    const int calib = argc > 2 ? atoi(argv[2]) : 128;
    const int max_batch = argc > 3 ? atoi(argv[3]) : 32;
    const int dense = argc > 4 && strcmp(argv[4], "dense") == 0;
    pl_error err = {0};
    pl_data_config dc;
    pl_data_config_default(&dc);
    pl_data data;
    if (pl_data_open(&data, &dc, &err) != PL_OK) return fail(&err);
    model_config mc;
    if (model_config_preset(&mc, preset, &err) != PL_OK) return fail(&err);
    mc.vocab_size = PL_VOCAB_SIZE, mc.text_len = dc.text_len, mc.aux_classes = CELL_CLASSES;
    printf("prune %s: calib %d, batch %d, %s calibration, %d threads, BLAS %s\n", preset, calib,
           max_batch, dense ? "dense" : "sequential", pl_threads_get(), pl_blas_core_name());
    const char *names[] = {"magnitude", "wanda", "sparsegpt", "sparsegpt 2:4"};
    for (int k = 0; k < 4; k++) {
        vlm m;
        if (vlm_create(&m, &mc, max_batch, &err) != PL_OK) return fail(&err);
        vlm_init(&m, 1);
        prune_config cfg;
        prune_config_default(&cfg);
        cfg.method = k == 0 ? PRUNE_MAGNITUDE : k == 1 ? PRUNE_WANDA : PRUNE_SPARSEGPT;
        if (k == 3) cfg.nm_n = 2, cfg.nm_m = 4;
        cfg.calib_size = calib;
        cfg.calibration = dense ? PRUNE_CALIB_DENSE : PRUNE_CALIB_SEQUENTIAL;
        const double t0 = pl_now();
        if (prune_model(&m, &data, &cfg, NULL, &err) != PL_OK) return fail(&err);
        printf("  %-14s %7.2f s\n", names[k], pl_now() - t0);
        fflush(stdout);
        vlm_free(&m);
    }
    pl_data_close(&data);
    return 0;
}
