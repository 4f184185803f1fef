/* test_engine_invocations.c - a results directory shows every run it holds: running one
 * experiment file again with other overrides adds its runs to index.tsv and status instead
 * of replacing them; after the file itself changes (a key, a figure's title) the older runs
 * stay too, and each config key whose value differs between the runs shown gets a column,
 * filled from each run's stored config (so an axis added later is filled for older runs);
 * a damaged experiment.state is rebuilt from the run folders. */
#include "engine_testutil.h"

#include <unistd.h>

#include "engine/collect.h"
#include "engine/fsutil.h"
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
    char *status = engine_status_text(exp_dir);
    cr_expect_not_null(strstr(status, "8 runs: 8 done"), "%s", status);
    pl_error err;
    pl_index idx;
    cr_assert_eq(pl_collect(exp_dir, true, &idx, &err), PL_OK, "%s", err.message);
    cr_expect_eq(idx.n_rows, 8);
    cr_expect_eq(idx.n_aliases, idx.n_axes, "runs differing only by seed add no config-key column");
    pl_index_free(&idx);
    free(status);
    free(text);
    engine_rmdir(dir);
}

/* The fixture copied to dir/tiny_sweep.yaml with absolute defaults, the eval batch size
 * given (a different batch size gives every run a new id) and a figure titled `title`. */
static void write_fixture_titled(const char *dir, int batch_size, const char *title, char *path, size_t cap) {
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
               "figures:\n"
               "  - {name: acc, kind: bars, x: split, y: acc, title: \"%s\"}\n"
               "engine: {jobs: 1, threads: 1, results_dir: %s/results}\n",
            cwd, cwd, cwd, batch_size, title, dir);
    fclose(f);
}

static void write_fixture(const char *dir, int batch_size, char *path, size_t cap) {
    write_fixture_titled(dir, batch_size, "accuracy", path, cap);
}

static int by_text(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The values of column `name` in index.tsv's data rows, sorted, joined by ','. */
static void column_of(const char *index, const char *name, char *out, size_t cap) {
    FILE *f = fopen(index, "r");
    cr_assert_not_null(f, "%s missing", index);
    static char line[1 << 16];
    char *cols[INDEX_MAX_COLUMNS];
    cr_assert_not_null(fgets(line, sizeof line, f));
    int n = split_tabs(line, cols), at = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(cols[i], name) == 0) at = i;
    out[0] = '\0';
    cr_assert_geq(at, 0, "index.tsv has no column %s", name);
    char *cells[64];
    int n_cells = 0;
    while (n_cells < 64 && fgets(line, sizeof line, f)) {
        char *vals[INDEX_MAX_COLUMNS];
        int m = split_tabs(line, vals);
        cr_assert_gt(m, at);
        cells[n_cells++] = strdup(vals[at]);
    }
    fclose(f);
    qsort(cells, (size_t)n_cells, sizeof *cells, by_text);
    for (int i = 0; i < n_cells; i++) {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%s", used ? "," : "", cells[i]);
        free(cells[i]);
    }
}

/* A changed experiment file (a key no axis names) hides nothing: the older runs stay in
 * index.tsv and status, beside a column for the key that differs, also after the file
 * changes back. */
Test(engine_invocations, runs_of_an_earlier_version_of_the_file_stay_shown) {
    char dir[64], path[256], index[320], exp_dir[256], col[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_dir, sizeof exp_dir, "%s/results/tiny_sweep", dir);
    snprintf(index, sizeof index, "%s/index.tsv", exp_dir);
    write_fixture(dir, 8, path, sizeof path);
    free(run_file(path, NULL, 0));
    cr_expect_eq(data_lines(index), 2);
    write_fixture(dir, 4, path, sizeof path);
    char *text = run_file(path, NULL, 0);
    cr_expect_not_null(strstr(text, "changed since the last invocation"), "%s", text);
    cr_expect_not_null(strstr(text, "holds 2 runs of earlier invocations"), "%s", text);
    cr_expect_eq(data_lines(index), 4, "index.tsv keeps the earlier version's runs");
    column_of(index, "pipeline.eval.batch_size", col, sizeof col);
    cr_expect(strstr(col, "8") && strstr(col, "4"), "the key that differs is a column: %s", col);
    char *status = engine_status_text(exp_dir);
    cr_expect_not_null(strstr(status, "4 runs: 4 done"), "%s", status);
    free(status);
    free(text);
    write_fixture(dir, 8, path, sizeof path); /* back as it was: nothing runs, nothing hides */
    free(run_file(path, NULL, 0));
    cr_expect_eq(data_lines(index), 4);
    engine_rmdir(dir);
}

/* The case: runs made with other overrides, then a figure's title edited; every run
 * stays, and runs that differ only by a non-axis override are told apart by a column. */
Test(engine_invocations, an_edit_hides_no_run_made_with_other_overrides) {
    char dir[64], path[256], index[320], exp_dir[256], col[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_dir, sizeof exp_dir, "%s/results/tiny_sweep", dir);
    snprintf(index, sizeof index, "%s/index.tsv", exp_dir);
    const char *five[] = {"pipeline.pretrain.steps=5"}, *six[] = {"pipeline.pretrain.steps=6"};
    write_fixture_titled(dir, 8, "first title", path, sizeof path);
    free(run_file(path, five, 1));
    write_fixture_titled(dir, 8, "second title", path, sizeof path);
    free(run_file(path, six, 1));
    cr_expect_eq(data_lines(index), 4, "both invocations' runs are shown");
    column_of(index, "pipeline.pretrain.steps", col, sizeof col);
    cr_expect_str_eq(col, "5,5,6,6", "the override that differs is a column");
    pl_error err;
    pl_index idx;
    cr_assert_eq(pl_collect(exp_dir, true, &idx, &err), PL_OK, "%s", err.message);
    cr_expect_eq(idx.n_rows, 4);
    cr_expect_eq(idx.n_axes, 1);
    cr_expect_eq(idx.n_aliases, 2, "split, then pipeline.pretrain.steps");
    pl_index_free(&idx);
    engine_rmdir(dir);
}

/* An axis added later is filled for the runs made before it, from their stored configs. */
Test(engine_invocations, a_key_made_an_axis_later_is_filled_for_older_runs) {
    char dir[64], path[256], index[320], col[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(index, sizeof index, "%s/results/tiny_sweep/index.tsv", dir);
    write_fixture(dir, 8, path, sizeof path);
    free(run_file(path, NULL, 0)); /* pretrain steps 6, no axis for it */
    const char *axis[] = {"sweep.axes.st={path: pipeline.pretrain.steps, values: [5]}"};
    free(run_file(path, axis, 1));
    cr_expect_eq(data_lines(index), 4);
    column_of(index, "st", col, sizeof col);
    cr_expect_str_eq(col, "5,5,6,6", "the older runs' steps come from their config.yaml");
    engine_rmdir(dir);
}

/* A damaged experiment.state loses no column: the aliases come from the run folders, a
 * warning says so, and collect writes the state again. */
Test(engine_invocations, a_damaged_experiment_state_is_rebuilt_from_the_run_folders) {
    char dir[64], path[256], state[320], exp_dir[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_dir, sizeof exp_dir, "%s/results/tiny_sweep", dir);
    snprintf(state, sizeof state, "%s/experiment.state", exp_dir);
    write_fixture(dir, 8, path, sizeof path);
    free(run_file(path, NULL, 0));
    FILE *f = fopen(state, "w");
    cr_assert_not_null(f);
    fputs("\x01garbage\tnot a state\n\xff\xfe", f);
    fclose(f);
    pl_error err;
    pl_index idx;
    cr_assert_eq(pl_collect(exp_dir, true, &idx, &err), PL_OK, "%s", err.message);
    cr_expect(idx.state_damaged);
    cr_expect_eq(idx.n_axes, 1, "the alias split survives");
    cr_expect_str_eq(idx.aliases[0], "split");
    cr_expect_str_eq(idx.alias_paths[0], "pipeline.eval.split");
    char *notes = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&notes, &len);
    pl_index_notes(&idx, exp_dir, out);
    fclose(out);
    cr_expect_not_null(strstr(notes, "experiment.state is damaged"), "%s", notes);
    free(notes);
    cr_assert_eq(pl_index_rewrite_state(&idx, exp_dir, &err), PL_OK, "%s", err.message);
    pl_index_free(&idx);
    cr_assert_eq(pl_collect(exp_dir, false, &idx, &err), PL_OK, "%s", err.message);
    cr_expect(!idx.state_damaged, "written again: %s", idx.state_why);
    cr_expect_eq(idx.n_axes, 1);
    pl_index_free(&idx);
    /* a state cut short before its seal line is damaged (it has axis lines) */
    char *text;
    cr_assert_eq(pl_read_file(state, &text, &len, &err), PL_OK);
    cr_assert_gt(len, 72);
    cr_assert_eq(pl_write_atomic(state, text, len - 72, &err), PL_OK);
    free(text);
    cr_assert_eq(pl_collect(exp_dir, false, &idx, &err), PL_OK, "%s", err.message);
    cr_expect(idx.state_damaged, "a state without its seal was trusted");
    cr_expect_eq(idx.n_axes, 1);
    pl_index_free(&idx);
    /* run rebuilds it too, saying so, and keeps the alias */
    char *run_log = run_file(path, NULL, 0);
    cr_expect_not_null(strstr(run_log, "experiment.state was damaged"), "%s", run_log);
    free(run_log);
    cr_assert_eq(pl_collect(exp_dir, false, &idx, &err), PL_OK, "%s", err.message);
    cr_expect(!idx.state_damaged);
    cr_expect_eq(idx.n_axes, 1);
    pl_index_free(&idx);
    /* a state whose seal does not match its text is damaged too */
    cr_assert_eq(pl_read_file(state, &text, &len, &err), PL_OK);
    text[0] = text[0] == 's' ? 'S' : 's';
    cr_assert_eq(pl_write_atomic(state, text, len, &err), PL_OK);
    free(text);
    cr_assert_eq(pl_collect(exp_dir, false, &idx, &err), PL_OK, "%s", err.message);
    cr_expect(idx.state_damaged);
    cr_expect_eq(idx.n_axes, 1);
    pl_index_free(&idx);
    engine_rmdir(dir);
}
