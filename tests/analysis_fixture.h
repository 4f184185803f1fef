/* analysis_fixture.h - results directories built by the analysis tests: index.tsv written as
 * the engine writes it and metrics.h5 files written with io/h5_run.h, plus realistic sweeps
 * (a 5x5 sv x sl grid, accuracy vs sparsity per method, methods x patterns, loss curves)
 * with deterministic seed noise, for the figure tests and for looking at the figures.
 * Static functions: included by one test file each. */
#ifndef PL_TESTS_ANALYSIS_FIXTURE_H
#define PL_TESTS_ANALYSIS_FIXTURE_H

#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/h5_run.h"

static inline void fx_ok(pl_status s, const pl_error *err) { cr_assert_eq(s, PL_OK, "%s", err->message); }

/* A fresh directory: under $PRUNELAB_TEST_OUT/<name> when set (kept), else in /tmp. */
static inline void fx_dir(char *out, size_t cap, const char *name) {
    const char *keep = getenv("PRUNELAB_TEST_OUT");
    if (keep) {
        snprintf(out, cap, "%s/%s", keep, name);
        mkdir(keep, 0755);
        mkdir(out, 0755);
    } else {
        snprintf(out, cap, "/tmp/prunelab_analysis_XXXXXX");
        cr_assert_not_null(mkdtemp(out));
    }
    char runs[600];
    snprintf(runs, sizeof runs, "%s/runs", out);
    mkdir(runs, 0755);
}

static inline void fx_write(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static inline void fx_write_in(const char *dir, const char *name, const char *text) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    fx_write(path, text);
}

static inline char *fx_read(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_not_null(s);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static inline long fx_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Deterministic noise in [-1, 1] from two integers. */
static inline double fx_noise(unsigned a, unsigned b) {
    unsigned h = a * 2654435761u ^ (b + 0x9e3779b9u) * 2246822519u;
    h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
    return (double)(h % 20001) / 10000.0 - 1.0;
}

/* runs/<id>/metrics.h5 with a pretrain stage logging loss every 10 steps (steps 0..steps)
 * and eval acc every 100, the loss decaying towards floor. */
static inline void fx_h5(const char *dir, const char *run_id, int seed, int steps, double floor, double rate) {
    char path[800];
    snprintf(path, sizeof path, "%s/runs/%s", dir, run_id);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/runs/%s/metrics.h5", dir, run_id);
    pl_error err;
    pl_error_clear(&err);
    pl_h5_run_info info = {.run_id = run_id, .experiment = "fixture", .config_yaml = "seed: 0\n", .seed = (uint64_t)seed};
    pl_h5_run *run;
    fx_ok(pl_h5_run_create(path, &info, &run, &err), &err);
    pl_h5_stage_info si = {"pretrain", "steps: 1\n", "aaaa", false};
    pl_h5_stage *st;
    fx_ok(pl_h5_stage_begin(run, &si, &st, &err), &err);
    for (int s = 0; s <= steps; s += 10) {
        double loss = floor + (2.3 - floor) * exp(-rate * s) + 0.03 * fx_noise((unsigned)seed, (unsigned)s);
        fx_ok(pl_h5_stage_step(st, "loss", s, loss, &err), &err);
        if (s % 100 == 0) fx_ok(pl_h5_stage_eval(st, "acc", s, 1.0 - loss / 2.5, &err), &err);
    }
    fx_ok(pl_h5_stage_end(st, NULL, &err), &err);
    fx_ok(pl_h5_run_close(run, "completed", NULL, &err), &err);
}

/* 5 x 5 sv x sl grid (uneven values), 3 seeds, accuracy falling with sparsity; sv + sl > 1.3
 * left out as a where: filter would. */
static inline void fx_heatmap_results(const char *dir) {
    static const double sv[] = {0.0, 0.1, 0.3, 0.5, 0.8}, sl[] = {0.0, 0.2, 0.4, 0.6, 0.8};
    FILE *f;
    char path[700];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fprintf(f, "run_id\tgroup_id\tseed\tsv\tsl\tstatus\treason\tacc\tce\n");
    int id = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            if (sv[i] + sl[j] > 1.3) continue;
            for (int seed = 0; seed < 3; seed++, id++) {
                double acc = 0.86 - 0.35 * pow(sv[i], 2.2) - 0.55 * pow(sl[j], 2.5) +
                             0.01 * fx_noise((unsigned)id, 7);
                fprintf(f, "r%011d\tg%011d\t%d\t%.1f\t%.1f\tdone\t\t%.6f\t%.6f\n", id, i * 5 + j, seed, sv[i], sl[j],
                        acc, 1.5 - acc);
            }
        }
    cr_assert_eq(fclose(f), 0);
}

/* accuracy vs sparsity 0..0.9 for three methods, 3 seeds. */
static inline void fx_lines_results(const char *dir) {
    static const char *const methods[] = {"magnitude", "wanda", "sparsegpt"};
    static const double knee[] = {0.45, 0.6, 0.65};
    FILE *f;
    char path[700];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fprintf(f, "run_id\tgroup_id\tseed\tmethod\tsparsity\tstatus\treason\tacc\n");
    int id = 0;
    for (int m = 0; m < 3; m++)
        for (int s = 0; s <= 9; s++)
            for (int seed = 0; seed < 3; seed++, id++) {
                double x = s / 10.0;
                double acc = 0.2 + 0.66 / (1 + exp((x - knee[m]) / 0.08)) + 0.015 * (1 + x) * fx_noise((unsigned)id, 3);
                fprintf(f, "r%011d\tg%011d\t%d\t%s\t%.1f\tdone\t\t%.6f\n", id, m * 10 + s, seed, methods[m], x, acc);
            }
    cr_assert_eq(fclose(f), 0);
}

/* 2 methods x 3 sparsities x 3 seeds with an accuracy and a latency (100 - 10 per tenth of
 * sparsity, the same for every seed) per run. */
static inline void fx_scatter_results(const char *dir) {
    static const char *const methods[] = {"magnitude", "wanda"};
    FILE *f;
    char path[700];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fprintf(f, "run_id\tgroup_id\tseed\tmethod\tsparsity\tstatus\treason\tacc\tlatency_ms_b32_t2\n");
    int id = 0;
    for (int m = 0; m < 2; m++)
        for (int s = 1; s <= 3; s++)
            for (int seed = 0; seed < 3; seed++, id++)
                fprintf(f, "r%011d\tg%011d\t%d\t%s\t%.1f\tdone\t\t%.6f\t%d\n", id, m * 10 + s, seed,
                        methods[m], s / 10.0, 0.8 - 0.1 * s * (m + 1) + 0.01 * fx_noise((unsigned)id, 7), 100 - 10 * s);
    cr_assert_eq(fclose(f), 0);
}

/* methods x patterns at 50% sparsity, 3 seeds; one run failed. */
static inline void fx_bars_results(const char *dir) {
    static const char *const methods[] = {"magnitude", "wanda", "sparsegpt"};
    static const char *const patterns[] = {"unstructured", "\"2:4\"", "\"4:8\""};
    static const double base[] = {0.62, 0.74, 0.77}, cost[] = {0.0, 0.09, 0.05};
    FILE *f;
    char path[700];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fprintf(f, "run_id\tgroup_id\tseed\tmethod\tpattern\tstatus\treason\tacc\n");
    int id = 0;
    for (int p = 0; p < 3; p++)
        for (int m = 0; m < 3; m++)
            for (int seed = 0; seed < 3; seed++, id++) {
                double acc = base[m] - cost[p] * (m == 0 ? 1.6 : 1.0) + 0.012 * fx_noise((unsigned)id, 5);
                bool failed = p == 2 && m == 0 && seed == 2;
                fprintf(f, "r%011d\tg%011d\t%d\t%s\t%s\t%s\t%s\t%.6f\n", id, p * 3 + m, seed, methods[m], patterns[p],
                        failed ? "failed" : "done", failed ? "NaN loss" : "", failed ? NAN : acc);
            }
    cr_assert_eq(fclose(f), 0);
}

/* three learning rates x 2 seeds, pretrain loss curves in metrics.h5. */
static inline void fx_curves_results(const char *dir) {
    static const char *const lrs[] = {"0.0005", "0.002", "0.008"};
    static const double rate[] = {0.0012, 0.003, 0.006}, floor[] = {0.55, 0.35, 0.5};
    FILE *f;
    char path[700], id[32];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fprintf(f, "run_id\tgroup_id\tseed\tlr\tstatus\treason\tacc\n");
    for (int l = 0; l < 3; l++)
        for (int seed = 0; seed < 2; seed++) {
            snprintf(id, sizeof id, "c%011d", l * 2 + seed);
            fx_h5(dir, id, seed + 10 * l, 2000, floor[l], rate[l]);
            fprintf(f, "%s\tg%011d\t%d\t%s\tdone\t\t%.4f\n", id, l, seed, lrs[l], 1 - floor[l] / 2.5);
        }
    cr_assert_eq(fclose(f), 0);
}

#endif
