/* engine_testutil.h - helpers shared by the engine tests: a temporary results directory,
 * running the tiny fixture sweep (tests/data/engine/tiny_sweep.yaml) through the engine with
 * overrides, loading other experiment files, status text, copying and replacing checkpoint
 * files, and reading run directories and index.tsv values back. */
#ifndef PL_TESTS_ENGINE_TESTUTIL_H
#define PL_TESTS_ENGINE_TESTUTIL_H

#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/run_dir.h"
#include "engine/stage.h"
#include "engine/status.h"
#include "model/checkpoint.h"

#define ENGINE_FIXTURE "tests/data/engine/tiny_sweep.yaml"

static inline void engine_tmpdir(char *buf, size_t cap) {
    snprintf(buf, cap, "/tmp/prunelab_engine_XXXXXX");
    cr_assert_not_null(mkdtemp(buf));
}

static inline void engine_rmdir(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Loads the fixture with engine.results_dir=results plus extra overrides. */
static inline pl_experiment *engine_load(const char *results, const char *const *extra, int n) {
    char dir_override[512];
    snprintf(dir_override, sizeof dir_override, "engine.results_dir=%s", results);
    const char *ov[16] = {dir_override};
    for (int i = 0; i < n && i < 15; i++) ov[i + 1] = extra[i];
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    pl_status st = pl_experiment_load(ENGINE_FIXTURE, ov, n + 1, &exp, &err);
    cr_assert_eq(st, PL_OK, "%s", err.message);
    return exp;
}

/* Runs the fixture; the engine's plan, warnings and summary go to log (may be NULL). */
static inline pl_engine_report engine_sweep_log(const char *results, const char *const *extra, int n,
                                                const char *fault, FILE *log) {
    pl_experiment *exp = engine_load(results, extra, n);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no", .fault = fault, .log = log};
    pl_engine_report rep;
    pl_error err;
    pl_error_clear(&err);
    pl_status st = pl_engine_run(exp, &opt, &rep, &err);
    pl_experiment_free(exp);
    cr_assert_eq(st, PL_OK, "%s", err.message);
    return rep;
}

static inline pl_engine_report engine_sweep(const char *results, const char *const *extra, int n,
                                            const char *fault) {
    return engine_sweep_log(results, extra, n, fault, NULL);
}

static inline void engine_run_path(const char *results, const char *run_id, const char *file,
                                   char *buf, size_t cap) {
    snprintf(buf, cap, "%s/tiny_sweep/runs/%s/%s", results, run_id, file);
}

/* An experiment file loaded with engine.results_dir=results. */
static inline pl_experiment *engine_load_file(const char *path, const char *results) {
    char override[512];
    snprintf(override, sizeof override, "engine.results_dir=%s", results);
    const char *ov[] = {override};
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(path, ov, 1, &exp, &err), PL_OK, "%s", err.message);
    return exp;
}

/* `prunelab status EXP_DIR` as text (free it). */
static inline char *engine_status_text(const char *exp_dir) {
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

static inline void engine_copy_file(const char *from, const char *to) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    cr_assert_eq(system(cmd), 0);
}

/* Overwrites the checkpoint at path with a model of the same shape initialised from seed. */
static inline void engine_replace_model(const char *path, uint64_t seed) {
    vlm m;
    pl_error err;
    cr_assert_eq(vlm_load(&m, path, 1, &err), PL_OK, "%s", err.message);
    vlm_init(&m, seed);
    cr_assert_eq(vlm_save(&m, path, NULL, 0, &err), PL_OK, "%s", err.message);
    vlm_free(&m);
}

enum { INDEX_MAX_COLUMNS = 512 };

/* Splits a TSV line in place into at most INDEX_MAX_COLUMNS fields; returns the count. */
static inline int split_tabs(char *line, char **fields) {
    int n = 0;
    line[strcspn(line, "\n")] = '\0';
    for (char *p = line; n < INDEX_MAX_COLUMNS; p++) {
        fields[n++] = p;
        p = strchr(p, '\t');
        if (p == NULL) break;
        *p = '\0';
    }
    return n;
}

/* The value of column `name` in the index row whose column `key_col` equals key. */
static inline double index_value(const char *index, const char *key_col, const char *key, const char *name) {
    FILE *f = fopen(index, "r");
    cr_assert_not_null(f, "%s missing", index);
    static char header[1 << 16], line[1 << 16];
    char *cols[INDEX_MAX_COLUMNS], *vals[INDEX_MAX_COLUMNS];
    cr_assert_not_null(fgets(header, sizeof header, f));
    int ncols = split_tabs(header, cols);
    double value = NAN;
    while (isnan(value) && fgets(line, sizeof line, f)) {
        int n = split_tabs(line, vals), match = 0;
        for (int i = 0; i < n && i < ncols; i++)
            if (strcmp(cols[i], key_col) == 0 && strcmp(vals[i], key) == 0) match = 1;
        for (int i = 0; match && i < n && i < ncols; i++)
            if (strcmp(cols[i], name) == 0) value = strtod(vals[i], NULL);
    }
    fclose(f);
    return value;
}

#endif
