/* test_io_h5.c - the run metrics file: layout, values and NaN alignment read back with the
 * HDF5 C API, dimension-scale attachment, attributes, error messages, h5dump on a live and a
 * closed file, a killed writer's file, and two threads writing two files at once.
 *
 * Set PRUNELAB_TEST_OUT=DIR to keep the sample file as DIR/metrics.h5 (the README's h5py
 * recipe was run on it). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include <omp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/metrics.h"
#include "io/h5_run.h"

/* ---- helpers ------------------------------------------------------------------------- */

typedef struct {
    char dir[64];
    char path[128];
} tmp_file;

static void tmp_make(tmp_file *t) {
    snprintf(t->dir, sizeof t->dir, "/tmp/prunelab_io_XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/metrics.h5", t->dir);
}

static void tmp_remove(tmp_file *t) {
    unlink(t->path);
    rmdir(t->dir);
}

static void ok(pl_status s, const pl_error *err) {
    cr_assert_eq(s, PL_OK, "%s", err->message);
}

static pl_h5_run_info sample_info(int flush_every) {
    pl_h5_run_info info = {
        .run_id = "0123456789ab",
        .experiment = "io_test",
        .config_yaml = "model: tiny\nseed: 7\n",
        .seed = 7,
        .git_commit = "deadbeef",
        .git_dirty = "no",
        .jobs = 1,
        .threads = 2,
        .flush_every = flush_every,
    };
    return info;
}

static double loss_at(int64_t s) { return 2.0 / (1.0 + (double)s); }

/* Stage 00_pretrain through the sink: 250 steps of loss/lr, `sparsity` from step 120 on,
 * eval acc/ce every 50 steps, a summary; `probe` logged late into an already-flushed row.
 * Stage 01_prune: 10 steps of sparsity_vision, one eval, a summary. */
static void write_sample(const char *path, FILE *log) {
    pl_error err;
    pl_error_clear(&err);
    pl_h5_run *run;
    pl_h5_run_info info = sample_info(100);
    ok(pl_h5_run_create(path, &info, &run, &err), &err);
    pl_h5_stage *st;
    pl_h5_stage_info si = {"pretrain", "steps: 250\n", "aaaa1111", false};
    ok(pl_h5_stage_begin(run, &si, &st, &err), &err);
    pl_metrics_sink sink = pl_h5_stage_sink(st, log, false);
    for (int64_t s = 0; s < 250; s++) {
        ok(pl_metric_step(&sink, "loss", s, loss_at(s), &err), &err);
        ok(pl_metric_step(&sink, "lr", s, 1e-3 * (double)s, &err), &err);
        if (s >= 120) ok(pl_metric_step(&sink, "sparsity", s, 0.5, &err), &err);
        if (s % 50 == 0) {
            ok(pl_metric_eval(&sink, "acc", s, (double)s / 250.0, &err), &err);
            ok(pl_metric_eval(&sink, "ce", s, 3.0 - (double)s / 100.0, &err), &err);
            pl_metric_progress(&sink, "eval line");
        }
    }
    ok(pl_metric_step(&sink, "probe", 10, 42.0, &err), &err);
    ok(pl_metric_summary(&sink, "acc", 0.96, &err), &err);
    ok(pl_h5_stage_end(st, NULL, &err), &err);

    pl_h5_stage_info pi = {"prune", "sv: 0.5\n", "bbbb2222", true};
    ok(pl_h5_stage_begin(run, &pi, &st, &err), &err);
    for (int64_t s = 0; s < 10; s++)
        ok(pl_h5_stage_step(st, "sparsity_vision", s, 0.05 * (double)s, &err), &err);
    ok(pl_h5_stage_eval(st, "acc", 9, 0.9, &err), &err);
    ok(pl_h5_stage_summary(st, "acc", 0.9, &err), &err);
    ok(pl_h5_run_summary(run, "params", 12345.0, &err), &err);
    /* the prune stage is left open: closing the run ends it */
    ok(pl_h5_run_close(run, "completed", NULL, &err), &err);
}

static double *read_doubles(hid_t file, const char *name, hsize_t *n) {
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    cr_assert_geq(ds, 0, "dataset %s missing", name);
    hid_t space = H5Dget_space(ds);
    cr_assert_eq(H5Sget_simple_extent_ndims(space), 1);
    H5Sget_simple_extent_dims(space, n, NULL);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    cr_assert_not_null(v);
    cr_assert_geq(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
    H5Sclose(space);
    H5Dclose(ds);
    return v;
}

static void check_string_attr(hid_t obj, const char *name, const char *want) {
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    cr_assert_geq(a, 0, "attribute %s missing", name);
    hid_t t = H5Aget_type(a);
    cr_assert(H5Tis_variable_str(t) > 0);
    char *got = NULL;
    cr_assert_geq(H5Aread(a, t, &got), 0);
    if (want) cr_assert_str_eq(got, want, "attribute %s", name);
    else cr_assert_gt(strlen(got), 0, "attribute %s is empty", name);
    H5free_memory(got);
    H5Tclose(t);
    H5Aclose(a);
}

static double double_attr(hid_t obj, const char *name) {
    double v = NAN;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    cr_assert_geq(a, 0, "attribute %s missing", name);
    cr_assert_geq(H5Aread(a, H5T_NATIVE_DOUBLE, &v), 0);
    H5Aclose(a);
    return v;
}

static int64_t int_attr(hid_t obj, const char *name) {
    int64_t v = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    cr_assert_geq(a, 0, "attribute %s missing", name);
    cr_assert_geq(H5Aread(a, H5T_NATIVE_INT64, &v), 0);
    H5Aclose(a);
    return v;
}

static int is_attached(hid_t file, const char *ds_name, const char *scale_name) {
    hid_t ds = H5Dopen2(file, ds_name, H5P_DEFAULT);
    hid_t sc = H5Dopen2(file, scale_name, H5P_DEFAULT);
    int r = H5DSis_attached(ds, sc, 0) > 0 && H5DSis_scale(sc) > 0;
    H5Dclose(sc);
    H5Dclose(ds);
    return r;
}

/* ---- tests --------------------------------------------------------------------------- */

Test(io_h5, layout_values_and_alignment) {
    tmp_file t;
    tmp_make(&t);
    const char *keep = getenv("PRUNELAB_TEST_OUT");
    char kept[512];
    if (keep) snprintf(kept, sizeof kept, "%s/metrics.h5", keep);
    const char *path = keep ? kept : t.path;
    char logpath[160];
    snprintf(logpath, sizeof logpath, "%s/log.txt", t.dir);
    FILE *log = fopen(logpath, "w");
    cr_assert_not_null(log);
    write_sample(path, log);
    fclose(log);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hsize_t n;
    double *step = read_doubles(f, "/stages/00_pretrain/step", &n);
    cr_assert_eq(n, 250);
    for (hsize_t i = 0; i < n; i++) cr_assert_eq(step[i], (double)i);
    double *loss = read_doubles(f, "/stages/00_pretrain/loss", &n);
    cr_assert_eq(n, 250);
    for (hsize_t i = 0; i < n; i++) cr_assert_eq(loss[i], loss_at((int64_t)i));
    double *sp = read_doubles(f, "/stages/00_pretrain/sparsity", &n);
    cr_assert_eq(n, 250);
    for (hsize_t i = 0; i < n; i++)
        cr_assert(i < 120 ? isnan(sp[i]) : sp[i] == 0.5, "sparsity[%llu]", (unsigned long long)i);
    double *probe = read_doubles(f, "/stages/00_pretrain/probe", &n);
    cr_assert_eq(n, 250);
    for (hsize_t i = 0; i < n; i++) cr_assert(i == 10 ? probe[i] == 42.0 : isnan(probe[i]));
    double *es = read_doubles(f, "/stages/00_pretrain/eval_step", &n);
    cr_assert_eq(n, 5);
    double *acc = read_doubles(f, "/stages/00_pretrain/acc", &n);
    for (hsize_t i = 0; i < n; i++) {
        cr_assert_eq(es[i], 50.0 * (double)i);
        cr_assert_eq(acc[i], 50.0 * (double)i / 250.0);
    }
    cr_assert(is_attached(f, "/stages/00_pretrain/loss", "/stages/00_pretrain/step"));
    cr_assert(is_attached(f, "/stages/00_pretrain/sparsity", "/stages/00_pretrain/step"));
    cr_assert(is_attached(f, "/stages/00_pretrain/acc", "/stages/00_pretrain/eval_step"));
    cr_assert(!is_attached(f, "/stages/00_pretrain/acc", "/stages/00_pretrain/step"));
    double *sv = read_doubles(f, "/stages/01_prune/sparsity_vision", &n);
    cr_assert_eq(n, 10);
    cr_assert_eq(sv[9], 0.05 * 9.0);
    free(step); free(loss); free(sp); free(probe); free(es); free(acc); free(sv);

    /* the loss dataset is chunked, extendible and deflated */
    hid_t ds = H5Dopen2(f, "/stages/00_pretrain/loss", H5P_DEFAULT);
    hid_t dcpl = H5Dget_create_plist(ds);
    cr_assert_eq(H5Pget_layout(dcpl), H5D_CHUNKED);
    cr_assert_geq(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, NULL, NULL, NULL, 0, NULL, NULL), 0);
    hid_t space = H5Dget_space(ds);
    hsize_t maxdim;
    H5Sget_simple_extent_dims(space, NULL, &maxdim);
    cr_assert_eq(maxdim, H5S_UNLIMITED);
    H5Sclose(space); H5Pclose(dcpl); H5Dclose(ds);

    check_string_attr(f, "run_id", "0123456789ab");
    check_string_attr(f, "experiment", "io_test");
    check_string_attr(f, "config", "model: tiny\nseed: 7\n");
    check_string_attr(f, "git_commit", "deadbeef");
    check_string_attr(f, "git_dirty", "no");
    check_string_attr(f, "status", "completed");
    check_string_attr(f, "status_reason", "");
    check_string_attr(f, "format", "prunelab-metrics 1");
    for (const char *const *a = (const char *const[]){"host", "cpu", "compiler", "cflags",
             "blas_config", "blas_core", "start_time", "end_time", NULL}; *a; a++)
        check_string_attr(f, *a, NULL);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    char ver[32];
    snprintf(ver, sizeof ver, "%u.%u.%u", maj, min, rel);
    check_string_attr(f, "hdf5_version", ver);
    cr_assert_eq(int_attr(f, "seed"), 7);
    cr_assert_eq(int_attr(f, "threads"), 2);

    hid_t g0 = H5Gopen2(f, "/stages/00_pretrain", H5P_DEFAULT);
    check_string_attr(g0, "kind", "pretrain");
    check_string_attr(g0, "cache", "computed");
    check_string_attr(g0, "cache_key", "aaaa1111");
    check_string_attr(g0, "status", "completed");
    check_string_attr(g0, "end_time", NULL);
    cr_assert_eq(int_attr(g0, "index"), 0);
    hid_t g1 = H5Gopen2(f, "/stages/01_prune", H5P_DEFAULT);
    check_string_attr(g1, "cache", "reused");
    check_string_attr(g1, "status", "completed"); /* ended by the run's close */
    hid_t s0 = H5Gopen2(f, "/stages/00_pretrain/summary", H5P_DEFAULT);
    cr_assert_eq(double_attr(s0, "acc"), 0.96);
    hid_t sum = H5Gopen2(f, "/summary", H5P_DEFAULT);
    cr_assert_eq(double_attr(sum, "acc"), 0.9); /* the later stage's value wins */
    cr_assert_eq(double_attr(sum, "params"), 12345.0);
    H5Gclose(sum); H5Gclose(s0); H5Gclose(g1); H5Gclose(g0);
    H5Fclose(f);

    log = fopen(logpath, "r");
    char line[64];
    int lines = 0;
    while (fgets(line, sizeof line, log)) {
        cr_assert_str_eq(line, "eval line\n");
        lines++;
    }
    fclose(log);
    cr_assert_eq(lines, 5);
    unlink(logpath);
    tmp_remove(&t);
}

Test(io_h5, misuse_is_reported_with_names) {
    tmp_file t;
    tmp_make(&t);
    pl_error err;
    pl_error_clear(&err);
    pl_h5_run *run;
    pl_h5_run_info info = sample_info(0);
    cr_assert_eq(pl_h5_run_create("/nonexistent_dir_pl/metrics.h5", &info, &run, &err),
                 PL_ERR_IO);
    cr_assert_null(run);
    cr_assert(strstr(err.message, "/nonexistent_dir_pl/metrics.h5") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "directory") != NULL, "%s", err.message);

    ok(pl_h5_run_create(t.path, &info, &run, &err), &err);
    pl_h5_stage *st;
    pl_h5_stage_info bad = {"Pre train", "", "", false};
    cr_assert_eq(pl_h5_stage_begin(run, &bad, &st, &err), PL_ERR_INVALID);
    pl_h5_stage_info si = {"finetune", "", "k", false};
    ok(pl_h5_stage_begin(run, &si, &st, &err), &err);
    ok(pl_h5_stage_step(st, "loss", 5, 1.0, &err), &err);
    ok(pl_h5_stage_step(st, "loss", 7, 1.0, &err), &err);
    cr_assert_eq(pl_h5_stage_step(st, "loss", 7, 1.0, &err), PL_ERR_INVALID);
    cr_assert(strstr(err.message, "'loss'") && strstr(err.message, "00_finetune"), "%s",
              err.message);
    cr_assert_eq(pl_h5_stage_step(st, "lr", 6, 1.0, &err), PL_ERR_INVALID);
    cr_assert(strstr(err.message, "between") != NULL, "%s", err.message);
    ok(pl_h5_stage_step(st, "lr", 5, 1.0, &err), &err); /* an existing row is fine */
    cr_assert_eq(pl_h5_stage_eval(st, "loss", 7, 1.0, &err), PL_ERR_INVALID);
    cr_assert(strstr(err.message, "already a step metric") != NULL, "%s", err.message);
    cr_assert_eq(pl_h5_stage_step(st, "a/b", 8, 1.0, &err), PL_ERR_INVALID);
    cr_assert_eq(pl_h5_stage_step(st, "step", 8, 1.0, &err), PL_ERR_INVALID);
    ok(pl_h5_run_close(run, "failed", "loss became NaN at step 8", &err), &err);

    hid_t f = H5Fopen(t.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    check_string_attr(f, "status", "failed");
    check_string_attr(f, "status_reason", "loss became NaN at step 8");
    hsize_t n;
    double *lr = read_doubles(f, "/stages/00_finetune/lr", &n);
    cr_assert_eq(n, 2);
    cr_assert(lr[0] == 1.0 && isnan(lr[1]));
    free(lr);
    H5Fclose(f);
    tmp_remove(&t);
}

static int have_h5dump(void) { return system("command -v h5dump >/dev/null 2>&1") == 0; }

static int h5dump_ok(const char *args, const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "h5dump %s '%s' >/dev/null 2>&1", args, path);
    return system(cmd) == 0;
}

Test(io_h5, h5dump_reads_a_live_and_a_closed_file) {
    if (!have_h5dump()) cr_skip_test("h5dump not installed (Debian package hdf5-tools)");
    tmp_file t;
    tmp_make(&t);
    pl_error err;
    pl_error_clear(&err);
    pl_h5_run *run;
    pl_h5_run_info info = sample_info(10);
    ok(pl_h5_run_create(t.path, &info, &run, &err), &err);
    pl_h5_stage *st;
    pl_h5_stage_info si = {"pretrain", "", "k", false};
    ok(pl_h5_stage_begin(run, &si, &st, &err), &err);
    for (int64_t s = 0; s < 25; s++) ok(pl_h5_stage_step(st, "loss", s, 1.0, &err), &err);
    /* another process reads the running file: 20 rows were flushed */
    cr_assert(h5dump_ok("-H", t.path));
    cr_assert(h5dump_ok("-d /stages/00_pretrain/loss", t.path));
    ok(pl_h5_run_close(run, NULL, NULL, &err), &err);
    cr_assert(h5dump_ok("-H", t.path));
    cr_assert(h5dump_ok("", t.path));
    tmp_remove(&t);
}

Test(io_h5, killed_writer_leaves_a_readable_file) {
    tmp_file t;
    tmp_make(&t);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        pl_error err;
        pl_h5_run *run;
        pl_h5_stage *st;
        pl_h5_run_info info = sample_info(100);
        pl_h5_stage_info si = {"pretrain", "", "k", false};
        if (pl_h5_run_create(t.path, &info, &run, &err) != PL_OK ||
            pl_h5_stage_begin(run, &si, &st, &err) != PL_OK)
            _exit(2);
        for (int64_t s = 0; s < 250; s++) /* flushes after rows 100 and 200 */
            if (pl_h5_stage_step(st, "loss", s, loss_at(s), &err) != PL_OK) _exit(3);
        _exit(0); /* no close: 50 rows die in the buffer */
    }
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    hid_t f = H5Fopen(t.path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "a killed writer's file must open");
    check_string_attr(f, "status", "running");
    check_string_attr(f, "end_time", "");
    hsize_t n, ns;
    double *loss = read_doubles(f, "/stages/00_pretrain/loss", &n);
    double *step = read_doubles(f, "/stages/00_pretrain/step", &ns);
    cr_assert_eq(n, 200);
    cr_assert_eq(ns, 200);
    for (hsize_t i = 0; i < n; i++) cr_assert_eq(loss[i], loss_at((int64_t)i));
    cr_assert_eq(step[199], 199.0);
    free(loss);
    free(step);
    H5Fclose(f);
    tmp_remove(&t);
}

Test(io_h5, two_threads_write_two_files) {
    tmp_file t[2];
    tmp_make(&t[0]);
    tmp_make(&t[1]);
    int failures = 0;
#pragma omp parallel num_threads(2) reduction(+ : failures)
    {
        int me = omp_get_thread_num();
        pl_error err;
        pl_h5_run *run;
        pl_h5_stage *st;
        pl_h5_run_info info = sample_info(7);
        pl_h5_stage_info si = {"pretrain", "", "k", false};
        if (pl_h5_run_create(t[me].path, &info, &run, &err) != PL_OK) {
            failures++;
        } else {
            pl_status s = pl_h5_stage_begin(run, &si, &st, &err);
            for (int64_t k = 0; k < 600 && s == PL_OK; k++) {
                s = pl_h5_stage_step(st, "loss", k, (double)(me * 1000 + k), &err);
                if (s == PL_OK) s = pl_h5_stage_step(st, "lr", k, (double)k, &err);
                if (s == PL_OK && k % 20 == 0) s = pl_h5_stage_eval(st, "acc", k, me, &err);
            }
            if (s != PL_OK) failures++;
            if (pl_h5_run_close(run, NULL, NULL, &err) != PL_OK) failures++;
        }
    }
    cr_assert_eq(failures, 0);
    for (int me = 0; me < 2; me++) {
        hid_t f = H5Fopen(t[me].path, H5F_ACC_RDONLY, H5P_DEFAULT);
        cr_assert_geq(f, 0);
        hsize_t n;
        double *loss = read_doubles(f, "/stages/00_pretrain/loss", &n);
        cr_assert_eq(n, 600);
        for (hsize_t k = 0; k < n; k++) cr_assert_eq(loss[k], (double)(me * 1000 + (int)k));
        double *acc = read_doubles(f, "/stages/00_pretrain/acc", &n);
        cr_assert_eq(n, 30);
        cr_assert_eq(acc[29], (double)me);
        free(loss);
        free(acc);
        H5Fclose(f);
        tmp_remove(&t[me]);
    }
}
