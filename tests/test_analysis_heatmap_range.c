/* test_analysis_heatmap_range.c - a before/after pair of heatmaps (pruned_acc, acc) is
 * drawn on one colour scale, so one colour means one accuracy in both, while a heatmap of
 * another metric family keeps its own; axis and colour-bar labels name standard metrics in
 * words ("accuracy after pruning"), tags included. */
#include "analysis_fixture.h"

#include "io/heatmap_range.h"
#include "io/metric_label.h"
#include "io/plot.h"

/* A 3 x 3 sv x sl grid with pruned_acc in 0.20..0.60, acc in 0.50..0.90 and ce 1..5. */
static void write_before_after(const char *dir) {
    FILE *f;
    char path[700];
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    cr_assert_not_null(f = fopen(path, "w"));
    fprintf(f, "run_id\tgroup_id\tseed\tsv\tsl\tstatus\treason\tacc\tce\tpruned_acc\n");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int k = i * 3 + j;
            fprintf(f, "r%011d\tg%011d\t0\t%.1f\t%.1f\tcompleted\t\t%.2f\t%.1f\t%.2f\n", k, k, 0.3 + 0.2 * i,
                    0.3 + 0.2 * j, 0.5 + 0.05 * k, 1.0 + 0.5 * k, 0.2 + 0.05 * k);
        }
    cr_assert_eq(fclose(f), 0);
}

static pl_figure heatmap(const char *name, const char *metric) {
    return (pl_figure){.name = name, .kind = PL_FIG_HEATMAP, .kind_name = "heatmap", .x = "sv", .y = "sl",
                       .metric = metric, .digits = 2, .band = true};
}

/* The value of `name = <number>` in a written script. */
static double script_number(const char *dir, const char *fig, const char *name) {
    char path[800], want[64];
    snprintf(path, sizeof path, "%s/figures/%s.gp", dir, fig);
    char *gp = fx_read(path);
    cr_assert_not_null(gp, "%s", path);
    snprintf(want, sizeof want, "\n%s = ", name);
    const char *at = strstr(gp, want);
    cr_assert_not_null(at, "no %s in %s", name, path);
    double v = strtod(at + strlen(want), NULL);
    free(gp);
    return v;
}

static char *script_text(const char *dir, const char *fig) {
    char path[800];
    snprintf(path, sizeof path, "%s/figures/%s.gp", dir, fig);
    char *gp = fx_read(path);
    cr_assert_not_null(gp, "%s", path);
    return gp;
}

Test(analysis_heatmap_range, before_and_after_heatmaps_share_one_colour_range) {
    char dir[512];
    fx_dir(dir, sizeof dir, "heatmap_range");
    write_before_after(dir);
    pl_error err;
    pl_error_clear(&err);
    pl_results r;
    fx_ok(pl_results_read(dir, &r, &err), &err);
    pl_figure figs[3] = {heatmap("pruned_heatmap", "pruned_acc"), heatmap("recovered_heatmap", "acc"),
                         heatmap("ce_heatmap", "ce")};
    fx_ok(pl_heatmap_share_ranges(&r, figs, 3, &err), &err);
    cr_expect(figs[0].shared_zrange && figs[1].shared_zrange);
    cr_expect_not(figs[2].shared_zrange, "ce is another family");
    pl_plot_opts o = {.templates = "analysis", .render = false};
    for (int i = 0; i < 3; i++) fx_ok(pl_plot_figure(&r, &figs[i], &o, NULL, &err), &err);
    pl_results_free(&r);
    double lo0 = script_number(dir, "pruned_heatmap", "zmin"), hi0 = script_number(dir, "pruned_heatmap", "zmax");
    double lo1 = script_number(dir, "recovered_heatmap", "zmin"), hi1 = script_number(dir, "recovered_heatmap", "zmax");
    cr_expect_float_eq(lo0, 0.2, 1e-9);
    cr_expect_float_eq(hi0, 0.9, 1e-9);
    cr_expect_float_eq(lo1, lo0, 1e-12);
    cr_expect_float_eq(hi1, hi0, 1e-12);
    cr_expect_float_eq(script_number(dir, "ce_heatmap", "zmin"), 1.0, 1e-9);
    cr_expect_float_eq(script_number(dir, "ce_heatmap", "zmax"), 5.0, 1e-9);
    char *gp = script_text(dir, "pruned_heatmap");
    cr_expect_not_null(strstr(gp, "zlabel_text = 'accuracy after pruning'\n"), "%s", gp);
    free(gp);
    if (getenv("PRUNELAB_TEST_OUT") == NULL) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        cr_expect_eq(system(cmd), 0);
    }
}

Test(analysis_heatmap_range, a_lone_heatmap_keeps_its_own_range) {
    char dir[512];
    fx_dir(dir, sizeof dir, "heatmap_range_alone");
    write_before_after(dir);
    pl_error err;
    pl_results r;
    fx_ok(pl_results_read(dir, &r, &err), &err);
    pl_figure figs[2] = {heatmap("after", "acc"), heatmap("missing", "no_such_metric")};
    fx_ok(pl_heatmap_share_ranges(&r, figs, 2, &err), &err);
    cr_expect_not(figs[0].shared_zrange);
    cr_expect_not(figs[1].shared_zrange);
    pl_results_free(&r);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (getenv("PRUNELAB_TEST_OUT") == NULL) cr_expect_eq(system(cmd), 0);
}

static void expect_label(const char *metric, const char *want) {
    char buf[256];
    cr_expect_str_eq(pl_metric_label(metric, buf, sizeof buf), want, "label of %s", metric);
}

Test(analysis_heatmap_range, standard_metrics_have_readable_labels) {
    expect_label("acc", "accuracy");
    expect_label("pruned_acc", "accuracy after pruning");
    expect_label("masked_acc", "accuracy of the masked model");
    expect_label("ce", "cross-entropy");
    expect_label("pruned_ce", "cross-entropy after pruning");
    expect_label("acc_what", "accuracy (what-is-at questions)");
    expect_label("pruned_acc_howmany", "accuracy after pruning (how-many questions)");
    expect_label("latency_ms_b32_t2", "latency (ms per batch of 32, 2 threads)");
    expect_label("masked_latency_ms_b1_t1", "latency of the masked model (ms per batch of 1, 1 thread)");
    expect_label("throughput_b32_t2", "throughput (samples/s at batch 32, 2 threads)");
    expect_label("params", "parameters");
    expect_label("nonzero_params", "non-zero parameters");
    expect_label("flops_per_sample", "FLOPs per sample");
    expect_label("loss_task", "task loss");
    expect_label("pre_acc", "accuracy (pre)");
    expect_label("sparsity_vision", "sparsity (vision)");
    expect_label("my_metric", "my_metric");
}

static void expect_family(const char *metric, const char *want) {
    char buf[256];
    cr_expect_str_eq(pl_metric_family(metric, buf, sizeof buf), want, "family of %s", metric);
}

Test(analysis_heatmap_range, metric_families) {
    expect_family("acc", "acc");
    expect_family("pruned_acc", "acc");
    expect_family("masked_acc_what", "acc");
    expect_family("pruned_ce", "ce");
    expect_family("latency_ms_b1_t1", "latency_ms_b1_t1");
    expect_family("pruned_latency_ms_b1_t1", "latency_ms_b1_t1");
    expect_family("my_metric", "my_metric");
}
