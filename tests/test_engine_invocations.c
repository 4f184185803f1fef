/* test_engine_invocations.c - runs of earlier invocations stay visible: running one
 * experiment file again with other overrides adds its runs to index.tsv and status instead
 * of replacing them; after the file itself changes, the older run folders are left out of
 * the index but the run's log and `prunelab status` say where they are. */
#include "engine_testutil.h"

#include <unistd.h>

#include "engine/collect.h"
#include "engine/status.h"

/* Data lines of a TSV file (all lines but the header). */
static int data_lines(const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing", path);
    int lines = 0, c, last = '\n';
    while ((c = fgetc(f)) != EOF) {
        lines += c == '\n';
        last = c;
    }
    fclose(f);
    return lines + (last != '\n') - 1;
}

/* `prunelab status DIR` as text (free it). */
static char *status_text(const char *exp_dir) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_status_print(exp_dir, out, &err), PL_OK, "%s", err.message);
    fclose(out);
    return text;
}

/* Runs an experiment file through the engine; returns the engine's log (free it). */
static char *run_file(const char *path, const char *const *ov, int n) {
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(path, ov, n, &exp, &err), PL_OK, "%s", err.message);
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    cr_assert_not_null(log);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no", .log = log};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    fclose(log);
    pl_experiment_free(exp);
    return text;
}

Test(engine_invocations, other_overrides_add_runs_instead_of_replacing_them) {
    char dir[64], index[128], exp_dir[128];
    engine_tmpdir(dir, sizeof dir);
    snprintf(index, sizeof index, "%s/tiny_sweep/index.tsv", dir);
    snprintf(exp_dir, sizeof exp_dir, "%s/tiny_sweep", dir);
    const char *first[] = {"engine.threads=1", "sweep.seeds=[0]"};
    const char *second[] = {"engine.threads=1", "sweep.seeds=[1]"};
    engine_sweep(dir, first, 2, NULL);
    cr_expect_eq(data_lines(index), 4);
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    cr_assert_not_null(log);
    engine_sweep_log(dir, second, 2, NULL, log);
    fclose(log);
    cr_expect_eq(data_lines(index), 8, "index.tsv must keep the first invocation's 4 runs");
    cr_expect_not_null(strstr(text, "holds 4 runs of earlier invocations"), "%s", text);
    cr_expect_not_null(strstr(text, "index.tsv also lists 4 of earlier invocations"), "%s", text);
    char *status = status_text(exp_dir);
    cr_expect_not_null(strstr(status, "8 runs: 8 done"), "%s", status);
    pl_error err;
    pl_index idx;
    cr_assert_eq(pl_collect(exp_dir, false, &idx, &err), PL_OK, "%s", err.message);
    cr_expect_eq(idx.n_rows, 8);
    cr_expect_eq(idx.superseded, 0);
    pl_index_free(&idx);
    free(status);
    free(text);
    engine_rmdir(dir);
}

/* The fixture copied to dir/tiny_sweep.yaml with absolute defaults and the eval batch size
 * given (a different batch size gives every run a new id). */
static void write_fixture(const char *dir, int batch_size, char *path, size_t cap) {
    char cwd[1024];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    snprintf(path, cap, "%s/tiny_sweep.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "defaults: [%s/configs/model/tiny.yaml, %s/configs/data/fashion_scenes.yaml,\n"
               "           %s/configs/stages/eval.yaml]\n"
               "pipeline:\n"
               "  - pretrain: {steps: 6, batch_size: 4, warmup: 1, eval_every: 0, eval_samples: 8, log_every: 2}\n"
               "  - eval: {samples: 8, batch_size: %d}\n"
               "sweep:\n"
               "  axes:\n"
               "    split: {path: pipeline.eval.split, values: [val, test]}\n"
               "engine: {jobs: 1, threads: 1, results_dir: %s/results}\n",
            cwd, cwd, cwd, batch_size, dir);
    fclose(f);
}

Test(engine_invocations, a_changed_file_says_where_the_older_runs_are) {
    char dir[64], path[256], index[320], exp_dir[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_dir, sizeof exp_dir, "%s/results/tiny_sweep", dir);
    snprintf(index, sizeof index, "%s/index.tsv", exp_dir);
    write_fixture(dir, 8, path, sizeof path);
    free(run_file(path, NULL, 0));
    cr_expect_eq(data_lines(index), 2);
    write_fixture(dir, 4, path, sizeof path);
    char *text = run_file(path, NULL, 0);
    cr_expect_not_null(strstr(text, "changed since the last invocation"), "%s", text);
    cr_expect_not_null(strstr(text, "2 run folders under"), "%s", text);
    cr_expect_not_null(strstr(text, "belong to earlier versions of"), "%s", text);
    cr_expect_eq(data_lines(index), 2, "index.tsv describes the file's current version");
    char *status = status_text(exp_dir);
    cr_expect_not_null(strstr(status, "2 runs: 2 done"), "%s", status);
    cr_expect_not_null(strstr(status, "2 run folders of earlier versions of the experiment file"), "%s", status);
    free(status);
    free(text);
    engine_rmdir(dir);
}
