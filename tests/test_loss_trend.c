/* test_loss_trend.c - the loss-did-not-fall flag (engine/loss_trend.h): judged on the first
 * and last 10 % of a stage's logged losses, appended as a summary scalar and a warning, and
 * shown by `prunelab status` for the run that carries it. */
#include "engine_testutil.h"

#include <unistd.h>

#include <hdf5.h>

#include "engine/loss_trend.h"
#include "engine/status.h"

/* A record of n losses: loss(i) = start + slope * i. */
static void fill(pl_record *rec, int n, double start, double slope) {
    pl_record_init(rec);
    pl_metrics_sink sink = pl_record_sink(rec);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(pl_metric_step(&sink, "loss", i, start + slope * i, NULL), PL_OK);
        cr_assert_eq(pl_metric_step(&sink, "lr", i, 1e-3, NULL), PL_OK); /* other metrics ignored */
    }
}

Test(loss_trend, falling_rising_flat_and_short) {
    pl_record rec;
    double first, last;
    fill(&rec, 100, 5.0, -0.01);
    cr_expect(!pl_loss_not_decreasing(&rec, &first, &last));
    cr_expect_float_eq(first, 5.0 - 0.01 * 4.5, 1e-12, "the mean of steps 0..9");
    cr_expect_float_eq(last, 5.0 - 0.01 * 94.5, 1e-12, "the mean of steps 90..99");
    pl_record_free(&rec);
    fill(&rec, 100, 2.0, 0.01);
    cr_expect(pl_loss_not_decreasing(&rec, &first, &last), "rising");
    pl_record_free(&rec);
    fill(&rec, 50, 2.0, 0.0);
    cr_expect(pl_loss_not_decreasing(&rec, &first, &last), "flat is not decreasing");
    pl_record_free(&rec);
    fill(&rec, PL_MIN_LOSS_VALUES - 1, 2.0, 0.1);
    cr_expect(!pl_loss_not_decreasing(&rec, &first, &last), "too short to judge");
    cr_expect(isnan(first));
    pl_record_free(&rec);
}

Test(loss_trend, note_appends_flag_and_warning) {
    pl_record rec;
    fill(&rec, 20, 2.0, 0.01);
    int before = rec.count;
    cr_assert_eq(pl_loss_trend_note(&rec, "finetune", NULL), PL_OK);
    cr_assert_eq(rec.count, before + 2);
    bool warned = false, flagged = false;
    for (int i = before; i < rec.count; i++) {
        const pl_record_item *it = &rec.items[i];
        warned |= it->kind == REC_LOG && strstr(it->text, "finetune stage's loss did not decrease") != NULL;
        flagged |= it->kind == REC_SUMMARY && strcmp(it->text, PL_LOSS_FLAG) == 0 && it->value == 1.0;
    }
    cr_expect(warned && flagged);
    pl_record_free(&rec);
    fill(&rec, 20, 2.0, -0.01);
    before = rec.count;
    cr_assert_eq(pl_loss_trend_note(&rec, "pretrain", NULL), PL_OK);
    cr_expect_eq(rec.count, before, "a falling loss adds nothing");
    pl_record_free(&rec);
}

/* Sets /summary/<name> = value in an existing metrics.h5. */
static void set_summary(const char *path, const char *name, double value) {
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t g = H5Gopen2(f, "summary", H5P_DEFAULT), space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(a, 0);
    cr_assert_geq(H5Awrite(a, H5T_NATIVE_DOUBLE, &value), 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Gclose(g);
    H5Fclose(f);
}

Test(loss_trend, status_shows_the_flagged_run) {
    char dir[64], h5[512], exp_dir[128];
    const char *fast[] = {"engine.threads=1"};
    engine_tmpdir(dir, sizeof dir);
    engine_sweep(dir, fast, 1, NULL);
    pl_experiment *exp = engine_load(dir, fast, 1);
    char id[16];
    snprintf(id, sizeof id, "%s", exp->runs[3].run_id);
    pl_experiment_free(exp);
    engine_run_path(dir, id, "metrics.h5", h5, sizeof h5);
    set_summary(h5, PL_LOSS_FLAG, 1.0);
    /* the edit breaks the run's seal: drop its record, as for a run completed before
     * records existed (trusted when metrics.h5 reads and its stages are cached) */
    char record[512];
    engine_run_path(dir, id, "record", record, sizeof record);
    cr_assert_eq(unlink(record), 0);
    snprintf(exp_dir, sizeof exp_dir, "%s/tiny_sweep", dir);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    pl_error err;
    cr_assert_eq(pl_status_print(exp_dir, out, &err), PL_OK, "%s", err.message);
    fclose(out);
    char want[128];
    snprintf(want, sizeof want, "warning  %s  a training stage's loss did not decrease", id);
    cr_expect_not_null(strstr(text, want), "%s", text);
    int warnings = 0;
    for (const char *p = text; (p = strstr(p, "  warning  ")) != NULL; p++) warnings++;
    cr_expect_eq(warnings, 1, "only that run: %s", text);
    free(text);
    engine_rmdir(dir);
}
