/* test_config_sweep.c - sweep expansion: grid, zip, cases, where, generators, seeds, ad-hoc
 * axes from overrides, and the values each run carries. */
#include <criterion/criterion.h>
#include <string.h>

#include "engine/stage.h"

static pl_experiment *load(const char *file, const char *const *ov, int n) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/config/good/%s", file);
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    pl_status st = pl_experiment_load(path, ov, n, &exp, &err);
    cr_assert_eq(st, PL_OK, "%s: %s", file, err.message);
    return exp;
}

static double value(const pl_experiment *e, int run, int axis) {
    const cfg_node *v = e->runs[run].values[axis];
    cr_assert(cfg_is_number(v));
    return cfg_number(v);
}

Test(config_sweep, grid_is_cartesian_first_axis_slowest) {
    pl_experiment *e = load("grid.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 100);
    cr_assert_eq(e->n_groups, 100);
    cr_assert_float_eq(value(e, 0, 0), 0.0, 0);
    cr_assert_float_eq(value(e, 1, 1), 0.1, 0);
    cr_assert_float_eq(value(e, 10, 0), 0.1, 0);
    /* generated values are cleaned: 0.1*3 is exactly the double nearest 0.3 */
    cr_assert_eq(value(e, 3, 1), 0.3);
    double sv;
    cr_assert_eq(cfg_get_float(e->runs[37].config, "pipeline.prune.sparsity.vision", &sv, NULL), PL_OK);
    cr_assert_eq(sv, 0.3);
    pl_experiment_free(e);
}

Test(config_sweep, where_and_seeds) {
    pl_experiment *e = load("grid_where.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 77 * 3);
    cr_assert_eq(e->n_groups, 77);
    for (int r = 0; r < e->n_runs; r++) cr_assert_leq(value(e, r, 0) + value(e, r, 1), 1.2 + 1e-12);
    /* replicates share a group id and differ in run id; seeds are the innermost axis */
    cr_assert_eq(e->runs[0].seed, 0);
    cr_assert_eq(e->runs[2].seed, 2);
    cr_assert_str_eq(e->runs[0].group_id, e->runs[1].group_id);
    cr_assert_str_neq(e->runs[0].run_id, e->runs[1].run_id);
    long long seed;
    cr_assert_eq(cfg_get_int(e->runs[2].config, "seed", &seed, NULL), PL_OK);
    cr_assert_eq(seed, 2);
    pl_experiment_free(e);
}

Test(config_sweep, zip_groups_form_one_dimension) {
    pl_experiment *e = load("zip.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 6);
    cr_assert_eq(e->sweep->n_dims, 2);
    for (int r = 0; r < e->n_runs; r++) cr_assert_float_eq(value(e, r, 0) + value(e, r, 1), 0.4, 1e-12);
    cr_assert_str_eq(e->runs[0].values[2]->u.s, "wanda");
    cr_assert_str_eq(e->runs[1].values[2]->u.s, "magnitude");
    pl_experiment_free(e);
}

Test(config_sweep, cases_cross_the_grid_and_where_filters_them) {
    pl_experiment *e = load("cases.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 7); /* 3 sparsities x 3 cases, minus magnitude at 0.3 and 0.5 */
    const char *pattern;
    cr_assert_eq(cfg_get_string(e->runs[1].config, "pipeline.prune.pattern", &pattern, NULL), PL_OK);
    cr_assert_str_eq(pattern, "4:8");
    /* an alias a case leaves unset shows the base value */
    cr_assert_str_eq(e->runs[2].values[1]->u.s, "unstructured");
    pl_experiment_free(e);
}

Test(config_sweep, labels_are_sweepable_and_part_of_the_run_id) {
    pl_experiment *e = load("labels.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 3);
    /* runs 0 and 1 configure the same pipeline and differ only in a label */
    cr_assert_str_neq(e->runs[0].run_id, e->runs[1].run_id);
    const char *mode;
    cr_assert_eq(cfg_get_string(e->runs[1].config, "labels.mode", &mode, NULL), PL_OK);
    cr_assert_str_eq(mode, "language only");
    double s;
    cr_assert_eq(cfg_get_float(e->runs[2].config, "labels.s", &s, NULL), PL_OK);
    cr_assert_eq(s, 0.5);
    pl_experiment_free(e);
}

Test(config_sweep, generators_range_linspace_logspace) {
    pl_experiment *e = load("generators.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 3 * 2 * 4);
    cr_assert_eq(e->runs[0].values[0]->kind, CFG_FLOAT);
    cr_assert_eq(cfg_number(e->runs[0].values[0]), 1e-4);
    cr_assert_eq(cfg_number(e->runs[8].values[0]), 1e-3);
    cr_assert_eq(e->runs[0].values[1]->kind, CFG_INT); /* int range stays int */
    cr_assert_eq(e->runs[4].values[1]->u.i, 300);      /* 500 excluded */
    cr_assert_eq(e->runs[3].values[2]->kind, CFG_INT); /* linspace of ints, integral steps */
    cr_assert_eq(e->runs[3].values[2]->u.i, 400);
    pl_experiment_free(e);
}

Test(config_sweep, override_lists_add_an_axis_and_overrides_set_values) {
    const char *ov[] = {"pipeline.prune.group=row,matrix", "pipeline.eval.samples=50", "sweep.seeds=[3, 4]"};
    pl_experiment *e = load("zip.yaml", ov, 3);
    /* the ad-hoc axis is named after the key's last segment */
    cr_assert_eq(e->n_axes, 4);
    cr_assert_str_eq(e->aliases[3], "group");
    cr_assert_eq(e->n_runs, 3 * 2 * 2 * 2);
    long long n;
    cr_assert_eq(cfg_get_int(e->runs[5].config, "pipeline.eval.samples", &n, NULL), PL_OK);
    cr_assert_eq(n, 50);
    cr_assert_eq(e->runs[1].seed, 4);
    pl_experiment_free(e);
}

Test(config_sweep, command_line_replaces_or_pins_a_swept_key) {
    const char *narrow[] = {"pipeline.prune.method=sparsegpt,magnitude,wanda"};
    pl_experiment *e = load("zip.yaml", narrow, 1);
    cr_assert_eq(e->n_axes, 3);
    cr_assert_eq(e->n_runs, 3 * 3);
    cr_assert_str_eq(e->runs[0].values[2]->u.s, "sparsegpt");
    pl_experiment_free(e);
    const char *pin[] = {"pipeline.prune.method=magnitude"};
    e = load("zip.yaml", pin, 1);
    cr_assert_eq(e->n_runs, 3);
    cr_assert_str_eq(e->runs[2].values[2]->u.s, "magnitude");
    pl_experiment_free(e);
}

Test(config_sweep, max_runs_can_be_raised_from_the_command_line) {
    const char *ov[] = {"sweep.max_runs=100"};
    pl_error err;
    pl_experiment *e;
    cr_assert_eq(pl_experiment_load("tests/data/config/bad/max_runs.yaml", ov, 1, &e, &err), PL_OK, "%s", err.message);
    cr_assert_eq(e->n_runs, 100);
    pl_experiment_free(e);
}

Test(config_sweep, shipped_experiments_validate) {
    const char *files[] = {"experiments/quickstart.yaml", "experiments/modality_split.yaml",
                           "experiments/modality_single.yaml", "experiments/pruning_methods.yaml",
                           "experiments/ressa.yaml", "experiments/teacher_tiny.yaml",
                           "experiments/teacher_small.yaml", "experiments/structured.yaml",
                           "experiments/ressa_latency.yaml", "experiments/efficientvlm.yaml", "experiments/loraprune.yaml", "experiments/modal_adaptive.yaml",
                           "experiments/ressa_scarce.yaml"};
    for (int i = 0; i < (int)(sizeof files / sizeof files[0]); i++) {
        pl_error err;
        pl_experiment *e;
        cr_assert_eq(pl_experiment_load(files[i], NULL, 0, &e, &err), PL_OK, "%s: %s", files[i], err.message);
        cr_assert_gt(e->n_runs, 0);
        pl_experiment_free(e);
    }
}

/* An optional key without a default (finetune.train_samples) can be an axis although the
 * base config lacks it: the cases that set it have it, the others stay without it. A key
 * the schema does not know is still refused. */
Test(config_sweep, an_axis_may_set_an_optional_key_the_base_lacks) {
    pl_experiment *e = load("optional_axis.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 2);
    const cfg_node *set = cfg_get(e->runs[0].config, "pipeline.finetune.train_samples");
    cr_assert(set != NULL && set->kind == CFG_INT && set->u.i == 256);
    cr_assert_null(cfg_get(e->runs[1].config, "pipeline.finetune.train_samples"));
    cr_assert_null(e->runs[1].values[1], "the unset axis has no value in that run");
    pl_experiment_free(e);
    const char *typo[] = {"sweep.axes.n.path=pipeline.finetune.train_sample"};
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *bad = NULL;
    cr_assert_eq(pl_experiment_load("tests/data/config/good/optional_axis.yaml", typo, 1, &bad, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "train_sample") != NULL, "%s", err.message);
}

Test(config_sweep, a_case_interpolates_against_its_own_run) {
    pl_experiment *e = load("case_interpolation.yaml", NULL, 0);
    cr_assert_eq(e->n_runs, 2);
    const double want[2] = {0.3, 0.7};
    for (int r = 0; r < 2; r++) {
        const cfg_node *v = cfg_get(e->runs[r].config, "pipeline.prune.sparsity.vision");
        cr_assert(v != NULL && cfg_is_number(v));
        cr_assert_float_eq(cfg_number(v), want[r], 1e-12, "run %d: %g, not its label's %g", r, cfg_number(v), want[r]);
    }
    pl_experiment_free(e);
}

/* Two points that resolve to one run id (an axis over a key outside run identity, or one
 * value spelled two ways) would share one folder: refused, naming both as written. */
Test(config_sweep, two_points_that_are_one_run_are_refused) {
    static const char *const axes[] = {
        "sweep.axes.th={path: engine.threads, values: [1, 2]}",
        "sweep.axes.ft={path: pipeline.finetune.teacher, values: [same, input]}",
    };
    static const char *const named[] = {"th=1", "ft=same"};
    static const char *const other[] = {"th=2", "ft=input"};
    for (int i = 0; i < 2; i++) {
        pl_error err;
        pl_error_clear(&err);
        pl_experiment *e = NULL;
        cr_assert_neq(pl_experiment_load("experiments/quickstart.yaml", &axes[i], 1, &e, &err), PL_OK, "%s", axes[i]);
        cr_expect_not_null(strstr(err.message, "run 1 of 18 (sv=0.3, sl=0.3,"), "%s", err.message);
        cr_expect_not_null(strstr(err.message, named[i]), "%s", err.message);
        cr_expect_not_null(strstr(err.message, other[i]), "%s", err.message);
        cr_expect_not_null(strstr(err.message, "are one run"), "%s", err.message);
    }
}
