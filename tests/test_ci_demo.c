/* test_ci_demo.c - the sanitized quickstart CI runs (`make demo-asan`): .ci/run calls it,
 * it builds prunelab with test-asan's sanitizer flags, and its overrides (the Makefile's
 * DEMO_ASAN_OVERRIDES) still load and pass the preflight checks as the two small runs it
 * promises, so a config change that breaks them fails here rather than in CI. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/preflight.h"
#include "engine/stage.h"

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s must be readable from the repository root", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    cr_assert_not_null(text);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The text of a Makefile recipe line that starts with `target:` and its next line. */
static const char *rule_of(const char *makefile, const char *target) {
    char want[64];
    snprintf(want, sizeof want, "\n%s:", target);
    const char *at = strstr(makefile, want);
    cr_assert_not_null(at, "the Makefile has no %s target", target);
    return at + 1;
}

/* The SANITIZE="..." value in the two lines after a rule, into out. */
static void sanitize_of(const char *rule, char *out, size_t cap) {
    const char *at = strstr(rule, "SANITIZE=\"");
    cr_assert_not_null(at);
    at += strlen("SANITIZE=\"");
    size_t n = strcspn(at, "\"");
    snprintf(out, cap, "%.*s", (int)n, at);
}

Test(ci_demo, ci_runs_it_with_the_test_asan_sanitizers) {
    char *ci = read_text(".ci/run"), *makefile = read_text("Makefile");
    cr_expect_not_null(strstr(ci, "\nmake demo-asan\n"), ".ci/run does not run make demo-asan");
    char asan_demo[256], asan_test[256];
    sanitize_of(rule_of(makefile, "demo-asan"), asan_demo, sizeof asan_demo);
    sanitize_of(rule_of(makefile, "test-asan"), asan_test, sizeof asan_test);
    cr_expect_str_eq(asan_demo, asan_test);
    cr_expect(strstr(asan_demo, "address") != NULL && strstr(asan_demo, "undefined") != NULL, "%s", asan_demo);
    free(ci);
    free(makefile);
}

Test(ci_demo, its_overrides_make_two_small_runs_that_pass_preflight) {
    char *makefile = read_text("Makefile");
    const char *at = strstr(makefile, "\nDEMO_ASAN_OVERRIDES :=");
    cr_assert_not_null(at, "the Makefile has no DEMO_ASAN_OVERRIDES");
    /* the single-quoted words up to the first line that does not end in a backslash */
    const char *ov[32];
    char words[32][128];
    int n = 0;
    for (const char *p = at + 1; *p && n < 32; p++) {
        if (*p == '\n' && p[-1] != '\\') break;
        if (*p != '\'') continue;
        const char *end = strchr(p + 1, '\'');
        cr_assert_not_null(end);
        snprintf(words[n], sizeof words[n], "%.*s", (int)(end - p - 1), p + 1);
        ov[n] = words[n];
        n++;
        p = end;
    }
    cr_assert_geq(n, 5, "%d overrides", n);
    char dir[64], results[96];
    snprintf(dir, sizeof dir, "/tmp/prunelab_ci_demo_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(results, sizeof results, "engine.results_dir=%s", dir);
    ov[n++] = results;
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("experiments/quickstart.yaml", ov, n, &exp, &err), PL_OK, "%s", err.message);
    cr_expect_eq(exp->n_runs, 2);
    cr_expect_eq(pl_preflight(exp, &err), PL_OK, "%s", err.message);
    long long steps = 0;
    cr_assert_eq(cfg_get_int(exp->runs[0].config, "pipeline.finetune.steps", &steps, &err), PL_OK, "%s", err.message);
    cr_expect_leq(steps, 10, "the sanitized demo must stay small");
    pl_experiment_free(exp);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
    free(makefile);
}
