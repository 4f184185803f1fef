/* bench_distill.c - what distillation costs per step, measured in one run: a teacher
 * checkpoint, its half-depth student of a scheme (even by default), and
 *
 *   F_t, F_s      one forward pass of the teacher, of the student (batch B)
 *   plain step    a lambda = 0 distill step of the student: forward, backward, AdamW
 *   distill step  the same with logit KD, hidden-state and attention losses: the teacher's
 *                 forward first, then the student's step
 *
 * A distill step does about F_t + 3 F_s of work against 3 F_s for the plain step (backward
 * about twice a forward), so its throughput can at best be 3F_s / (3F_s + F_t) of the plain
 * step's; the target is 0.9 of that bound. Every time is the median of REPEATS runs of STEPS
 * steps (forward passes) after a warm-up.
 *
 *   bench_distill CHECKPOINT [SCHEME] [BATCH] [STEPS] [REPEATS]
 * defaults: even, batch 32, 20 steps, 5 repeats; threads from OMP_NUM_THREADS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/startup.h"
#include "core/threads.h"
#include "core/timing.h"
#include "data/dataset.h"
#include "io/provenance.h"
#include "model/checkpoint.h"
#include "model/student.h"
#include "tune/finetune.h"

enum { MAX_REPEATS = 50 };

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* Seconds for `steps` forward passes of m over training batches. */
static double forwards(vlm *m, const pl_data *d, pl_batch *b, int batch, int steps, pl_error *err) {
    const weight_set w = vlm_weights(m, 0, 0);
    double seconds = 0.0;
    for (int s = 0; s < steps; s++) {
        if (pl_data_fill_batch(d, PL_SPLIT_TRAIN, (int64_t)s * batch, batch, b, err) != PL_OK) return -1;
        vlm_input in = {.images = b->images, .tokens = b->tokens, .targets = b->targets, .batch = batch};
        const double t0 = pl_now();
        vlm_forward(m, &w, &in, (vlm_loss_weights){.task_weight = 1.0f});
        seconds += pl_now() - t0;
    }
    return seconds;
}

/* Seconds for a distill of `steps` steps of a fresh copy of the student (the copy is made
 * outside the timed part). */
static double distill_steps(vlm *teacher, const student_plan *plan, const finetune_config *cfg,
                            const pl_data *d, pl_error *err) {
    vlm student;
    vlm_layer_map map;
    if (student_create(&student, teacher, plan, cfg->batch_size, &map, err) != PL_OK) return -1;
    finetune_config c = *cfg;
    c.layer_map = &map;
    const double t0 = pl_now();
    const pl_status st = finetune_run(&student, finetune_uses_teacher(&c) ? teacher : NULL, d, &c, NULL, NULL, err);
    const double seconds = pl_now() - t0;
    vlm_free(&student);
    return st == PL_OK ? seconds : -1;
}

int main(int argc, char **argv) {
    pl_startup(argv);
    if (argc < 2) {
        fprintf(stderr, "usage: bench_distill CHECKPOINT [SCHEME] [BATCH] [STEPS] [REPEATS]\n");
        return 2;
    }
    const char *path = argv[1], *scheme = argc > 2 ? argv[2] : "even";
    const int batch = argc > 3 ? atoi(argv[3]) : 32, steps = argc > 4 ? atoi(argv[4]) : 20;
    const int repeats = argc > 5 ? atoi(argv[5]) : 5;
    if (batch < 1 || steps < 1 || repeats < 1 || repeats > MAX_REPEATS) {
        fprintf(stderr, "bench_distill: BATCH, STEPS and REPEATS (<= %d) must be positive\n", MAX_REPEATS);
        return 2;
    }
    pl_error err;
    pl_data_config dc;
    pl_data_config_default(&dc);
    pl_data data;
    vlm teacher, student;
    pl_batch b;
    student_plan plan;
    vlm_layer_map map;
    if (pl_data_open(&data, &dc, &err) || vlm_load(&teacher, path, batch, &err) ||
        pl_data_batch_alloc(&data, &b, batch, &err)) {
        pl_error_print(stderr, &err);
        return 1;
    }
    for (int m = 0; m < MODULE_COUNT; m++)
        if (student_scheme_select(scheme, module_layers(&teacher.cfg, (pl_module)m), plan.kept[m],
                                  &plan.count[m], &err) != PL_OK) {
            pl_error_print(stderr, &err);
            return 2;
        }
    if (student_create(&student, &teacher, &plan, batch, &map, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    char cpu[256];
    pl_cpu_model(cpu, sizeof cpu);
    printf("bench_distill %s, scheme %s: teacher %d/%d/%d blocks, student %d/%d/%d; batch %d, %d "
           "steps x %d repeats, %d threads, kernels %s, CPU %s\n", path, scheme,
           teacher.cfg.layers_vision, teacher.cfg.layers_query, teacher.cfg.layers_language,
           student.cfg.layers_vision, student.cfg.layers_query, student.cfg.layers_language, batch,
           steps, repeats, pl_threads_get(), pl_blas_core_name(), cpu);

    finetune_config plain;
    finetune_config_default(&plain);
    plain.adapter = ADAPTER_NONE, plain.stage = "distill";
    plain.steps = steps, plain.batch_size = batch, plain.warmup = 1, plain.log_every = steps;
    plain.lambda = 0.0f;
    finetune_config kd = plain;
    kd.lambda = 0.5f, kd.hidden_weight = 1.0f, kd.attn_weight = 1.0f;

    double ft[MAX_REPEATS], fs[MAX_REPEATS], tp[MAX_REPEATS], tk[MAX_REPEATS];
    if (forwards(&teacher, &data, &b, batch, 2, &err) < 0 || distill_steps(&teacher, &plan, &kd, &data, &err) < 0) {
        pl_error_print(stderr, &err); /* warm-up: thread pools, caches, page faults */
        return 1;
    }
    for (int r = 0; r < repeats; r++) {
        ft[r] = forwards(&teacher, &data, &b, batch, steps, &err);
        fs[r] = forwards(&student, &data, &b, batch, steps, &err);
        tp[r] = distill_steps(&teacher, &plan, &plain, &data, &err);
        tk[r] = distill_steps(&teacher, &plan, &kd, &data, &err);
        if (ft[r] < 0 || fs[r] < 0 || tp[r] < 0 || tk[r] < 0) {
            pl_error_print(stderr, &err);
            return 1;
        }
    }
    const double Ft = median(ft, repeats) / steps, Fs = median(fs, repeats) / steps;
    const double plain_s = median(tp, repeats) / steps, kd_s = median(tk, repeats) / steps;
    const double bound = 3.0 * Fs / (3.0 * Fs + Ft), ratio = plain_s / kd_s;
    printf("forward  teacher F_t %8.2f ms   student F_s %8.2f ms   (F_s/F_t %.2f)\n", Ft * 1e3,
           Fs * 1e3, Fs / Ft);
    printf("step     plain (lambda 0) %8.2f ms  %7.1f samples/s\n", plain_s * 1e3, batch / plain_s);
    printf("step     distill (KD+hid+attn) %8.2f ms  %7.1f samples/s\n", kd_s * 1e3, batch / kd_s);
    printf("distill throughput / plain %.3f; bound 3F_s/(3F_s+F_t) = %.3f; target 0.9 x bound = %.3f: %s\n",
           ratio, bound, 0.9 * bound, ratio >= 0.9 * bound ? "met" : "NOT met");
    vlm_free(&student);
    vlm_free(&teacher);
    pl_batch_free(&b);
    pl_data_close(&data);
    return 0;
}
