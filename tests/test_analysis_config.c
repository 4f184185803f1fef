/* test_analysis_config.c - figure declarations are validated like every other section:
 * unknown kinds and keys, aliases the sweep does not have, missing keys per kind, bad where:
 * expressions and duplicate names are errors at file:line:col; axis labels are read. */
#include "analysis_fixture.h"

#include "engine/stage.h"

static pl_status load(const char *figures, pl_experiment **exp, pl_error *err, char *path, size_t cap) {
    char dir[512], cwd[400], text[4096];
    fx_dir(dir, sizeof dir, "config");
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text,
             "defaults: [%s/configs/model/tiny.yaml]\n"
             "pipeline:\n  - pretrain: {}\n  - prune: {}\n"
             "sweep:\n  axes:\n"
             "    sv: {path: pipeline.prune.sparsity.vision, values: [0.1, 0.2], label: \"vision sparsity\"}\n"
             "    method: {path: pipeline.prune.method, values: [wanda, magnitude]}\n"
             "figures:\n%s", cwd, figures);
    snprintf(path, cap, "%s/exp.yaml", dir);
    fx_write(path, text);
    pl_error_clear(err);
    return pl_experiment_load(path, NULL, 0, exp, err);
}

static void refused(const char *figures, const char *where, const char *what) {
    pl_experiment *exp;
    pl_error err;
    char path[600], at[700];
    cr_assert_eq(load(figures, &exp, &err, path, sizeof path), PL_ERR_CONFIG, "accepted: %s", figures);
    snprintf(at, sizeof at, "%s:%s", path, where);
    cr_expect_not_null(strstr(err.message, at), "want %s in: %s", at, err.message);
    cr_expect_not_null(strstr(err.message, what), "want '%s' in: %s", what, err.message);
}

Test(analysis_config, good_figures_and_labels) {
    pl_experiment *exp;
    pl_error err;
    char path[600];
    fx_ok(load("  - {name: h, kind: heatmap, x: sv, y: method, z: acc, title: 'a \"b\"'}\n"
               "  - {name: l, kind: line, x: sv, y: acc, series: method, band: none, where: \"method == 'wanda'\"}\n"
               "  - {name: b, kind: bars, x: method, metric: ce, series: sv}\n"
               "  - {name: c, kind: curves, stage: pretrain, metric: loss, by: run, logy: true}\n",
               &exp, &err, path, sizeof path), &err);
    cr_assert_eq(exp->figures->u.list.count, 4);
    cr_expect_str_eq(exp->sweep->axes[0].label, "vision sparsity");
    cr_expect_str_eq(exp->sweep->axes[1].label, "method");
    pl_experiment_free(exp);
}

Test(analysis_config, bad_figures_are_positioned) {
    refused("  - {name: a, kind: pie, x: sv}\n", "10:21", "'pie' is not allowed");
    refused("  - {name: a, kind: heatmap, x: sv, y: sl, z: acc}\n", "10:40", "'sl' is not an alias");
    refused("  - {name: a, kind: heatmap, x: sv, z: acc}\n", "10:5", "needs y:");
    refused("  - {name: a, kind: lines, x: sv, y: acc, colour: red}\n", "10:", "colour");
    refused("  - {name: a, kind: lines, x: sv, y: acc, where: 'sv >'}\n", "10:", "where:");
    refused("  - {name: a, kind: curves, metric: loss}\n", "10:5", "needs stage:");
    refused("  - {name: ../a, kind: bars, x: sv, y: acc}\n", "10:12", "file name");
    refused("  - {name: a, kind: bars, x: sv, y: acc}\n  - {name: a, kind: bars, x: sv, y: ce}\n", "11:12",
            "declared twice");
    refused("  - {name: a, kind: lines, x: sv, y: acc, series: sv}\n", "10:", "same alias");
}
