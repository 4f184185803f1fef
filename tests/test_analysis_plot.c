/* test_analysis_plot.c - every figure kind renders a non-empty PNG and PDF from a results
 * directory built here (skipped without gnuplot), the data file and script are kept next to
 * them, and a hostile title is rendered literally: nothing it says runs, and the script holds
 * it as an escaped literal. PRUNELAB_TEST_OUT=DIR keeps the results and figures. */
#include "analysis_fixture.h"

#include "io/gnuplot_run.h"
#include "io/gp_quote.h"
#include "io/plot.h"

static pl_plot_opts opts(void) {
    static const char *const aliases[] = {"sv", "sl", "sparsity", "method", "pattern", "lr"};
    static const char *const labels[] = {"vision sparsity sv", "language sparsity sl", "sparsity (fraction removed)",
                                         "method", "sparsity pattern", "peak learning rate"};
    return (pl_plot_opts){.templates = "analysis", .aliases = aliases, .labels = labels, .n_aliases = 6,
                          .render = true};
}

static void check_files(const char *dir, const char *name) {
    const char *ext[] = {"png", "pdf", "tsv", "gp"};
    for (int i = 0; i < 4; i++) {
        char path[800];
        snprintf(path, sizeof path, "%s/figures/%s.%s", dir, name, ext[i]);
        cr_expect_gt(fx_size(path), 100, "%s is missing or nearly empty", path);
    }
}

static void render(const char *dir, pl_figure *f) {
    pl_error err;
    pl_error_clear(&err);
    pl_results r;
    fx_ok(pl_results_read(dir, &r, &err), &err);
    pl_plot_opts o = opts();
    fx_ok(pl_plot_figure(&r, f, &o, NULL, &err), &err);
    pl_results_free(&r);
    check_files(dir, f->name);
}

static void need_gnuplot(void) {
    if (!pl_gnuplot_available("gnuplot")) cr_skip_test("gnuplot is not installed");
}

Test(analysis_plot, heatmap) {
    need_gnuplot();
    char dir[512];
    fx_dir(dir, sizeof dir, "heatmap");
    fx_heatmap_results(dir);
    pl_figure f = {.name = "split", .kind = PL_FIG_HEATMAP, .kind_name = "heatmap", .x = "sv", .y = "sl",
                   .metric = "acc", .digits = 2, .band = true, .title = "Wanda, no recovery: accuracy (mean of 3 seeds)"};
    render(dir, &f);
    char path[800];
    snprintf(path, sizeof path, "%s/figures/split.tsv", dir);
    char *tsv = fx_read(path);
    cr_assert_not_null(tsv);
    cr_expect(strncmp(tsv, "xi\tyi\tsv\tsl\tmean\tstd\tn\n0\t0\t0.0\t0.0\t", 33) == 0, "%s", tsv);
    free(tsv);
}

Test(analysis_plot, lines) {
    need_gnuplot();
    char dir[512];
    fx_dir(dir, sizeof dir, "lines");
    fx_lines_results(dir);
    pl_figure f = {.name = "acc_vs_sparsity", .kind = PL_FIG_LINES, .kind_name = "lines", .x = "sparsity",
                   .series = "method", .metric = "acc", .band = true, .title = "Accuracy vs sparsity (3 seeds, ±1 std)"};
    render(dir, &f);
}

/* Accuracy against a latency metric, a point per configuration: in the lines fixture the
 * latency column is made to fall with sparsity, so the means can be checked exactly. */
Test(analysis_plot, scatter) {
    need_gnuplot();
    char dir[512], path[800];
    fx_dir(dir, sizeof dir, "scatter");
    fx_scatter_results(dir);
    pl_figure f = {.name = "acc_vs_latency", .kind = PL_FIG_SCATTER, .kind_name = "scatter",
                   .x = "latency_ms_b32_t2", .series = "method", .metric = "acc",
                   .title = "Accuracy vs latency (3 seeds, ±1 std)"};
    render(dir, &f);
    snprintf(path, sizeof path, "%s/figures/acc_vs_latency.tsv", dir);
    char *tsv = fx_read(path);
    cr_assert_not_null(tsv);
    cr_expect(strncmp(tsv, "series\tseries_index\tlatency_ms_b32_t2\tx_std\tacc\ty_std\tn\n", 55) == 0, "%s", tsv);
    int rows = 0;
    for (const char *c = tsv; *c; c++) rows += *c == '\n';
    cr_expect_eq(rows, 1 + 2 * 3, "a header, then one row per (method, sparsity) configuration");
    /* first configuration: magnitude at 0.1, latency 90 on every seed (std 0), 3 seeds */
    char series[32];
    int index, n;
    double x, xs, y, ys;
    const char *row = strchr(tsv, '\n') + 1;
    cr_assert_eq(sscanf(row, "%31s %d %lf %lf %lf %lf %d", series, &index, &x, &xs, &y, &ys, &n), 7, "%s", row);
    cr_expect_str_eq(series, "magnitude");
    cr_expect(index == 1 && x == 90.0 && xs == 0.0 && n == 3, "%s", row);
    cr_expect(fabs(y - 0.7) < 0.02, "%s", row);
    free(tsv);
}

Test(analysis_plot, bars) {
    need_gnuplot();
    char dir[512];
    fx_dir(dir, sizeof dir, "bars");
    fx_bars_results(dir);
    pl_figure f = {.name = "methods", .kind = PL_FIG_BARS, .kind_name = "bars", .x = "pattern", .series = "method",
                   .metric = "acc", .band = true, .title = "Methods x patterns at 50% sparsity"};
    render(dir, &f);
}

Test(analysis_plot, curves) {
    need_gnuplot();
    char dir[512];
    fx_dir(dir, sizeof dir, "curves");
    fx_curves_results(dir);
    pl_figure f = {.name = "loss", .kind = PL_FIG_CURVES, .kind_name = "curves", .stage = "pretrain",
                   .series = "lr", .metric = "loss", .band = true, .logy = true, .title = "Pretraining loss"};
    render(dir, &f);
    pl_figure g = {.name = "loss_runs", .kind = PL_FIG_CURVES, .kind_name = "curves", .stage = "pretrain",
                   .metric = "acc", .by_run = true, .band = false, .title = "Validation accuracy per run"};
    render(dir, &g);
}

Test(analysis_plot, hostile_title_is_literal) {
    need_gnuplot();
    char dir[512];
    fx_dir(dir, sizeof dir, "hostile");
    fx_lines_results(dir);
    unlink("/tmp/prunelab_pwned");
    const char *title = "\"; system(\"touch /tmp/prunelab_pwned\"); \" ' `touch /tmp/prunelab_pwned` @x \\ back\\nslash\n"
                        "second line ^_{}";
    pl_figure f = {.name = "hostile", .kind = PL_FIG_LINES, .kind_name = "lines", .x = "sparsity", .series = "method",
                   .metric = "acc", .band = true, .title = title, .ylabel = "y'); system('touch /tmp/prunelab_pwned"};
    render(dir, &f);
    cr_expect_eq(access("/tmp/prunelab_pwned", F_OK), -1, "the title ran a command");
    char path[800];
    snprintf(path, sizeof path, "%s/figures/hostile.gp", dir);
    char *gp = fx_read(path);
    cr_assert_not_null(gp);
    cr_expect_not_null(strstr(gp, "title_text = ('\"; system(\"touch /tmp/prunelab_pwned\"); \" '' `touch "
                                  "/tmp/prunelab_pwned` @x \\ back\\nslash' . \"\\n\" . 'second line ^_{}')\n"),
                       "%s", gp);
    cr_expect_not_null(strstr(gp, "ylabel_text = 'y''); system(''touch /tmp/prunelab_pwned'\n"));
    free(gp);
}

static void quoted(const char *in, const char *want) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    pl_gp_quote(&sb, in);
    cr_assert_str_eq(sb.data, want);
    cfg_strbuf_free(&sb);
}

Test(analysis_plot, gnuplot_literals) {
    quoted("", "''");
    quoted(NULL, "''");
    quoted("plain", "'plain'");
    quoted("it's", "'it''s'");
    quoted("a`b`\"c\"\\d", "'a`b`\"c\"\\d'");
    quoted("a\nb", "('a' . \"\\n\" . 'b')");
    quoted("\ttab\r", "(\"\\t\" . 'tab' . \"\\015\")");
}

/* A figure says how many runs its points average, and names a column that differs within a
 * point (no gnuplot needed: only the data and script are written). */
Test(analysis_plot, the_report_names_a_column_that_differs_within_a_point) {
    char dir[512];
    fx_dir(dir, sizeof dir, "mixed");
    fx_lines_results(dir);
    pl_error err;
    pl_error_clear(&err);
    pl_results r;
    fx_ok(pl_results_read(dir, &r, &err), &err);
    pl_plot_opts o = opts();
    o.render = false;
    pl_average_report avg;
    pl_figure by_method = {.name = "by_method", .kind = PL_FIG_BARS, .kind_name = "bars", .x = "method",
                           .metric = "acc", .title = "every sparsity in one bar"};
    fx_ok(pl_plot_figure(&r, &by_method, &o, &avg, &err), &err);
    cr_expect_eq(avg.n_mixed, 1);
    cr_expect(strncmp(avg.mixed, "sparsity (", 10) == 0, "%s", avg.mixed);
    pl_figure lines = {.name = "lines", .kind = PL_FIG_LINES, .kind_name = "lines", .x = "sparsity",
                       .series = "method", .metric = "acc", .title = "one point per configuration"};
    fx_ok(pl_plot_figure(&r, &lines, &o, &avg, &err), &err);
    cr_expect_eq(avg.n_mixed, 0, "%s", avg.mixed);
    cr_expect_eq(avg.fewest, 3);
    cr_expect_eq(avg.most, 3);
    pl_results_free(&r);
}
