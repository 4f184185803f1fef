/* test_reliability.c - inputs that used to crash prunelab or that validate accepted and run
 * then refused: a load stage naming a directory or a missing file, a results directory that
 * is a file, an eval before any model stage. Each must be refused by the preflight checks
 * validate and run share, with a message naming the value and where it came from. Also
 * `prunelab status` and `prunelab collect` of a path that is no experiment's results folder:
 * both refuse it alike, naming the path. */
#include "engine_testutil.h"

#include <sys/stat.h>

#include "engine/cache.h"
#include "engine/collect.h"
#include "engine/preflight.h"
#include "engine/status.h"

#define QUICKSTART "experiments/quickstart.yaml"

/* Loads the quickstart with the given overrides; returns NULL and fills err on refusal. */
static pl_experiment *load_quickstart(const char *const *ov, int n, pl_error *err) {
    pl_experiment *exp = NULL;
    pl_error_clear(err);
    if (pl_experiment_load(QUICKSTART, ov, n, &exp, err) != PL_OK) return NULL;
    return exp;
}

Test(reliability, load_directory_cache_key_is_an_error_not_a_crash) {
    const char *ov[] = {"pipeline.load.path=/tmp"};
    pl_error err;
    pl_experiment *exp = load_quickstart(ov, 1, &err);
    cr_assert_not_null(exp, "%s", err.message);
    char key[CFG_HASH_HEX];
    cr_expect_neq(pl_cache_key(&exp->runs[0], 0, NULL, key, &err), PL_OK);
    cr_expect_not_null(strstr(err.message, "/tmp is a directory"), "%s", err.message);
    pl_experiment_free(exp);
}

/* The quickstart with one override must load, then fail pl_preflight with both texts. */
static void expect_preflight_refusal(const char *override, const char *text_a, const char *text_b) {
    const char *ov[] = {override};
    pl_error err;
    pl_experiment *exp = load_quickstart(ov, 1, &err);
    cr_assert_not_null(exp, "%s", err.message);
    cr_expect_eq(pl_preflight(exp, &err), PL_ERR_CONFIG, "%s accepted", override);
    cr_expect_not_null(strstr(err.message, text_a), "expected '%s' in: %s", text_a, err.message);
    cr_expect_not_null(strstr(err.message, text_b), "expected '%s' in: %s", text_b, err.message);
    pl_experiment_free(exp);
}

Test(reliability, preflight_refuses_a_load_directory) {
    expect_preflight_refusal("pipeline.load.path=/tmp", "<override 1>:1:20", "stage 0 'load': path '/tmp' is a directory");
}

Test(reliability, preflight_refuses_a_missing_load_file) {
    expect_preflight_refusal("pipeline.load.path=/nonexistent/teacher.safetensors", "<override 1>:1:20",
                             "'/nonexistent/teacher.safetensors' cannot be read");
}

Test(reliability, preflight_accepts_the_quickstart) {
    pl_error err;
    pl_experiment *exp = load_quickstart(NULL, 0, &err);
    cr_assert_not_null(exp, "%s", err.message);
    cr_expect_eq(pl_preflight(exp, &err), PL_OK, "%s", err.message);
    pl_experiment_free(exp);
}

Test(reliability, preflight_refuses_a_results_dir_that_is_a_file) {
    char dir[64], file[128], override[160];
    engine_tmpdir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/not_a_dir", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(override, sizeof override, "engine.results_dir=%s", file);
    expect_preflight_refusal(override, "<override 1>:1:20", "not_a_dir exists and is not a directory");
    engine_rmdir(dir);
}

Test(reliability, preflight_refuses_an_eval_before_any_model_stage) {
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("tests/data/engine/eval_first.yaml", NULL, 0, &exp, &err), PL_OK, "%s",
                 err.message);
    cr_expect_eq(pl_preflight(exp, &err), PL_ERR_CONFIG);
    cr_expect_not_null(strstr(err.message, "stage 0 'eval' needs a model"), "%s", err.message);
    pl_experiment_free(exp);
}

Test(reliability, status_of_a_missing_directory_is_an_error) {
    pl_error err;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    cr_expect_eq(pl_status_print("/tmp/prunelab_surely_absent/quickstart", out, &err), PL_ERR_IO);
    fclose(out);
    cr_expect_not_null(strstr(err.message, "/tmp/prunelab_surely_absent/quickstart does not exist"), "%s",
                       err.message);
    cr_expect_eq(strstr(text, "no runs yet"), NULL, "%s", text);
    free(text);
}

/* collect and status of one path: both refuse it with the same message. */
static void expect_collect_and_status_refuse(const char *dir, pl_status want, const char *text) {
    pl_error err;
    pl_error_clear(&err);
    pl_index idx;
    cr_expect_eq(pl_collect(dir, true, &idx, &err), want, "collect of %s accepted", dir);
    cr_expect_not_null(strstr(err.message, text), "collect: %s", err.message);
    char *out_text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&out_text, &len);
    cr_assert_not_null(out);
    pl_error_clear(&err);
    cr_expect_eq(pl_status_print(dir, out, &err), want, "status of %s accepted", dir);
    fclose(out);
    cr_expect_not_null(strstr(err.message, text), "status: %s", err.message);
    free(out_text);
}

Test(reliability, collect_of_a_missing_directory_is_an_error) {
    expect_collect_and_status_refuse("/tmp/prunelab_surely_absent/quickstart", PL_ERR_IO,
                                     "/tmp/prunelab_surely_absent/quickstart does not exist");
}

Test(reliability, collect_of_a_folder_that_is_no_experiment_names_the_experiments_in_it) {
    char dir[64], exp_dir[128], state[192];
    engine_tmpdir(dir, sizeof dir);
    expect_collect_and_status_refuse(dir, PL_ERR_INVALID, "holds no experiment.state and no runs/");
    snprintf(exp_dir, sizeof exp_dir, "%s/quickstart", dir);
    cr_assert_eq(mkdir(exp_dir, 0755), 0);
    snprintf(state, sizeof state, "%s/experiment.state", exp_dir);
    FILE *f = fopen(state, "w");
    cr_assert_not_null(f);
    fclose(f);
    char want[192];
    snprintf(want, sizeof want, "the experiments in it: %s", exp_dir);
    expect_collect_and_status_refuse(dir, PL_ERR_INVALID, want);
    pl_error err;
    pl_index idx;
    cr_expect_eq(pl_collect(exp_dir, true, &idx, &err), PL_OK, "%s", err.message);
    pl_index_free(&idx);
    engine_rmdir(dir);
}
