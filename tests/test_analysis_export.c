/* test_analysis_export.c - export of a results directory built here (index.tsv as the engine
 * writes it, two metrics.h5 written with io/h5_run.h) to known TSV: long, aggregated per
 * configuration and per --by alias, filtered by where, curves per run and per group; the
 * aggregation math (mean, sample std, n; NaN left out; one seed -> std nan); numbers keep
 * '.' decimals under a ',' locale. */
#include "analysis_fixture.h"

#include <locale.h>

#include "io/export.h"

/* 2 configurations (sv 0.5, 0.25 x method wanda) x 2 seeds + one failed run. */
static void small_results(char *dir, size_t cap) {
    fx_dir(dir, cap, "export");
    fx_write_in(dir, "index.tsv",
                "run_id\tgroup_id\tseed\tsv\tmethod\tstatus\treason\tacc\tce\n"
                "aaaaaaaaaaa1\tgggggggggg01\t0\t0.5\twanda\tdone\t\t0.5\t1.25\n"
                "aaaaaaaaaaa2\tgggggggggg01\t1\t0.5\twanda\tdone\t\t0.7\t1.0\n"
                "aaaaaaaaaaa3\tgggggggggg02\t0\t0.25\twanda\tdone\t\t0.8\tnan\n"
                "aaaaaaaaaaa4\tgggggggggg02\t1\t0.25\twanda\tfailed\tNaN loss\t\t\n");
    fx_h5(dir, "aaaaaaaaaaa1", 0, 20, 0.5, 0.1);
    fx_h5(dir, "aaaaaaaaaaa2", 1, 20, 0.5, 0.1);
}

static char *export_text_report(const char *dir, pl_export_opts o, pl_export_report *rep) {
    pl_error err;
    pl_error_clear(&err);
    pl_results r;
    fx_ok(pl_results_read(dir, &r, &err), &err);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    cr_assert_not_null(mem);
    fx_ok(pl_export(&r, &o, mem, "<memory>", rep, &err), &err);
    fclose(mem);
    pl_results_free(&r);
    return buf;
}

static char *export_text(const char *dir, pl_export_opts o, int *skipped) {
    pl_export_report rep;
    char *t = export_text_report(dir, o, &rep);
    if (skipped) *skipped = rep.left_out;
    return t;
}

Test(analysis_export, long_table) {
    char dir[512];
    small_results(dir, sizeof dir);
    int skipped = -1;
    char *t = export_text(dir, (pl_export_opts){0}, &skipped);
    cr_assert_str_eq(t, "run_id\tgroup_id\tseed\tsv\tmethod\tmetric\tvalue\n"
                        "aaaaaaaaaaa1\tgggggggggg01\t0\t0.5\twanda\tacc\t0.5\n"
                        "aaaaaaaaaaa1\tgggggggggg01\t0\t0.5\twanda\tce\t1.25\n"
                        "aaaaaaaaaaa2\tgggggggggg01\t1\t0.5\twanda\tacc\t0.7\n"
                        "aaaaaaaaaaa2\tgggggggggg01\t1\t0.5\twanda\tce\t1\n"
                        "aaaaaaaaaaa3\tgggggggggg02\t0\t0.25\twanda\tacc\t0.8\n"
                        "aaaaaaaaaaa3\tgggggggggg02\t0\t0.25\twanda\tce\tnan\n");
    cr_expect_eq(skipped, 1);
    free(t);
}

Test(analysis_export, aggregated_per_configuration) {
    char dir[512];
    small_results(dir, sizeof dir);
    const char *metrics[] = {"acc", "ce"};
    pl_export_opts o = {.metrics = metrics, .n_metrics = 2, .agg = PL_AGG_MEAN | PL_AGG_STD | PL_AGG_N};
    char *t = export_text(dir, o, NULL);
    /* groups ordered by alias values (sv 0.25 first); std of {0.5, 0.7} = 0.1414...;
     * one seed: std nan; no finite value: mean nan, n 0 */
    cr_assert_str_eq(t, "group_id\tsv\tmethod\tmetric\tmean\tstd\tn\n"
                        "gggggggggg02\t0.25\twanda\tacc\t0.8\tnan\t1\n"
                        "gggggggggg01\t0.5\twanda\tacc\t0.6\t0.14142135623730948\t2\n"
                        "gggggggggg02\t0.25\twanda\tce\tnan\tnan\t0\n"
                        "gggggggggg01\t0.5\twanda\tce\t1.125\t0.1767766952966369\t2\n");
    free(t);
}

Test(analysis_export, by_alias_where_and_fields) {
    char dir[512];
    small_results(dir, sizeof dir);
    const char *metrics[] = {"acc"}, *by[] = {"method"};
    pl_export_opts o = {.metrics = metrics, .n_metrics = 1, .by = by, .n_by = 1, .agg = PL_AGG_MEAN | PL_AGG_N};
    char *t = export_text(dir, o, NULL);
    cr_assert_str_eq(t, "method\tmetric\tmean\tn\nwanda\tacc\t0.6666666666666666\t3\n");
    free(t);
    o.where = "sv > 0.3 and method == 'wanda'";
    t = export_text(dir, o, NULL);
    cr_assert_str_eq(t, "method\tmetric\tmean\tn\nwanda\tacc\t0.6\t2\n");
    free(t);
}

Test(analysis_export, curves_per_run_and_group) {
    char dir[512];
    small_results(dir, sizeof dir);
    const char *metrics[] = {"acc"};
    pl_export_opts o = {.metrics = metrics, .n_metrics = 1, .stage = "pretrain", .where = "sv == 0.5"};
    char *t = export_text(dir, o, NULL);
    /* acc is logged at steps 0 and 100 only up to step 20: step 0, 1 - loss/2.5 */
    const char *head = "run_id\tgroup_id\tseed\tsv\tmethod\tmetric\tstep\tvalue\n"
                       "aaaaaaaaaaa1\tgggggggggg01\t0\t0.5\twanda\tacc\t0\t";
    cr_assert(strncmp(t, head, strlen(head)) == 0, "%s", t);
    int lines = 0;
    for (char *p = t; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, 3, "%s", t);
    free(t);
    const char *loss[] = {"loss"};
    o.metrics = loss;
    o.agg = PL_AGG_MEAN | PL_AGG_N;
    t = export_text(dir, o, NULL);
    /* steps 0, 10, 20 of both seeds, averaged per step */
    head = "group_id\tsv\tmethod\tmetric\tstep\tmean\tn\ngggggggggg01\t0.5\twanda\tloss\t0\t";
    cr_assert(strncmp(t, head, strlen(head)) == 0, "%s", t);
    lines = 0;
    for (char *p = t; *p; p++) lines += *p == '\n';
    cr_expect_eq(lines, 4, "%s", t);
    cr_expect_not_null(strstr(t, "\tloss\t20\t"));
    free(t);
}

Test(analysis_export, errors_name_what_exists) {
    char dir[512];
    small_results(dir, sizeof dir);
    pl_error err;
    pl_error_clear(&err);
    pl_results r;
    fx_ok(pl_results_read(dir, &r, &err), &err);
    const char *metrics[] = {"accuracy"};
    pl_export_opts o = {.metrics = metrics, .n_metrics = 1};
    FILE *null = fopen("/dev/null", "w");
    cr_assert_eq(pl_export(&r, &o, null, "x", NULL, &err), PL_ERR_INVALID);
    cr_expect_not_null(strstr(err.message, "no metric 'accuracy' in index.tsv (there: acc, ce)"), "%s", err.message);
    o = (pl_export_opts){.where = "sv >"};
    cr_assert_eq(pl_export(&r, &o, null, "x", NULL, &err), PL_ERR_CONFIG);
    cr_expect_not_null(strstr(err.message, "--where:1:"), "%s", err.message);
    const char *acc[] = {"acc"};
    o = (pl_export_opts){.metrics = acc, .n_metrics = 1, .stage = "finetune", .where = "sv == 0.5"};
    cr_assert_neq(pl_export(&r, &o, null, "x", NULL, &err), PL_OK);
    cr_expect_not_null(strstr(err.message, "no stage 'finetune' (stages: 00_pretrain)"), "%s", err.message);
    fclose(null);
    pl_results_free(&r);
    unsigned agg;
    cr_expect_eq(pl_export_parse_agg("n,mean", &agg, &err), PL_OK);
    cr_expect_eq(agg, PL_AGG_N | PL_AGG_MEAN);
    cr_expect_eq(pl_export_parse_agg("median", &agg, &err), PL_ERR_INVALID);
}

Test(analysis_export, stats_math) {
    double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
    pl_stats s = pl_stats_of(v, 8);
    cr_expect_eq(s.n, 8);
    cr_expect_float_eq(s.mean, 5.0, 1e-15);
    cr_expect_float_eq(s.std, sqrt(32.0 / 7.0), 1e-15); /* sample std: divisor n - 1 */
    double w[] = {1e9 + 1, 1e9 + 2, 1e9 + 3, NAN, INFINITY};
    s = pl_stats_of(w, 5);
    cr_expect_eq(s.n, 3);
    cr_expect_float_eq(s.mean, 1e9 + 2, 1e-6);
    cr_expect_float_eq(s.std, 1.0, 1e-9);
    double one[] = {0.75};
    s = pl_stats_of(one, 1);
    cr_expect(s.n == 1 && s.mean == 0.75 && isnan(s.std));
    s = pl_stats_of(NULL, 0);
    cr_expect(s.n == 0 && isnan(s.mean) && isnan(s.std));
}

Test(analysis_export, comma_locale_keeps_dots) {
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", NULL};
    const char *got = NULL;
    for (int i = 0; names[i] && !got; i++) got = setlocale(LC_NUMERIC, names[i]);
    if (!got) cr_skip_test("no locale with a ',' decimal point is installed");
    char dir[512];
    small_results(dir, sizeof dir);
    const char *metrics[] = {"acc"};
    pl_export_opts o = {.metrics = metrics, .n_metrics = 1, .agg = PL_AGG_MEAN};
    char *t = export_text(dir, o, NULL);
    setlocale(LC_NUMERIC, "C");
    cr_assert_str_eq(t, "group_id\tsv\tmethod\tmetric\tmean\ngggggggggg02\t0.25\twanda\tacc\t0.8\n"
                        "gggggggggg01\t0.5\twanda\tacc\t0.6\n");
    free(t);
}

/* What an export leaves out and averages is reported: the failed run by its state, the runs
 * per row (fewest and most), and a column that differs within a row when --by groups over it. */
Test(analysis_export, the_report_says_what_each_row_averages_and_what_is_left_out) {
    char dir[512];
    small_results(dir, sizeof dir);
    const char *metrics[] = {"acc"};
    pl_export_report rep;
    free(export_text_report(dir, (pl_export_opts){.metrics = metrics, .n_metrics = 1, .agg = PL_AGG_MEAN}, &rep));
    cr_expect_eq(rep.left_out, 1);
    cr_expect_str_eq(rep.left_out_by, "1 failed run");
    cr_expect_eq(rep.avg.fewest, 1, "sv 0.25 has one completed run");
    cr_expect_eq(rep.avg.most, 2);
    cr_expect_eq(rep.avg.n_mixed, 0, "one row per configuration mixes nothing");
    char line[160];
    pl_average_describe(&rep.avg, "row", line, sizeof line);
    cr_expect_str_eq(line, "rows average 1 to 2 runs");
    const char *by[] = {"method"};
    free(export_text_report(dir, (pl_export_opts){.metrics = metrics, .n_metrics = 1, .by = by, .n_by = 1,
                                                  .agg = PL_AGG_MEAN}, &rep));
    cr_expect_eq(rep.avg.most, 3);
    cr_expect_eq(rep.avg.n_mixed, 1);
    cr_expect_str_eq(rep.avg.mixed, "sv (0.5, 0.25)");
}
