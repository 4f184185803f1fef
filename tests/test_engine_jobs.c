/* test_engine_jobs.c - the same sweep with engine.jobs 1 and 2 writes bit-identical metric
 * series and summaries (every dataset of every metrics.h5 but the wall-clock `time_s`), and
 * each metrics.h5 is readable by h5dump. */
#include "engine_testutil.h"

#include <hdf5.h>
#include <unistd.h>

#include "config/strbuf.h"
#include "core/gemm_bf16.h"
#include "io/h5_lock.h"

/* Every dataset but time_s, as exact hexadecimal floats, appended to the buffer. */
static herr_t dump_dataset(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    cfg_strbuf *sb = data;
    size_t n = strlen(name);
    if (info->type != H5O_TYPE_DATASET || (n >= 6 && strcmp(name + n - 6, "time_s") == 0)) return 0;
    hid_t ds = H5Dopen2(obj, name, H5P_DEFAULT);
    hid_t sp = H5Dget_space(ds);
    hssize_t count = H5Sget_simple_extent_npoints(sp);
    double *v = calloc((size_t)count + 1, sizeof *v);
    if (v && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0) {
        cfg_strbuf_printf(sb, "%s:", name);
        for (hssize_t i = 0; i < count; i++) cfg_strbuf_printf(sb, " %a", v[i]);
        cfg_strbuf_putc(sb, '\n');
    }
    free(v);
    H5Sclose(sp);
    H5Dclose(ds);
    return 0;
}

static char *dump_metrics(const char *path) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    pl_h5_lock();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0, "%s opens", path);
    H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, dump_dataset, &sb);
    hid_t g = H5Gopen2(f, "summary", H5P_DEFAULT);
    H5O_info_t info;
    H5Oget_info(g, &info);
    for (hsize_t i = 0; i < info.num_attrs; i++) {
        hid_t a = H5Aopen_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
        char name[128];
        double v;
        H5Aget_name(a, sizeof name, name);
        H5Aread(a, H5T_NATIVE_DOUBLE, &v);
        cfg_strbuf_printf(&sb, "summary %s %a\n", name, v);
        H5Aclose(a);
    }
    H5Gclose(g);
    H5Fclose(f);
    pl_h5_unlock();
    return cfg_strbuf_take(&sb);
}

Test(engine_jobs, jobs_1_and_2_are_bit_identical) {
    char one[64], two[64], p1[512], p2[512];
    engine_tmpdir(one, sizeof one);
    engine_tmpdir(two, sizeof two);
    const char *j1[] = {"engine.jobs=1", "engine.threads=1"};
    const char *j2[] = {"engine.jobs=2", "engine.threads=1"};
    pl_engine_report a = engine_sweep(one, j1, 2, NULL);
    pl_engine_report b = engine_sweep(two, j2, 2, NULL);
    cr_assert_eq(a.completed, 8);
    cr_assert_eq(b.completed, 8);
    pl_experiment *exp = engine_load(one, j1, 2);
    bool have_h5dump = access("/usr/bin/h5dump", X_OK) == 0;
    for (int r = 0; r < exp->n_runs; r++) {
        engine_run_path(one, exp->runs[r].run_id, "metrics.h5", p1, sizeof p1);
        engine_run_path(two, exp->runs[r].run_id, "metrics.h5", p2, sizeof p2);
        char *d1 = dump_metrics(p1), *d2 = dump_metrics(p2);
        cr_assert_not_null(d1);
        cr_expect(strstr(d1, "stages/00_pretrain/loss:") != NULL, "pretrain curves replayed into every run");
        cr_expect(strstr(d1, "summary acc ") != NULL);
        cr_expect_str_eq(d1, d2, "run %s differs between jobs=1 and jobs=2", exp->runs[r].run_id);
        free(d1);
        free(d2);
        if (have_h5dump) {
            char cmd[700];
            snprintf(cmd, sizeof cmd, "h5dump -H '%s' > /dev/null 2>&1", p2);
            cr_expect_eq(system(cmd), 0, "h5dump reads %s", p2);
        }
    }
    pl_experiment_free(exp);
    engine_rmdir(one);
    engine_rmdir(two);
}

/* numerics.precision bf16: the same sweep at 1 and 2 threads writes bit-identical series
 * (the BF16 products are tiled by shape, not by thread), its numbers are not FP32's, and
 * provenance names the precision and the library that ran it. */
Test(engine_jobs, bf16_is_bit_identical_at_1_and_2_threads, .timeout = 180) {
    char why[256];
    if (!pl_bf16_supported(why, sizeof why)) cr_skip_test("%s", why);
    char one[64], two[64], fp[64], p1[512], p2[512], pf[512];
    engine_tmpdir(one, sizeof one);
    engine_tmpdir(two, sizeof two);
    engine_tmpdir(fp, sizeof fp);
    const char *t1[] = {"engine.threads=1", "numerics.precision=bf16"};
    const char *t2[] = {"engine.threads=2", "numerics.precision=bf16"};
    const char *f1[] = {"engine.threads=1"};
    cr_assert_eq(engine_sweep(one, t1, 2, NULL).completed, 8);
    cr_assert_eq(engine_sweep(two, t2, 2, NULL).completed, 8);
    cr_assert_eq(engine_sweep(fp, f1, 1, NULL).completed, 8);
    pl_experiment *exp = engine_load(one, t1, 2), *exp32 = engine_load(fp, f1, 1);
    engine_run_path(one, exp->runs[0].run_id, "metrics.h5", p1, sizeof p1);
    engine_run_path(two, exp->runs[0].run_id, "metrics.h5", p2, sizeof p2);
    engine_run_path(fp, exp32->runs[0].run_id, "metrics.h5", pf, sizeof pf);
    char *d1 = dump_metrics(p1), *d2 = dump_metrics(p2), *df = dump_metrics(pf);
    cr_expect_str_eq(d1, d2, "bf16 differs between 1 and 2 threads");
    cr_expect_str_neq(d1, df, "bf16 wrote FP32's numbers: the BF16 path did not run");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "h5dump -a /precision '%s' | grep -q 'bf16: oneDNN'", p1);
    if (access("/usr/bin/h5dump", X_OK) == 0) cr_expect_eq(system(cmd), 0, "provenance of %s", p1);
    free(d1), free(d2), free(df);
    pl_experiment_free(exp);
    pl_experiment_free(exp32);
    engine_rmdir(one);
    engine_rmdir(two);
    engine_rmdir(fp);
}
