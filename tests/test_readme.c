/* test_readme.c - what README.md states about defaults and commands against what prunelab
 * does: the metrics.h5 flush interval is engine.flush_every's default, log_every is said to
 * space progress lines only (every training step is a row), the word limits of a user's
 * questions and answers are data.question_len's and data.text_len's defaults, and `prunelab
 * eval --experiment` is documented. The README is read with its line breaks and runs of
 * spaces as single spaces, so re-wrapping it does not break the test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/path.h"
#include "engine/stage.h"

/* README.md with every run of whitespace as one space (free it). */
static char *readme_text(void) {
    FILE *f = fopen("README.md", "r");
    cr_assert_not_null(f, "README.md must be readable from the repository root");
    size_t cap = 1 << 16, n = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    int c, space = 0;
    while ((c = fgetc(f)) != EOF) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = 1;
            continue;
        }
        if (n + 3 >= cap) cr_assert_not_null(text = realloc(text, cap *= 2));
        if (space && n > 0) text[n++] = ' ';
        space = 0;
        text[n++] = (char)c;
    }
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The default of an int key, as the quickstart resolves it. */
static long long default_int(const char *path) {
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("experiments/quickstart.yaml", NULL, 0, &exp, &err), PL_OK, "%s", err.message);
    long long v = 0;
    cr_assert_eq(cfg_get_int(exp->runs[0].config, path, &v, &err), PL_OK, "%s", err.message);
    pl_experiment_free(exp);
    return v;
}

#define EXPECT_IN(text, want) cr_expect_not_null(strstr(text, want), "README.md does not say: %s", want)

Test(readme, the_flush_interval_is_engine_flush_every) {
    char *text = readme_text();
    char want[160];
    snprintf(want, sizeof want, "flushed every `engine.flush_every` rows (default %lld)", default_int("engine.flush_every"));
    EXPECT_IN(text, want);
    cr_expect_null(strstr(text, "flushed every 100 rows"), "README.md still says 100 rows");
    free(text);
}

Test(readme, log_every_spaces_progress_lines_not_rows) {
    char *text = readme_text();
    EXPECT_IN(text, "Every training step is one row: pretrain's `log_every` spaces the progress lines");
    free(text);
}

Test(readme, the_word_limits_of_user_data) {
    char *text = readme_text();
    long long q = default_int("data.question_len"), t = default_int("data.text_len");
    char want[200];
    snprintf(want, sizeof want, "A question may have at most `data.question_len` words (default %lld)", q);
    EXPECT_IN(text, want);
    snprintf(want, sizeof want, "`data.text_len - data.question_len - 2` (default %lld - %lld - 2 = %lld)", t, q, t - q - 2);
    EXPECT_IN(text, want);
    free(text);
}

Test(readme, eval_experiment_is_documented) {
    char *text = readme_text();
    EXPECT_IN(text, "`prunelab eval CHECKPOINT [--split test\\|val] [--samples N] [--experiment FILE]`");
    EXPECT_IN(text, "`--experiment FILE` takes the data settings from FILE's `data` section");
    free(text);
}
