/* test_identity.c - the promise that a change to prunelab leaves existing experiments' run
 * ids and stage cache keys alone: every run of every shipped experiment (every
 * experiments/<name>.yaml, in name order), with the key of each of its stages, against
 * tests/data/identity.tsv.
 *
 * A deliberate change of what a stage computes bumps a numerics version instead and
 * re-records the file: PRUNELAB_WRITE_IDENTITY=1 build/run_tests --filter 'identity/\*'.
 * The README lists the studies each such change recomputes. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stage.h"
#include "engine/cache.h"

#define IDENTITY_FILE "tests/data/identity.tsv"

/* One line per run: experiment, run id, group id, then each stage's cache key; every
 * shipped experiment in file-name order, so a new one is pinned from its first commit. */
static void write_lines(FILE *out, pl_hash_memo *memo) {
    pl_error err;
    glob_t files;
    cr_assert_eq(glob("experiments/*.yaml", 0, NULL, &files), 0, "no experiments/*.yaml: run from the repository root");
    for (size_t e = 0; e < files.gl_pathc; e++) {
        pl_experiment *exp;
        const char *path = files.gl_pathv[e];
        cr_assert_eq(pl_experiment_load(path, NULL, 0, &exp, &err), PL_OK, "%s: %s", path, err.message);
        for (int r = 0; r < exp->n_runs; r++) {
            const pl_run *run = &exp->runs[r];
            const cfg_node *pipeline = cfg_get(run->config, "pipeline");
            cr_assert_not_null(pipeline);
            fprintf(out, "%s\t%s\t%s", exp->name, run->run_id, run->group_id);
            for (int s = 0; s < pipeline->u.list.count; s++) {
                char key[CFG_HASH_HEX];
                cr_assert_eq(pl_cache_key(run, s, memo, key, &err), PL_OK, "%s", err.message);
                fprintf(out, "\t%.16s", key);
            }
            fputc('\n', out);
        }
        pl_experiment_free(exp);
    }
    globfree(&files);
}

static char *slurp(FILE *f, size_t *len) {
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    cr_assert_not_null(s);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    *len = (size_t)n;
    return s;
}

Test(identity, existing_experiments_keep_run_ids_and_cache_keys) {
    pl_hash_memo memo = {0};
    if (getenv("PRUNELAB_WRITE_IDENTITY") != NULL) {
        FILE *out = fopen(IDENTITY_FILE, "w");
        cr_assert_not_null(out);
        write_lines(out, &memo);
        fclose(out);
    }
    FILE *now = tmpfile();
    cr_assert_not_null(now);
    write_lines(now, &memo);
    pl_hash_memo_free(&memo);
    FILE *want = fopen(IDENTITY_FILE, "r");
    cr_assert_not_null(want, "%s is missing", IDENTITY_FILE);
    size_t n_now, n_want;
    char *a = slurp(now, &n_now), *b = slurp(want, &n_want);
    fclose(now);
    fclose(want);
    /* Count the lines that moved, per experiment, and show the first few. */
    char *line_a = a, *line_b = b, moved_in[1024] = "";
    int moved = 0, lineno = 1;
    while (*line_a || *line_b) {
        const size_t la = strcspn(line_a, "\n"), lb = strcspn(line_b, "\n");
        if (la != lb || strncmp(line_a, line_b, la) != 0) {
            if (moved < 3)
                fprintf(stderr, "identity: %s line %d\n  was: %.*s\n  now: %.*s\n", IDENTITY_FILE, lineno,
                        (int)(lb < 200 ? lb : 200), line_b, (int)(la < 200 ? la : 200), line_a);
            const size_t name = strcspn(*line_a ? line_a : line_b, "\t");
            char tag[128];
            snprintf(tag, sizeof tag, " %.*s", (int)(name < 100 ? name : 100), *line_a ? line_a : line_b);
            if (strstr(moved_in, tag) == NULL && strlen(moved_in) + strlen(tag) < sizeof moved_in)
                strcat(moved_in, tag);
            moved++;
        }
        line_a += la + (line_a[la] == '\n');
        line_b += lb + (line_b[lb] == '\n');
        lineno++;
    }
    cr_assert_eq(moved, 0, "%d lines of %s changed (run id, group id or a stage cache key), in:%s",
                 moved, IDENTITY_FILE, moved_in);
    free(a);
    free(b);
}

/* The run id and every stage key of a run, one line. */
static void identity_of(const char *path, const char *override, char *out, size_t cap) {
    pl_experiment *exp;
    pl_error err;
    const char *ov[] = {override};
    cr_assert_eq(pl_experiment_load(path, ov, override ? 1 : 0, &exp, &err), PL_OK, "%s", err.message);
    const pl_run *run = &exp->runs[0];
    int at = snprintf(out, cap, "%s %s", run->run_id, run->group_id);
    for (int s = 0; s < cfg_get(run->config, "pipeline")->u.list.count; s++) {
        char key[CFG_HASH_HEX];
        cr_assert_eq(pl_cache_key(run, s, NULL, key, &err), PL_OK, "%s", err.message);
        at += snprintf(out + at, cap - (size_t)at, " %.16s", key);
    }
    pl_experiment_free(exp);
}

/* numerics (added after runs were identified): fp32, its default, names the same runs and
 * cache entries as no section at all; bf16 is another run with other keys at every stage. */
Test(identity, numerics_precision_fp32_is_the_absent_default_and_bf16_is_not) {
    char absent[512], fp32[512], bf16[512], empty[512];
    identity_of("experiments/teacher_tiny.yaml", NULL, absent, sizeof absent);
    identity_of("experiments/teacher_tiny.yaml", "numerics.precision=fp32", fp32, sizeof fp32);
    identity_of("experiments/teacher_tiny.yaml", "numerics={}", empty, sizeof empty);
    identity_of("experiments/teacher_tiny.yaml", "numerics.precision=bf16", bf16, sizeof bf16);
    cr_assert_str_eq(absent, fp32);
    cr_assert_str_eq(absent, empty);
    char *a = absent, *b = bf16;
    for (int field = 0; field < 4; field++) { /* run id, group id, pretrain key, eval key */
        const size_t la = strcspn(a, " "), lb = strcspn(b, " ");
        cr_assert(la != lb || strncmp(a, b, la) != 0, "field %d is the same under bf16: %s", field, bf16);
        a += la + (a[la] == ' '), b += lb + (b[lb] == ' ');
    }
}

/* A BF16 recovery shares everything before its first training stage with FP32 runs: the
 * loaded teacher, the pruned model and its evaluation keep their keys; finetune and the
 * evaluation after it do not. */
Test(identity, numerics_precision_enters_keys_from_the_first_training_stage) {
    char fp32[512], bf16[512];
    identity_of("experiments/ressa.yaml", NULL, fp32, sizeof fp32);
    identity_of("experiments/ressa.yaml", "numerics.precision=bf16", bf16, sizeof bf16);
    char *a = fp32, *b = bf16;
    /* run id, group id, load, prune, eval (pruned_), finetune, eval */
    const int same[7] = {0, 0, 1, 1, 1, 0, 0};
    for (int field = 0; field < 7; field++) {
        const size_t la = strcspn(a, " "), lb = strcspn(b, " ");
        const int equal = la == lb && strncmp(a, b, la) == 0;
        cr_assert_eq(equal, same[field], "field %d: %s vs %s", field, fp32, bf16);
        a += la + (a[la] == ' '), b += lb + (b[lb] == ' ');
    }
}
