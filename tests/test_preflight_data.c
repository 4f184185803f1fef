/* test_preflight_data.c - validate and run refuse, before anything trains, a held-out
 * sample count larger than its split: eval.samples and bench.samples against the test or val
 * rows of a user's TSV or the generated scenes' data.test_size / data.val_scenes,
 * pretrain.eval_samples against val, and a training stage on a TSV without train rows. Each
 * error names the key's file:line:col. */
#include "user_data_fixture.h"

#include "engine/preflight.h"
#include "engine/stage.h"

#define USER_FIXTURE "tests/data/engine/user_files.yaml"

/* 3 train, 2 val and 4 test rows (the last without a split column: test) over an IDX file
 * of 2 images; returns the TSV and images overrides. */
static void write_user_data(const char *dir, const char *rows, char *tsv_ov, char *images_ov, size_t cap) {
    fixture_idx(dir, "images.idx", 2, SCENE_SIDE, 0);
    fixture_text(dir, "samples.tsv", rows);
    snprintf(tsv_ov, cap, "data.tsv=%s/samples.tsv", dir);
    snprintf(images_ov, cap, "data.images=%s/images.idx", dir);
}

static const char *const ROWS =
    "image_id\tquestion\tanswer\tsplit\n"
    "0\tis there a bag ?\tyes\ttrain\n"
    "1\thow many shoes ?\tone\ttrain\n"
    "# a comment line\n"
    "0\tis there a coat ?\tno\ttrain\n"
    "1\tis there a bag ?\tno\tval\n"
    "0\thow many tops ?\tzero\tval\n"
    "\n"
    "1\tis there a bag ?\tyes\ttest\n"
    "0\thow many shoes ?\tzero\ttest\n"
    "1\twhere is the coat ?\ttop right\ttest\n"
    "0\twhat is in the bottom left ?\tnothing\n";

/* The user fixture with the given TSV rows and extra overrides: pl_preflight's status, and
 * its message in msg. */
static pl_status preflight_user(const char *rows, const char *const *extra, int n, char *msg, size_t cap) {
    char dir[64], tsv_ov[600], images_ov[600];
    fixture_dir(dir, sizeof dir);
    write_user_data(dir, rows, tsv_ov, images_ov, sizeof tsv_ov);
    const char *ov[8] = {tsv_ov, images_ov};
    for (int i = 0; i < n && i < 6; i++) ov[2 + i] = extra[i];
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(USER_FIXTURE, ov, 2 + n, &exp, &err), PL_OK, "%s", err.message);
    pl_status st = pl_preflight(exp, &err);
    snprintf(msg, cap, "%s", st == PL_OK ? "" : err.message);
    pl_experiment_free(exp);
    engine_rmdir(dir);
    return st;
}

#define EXPECT_IN(msg, text) cr_expect_not_null(strstr(msg, text), "expected '%s' in: %s", text, msg)

Test(preflight_data, samples_within_the_tsv_splits_pass) {
    char msg[1024];
    const char *ov[] = {"pipeline.eval.samples=4", "pipeline.pretrain.eval_samples=2"};
    cr_expect_eq(preflight_user(ROWS, ov, 2, msg, sizeof msg), PL_OK, "%s", msg);
}

Test(preflight_data, eval_samples_beyond_the_tsv_test_rows_are_refused) {
    char msg[1024];
    const char *ov[] = {"pipeline.eval.samples=5", "pipeline.pretrain.eval_samples=2"};
    cr_expect_eq(preflight_user(ROWS, ov, 2, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "<override 3>:1:");
    EXPECT_IN(msg, "pipeline stage 1: eval.samples = 5 exceeds the 4 test rows of the TSV");
    EXPECT_IN(msg, "lower eval.samples to at most 4");
}

Test(preflight_data, eval_on_val_beyond_the_tsv_val_rows_is_refused) {
    char msg[1024];
    const char *ov[] = {"pipeline.eval.split=val", "pipeline.pretrain.eval_samples=2"};
    cr_expect_eq(preflight_user(ROWS, ov, 2, msg, sizeof msg), PL_ERR_CONFIG);
    /* samples: 6 comes from the fixture file */
    EXPECT_IN(msg, "tests/data/engine/user_files.yaml:");
    EXPECT_IN(msg, "eval.samples = 6 exceeds the 2 val rows");
}

Test(preflight_data, pretrain_eval_samples_beyond_the_val_rows_are_refused) {
    char msg[1024];
    const char *ov[] = {"pipeline.eval.samples=4"};
    cr_expect_eq(preflight_user(ROWS, ov, 1, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "tests/data/engine/user_files.yaml:");
    EXPECT_IN(msg, "pipeline stage 0: pretrain.eval_samples = 4 exceeds the 2 val rows");
    EXPECT_IN(msg, "pretrain evaluates on val at its end");
}

Test(preflight_data, a_tsv_without_the_split_is_named) {
    char msg[1024];
    const char *no_val =
        "0\tis there a bag ?\tyes\ttrain\n"
        "1\tis there a bag ?\tyes\ttest\n";
    const char *ov[] = {"pipeline.eval.samples=1"};
    cr_expect_eq(preflight_user(no_val, ov, 1, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "has no val rows (pretrain evaluates on val at its end); add rows with 'val'");
    const char *no_train =
        "0\tis there a bag ?\tyes\tval\n"
        "1\tis there a bag ?\tyes\ttest\n";
    const char *ov2[] = {"pipeline.eval.samples=1", "pipeline.pretrain.eval_samples=1"};
    cr_expect_eq(preflight_user(no_train, ov2, 2, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "pipeline stage 0 'pretrain' trains on the train split, but the TSV");
    EXPECT_IN(msg, "has no train rows");
}

Test(preflight_data, an_unreadable_tsv_is_named_at_data_tsv) {
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    const char *ov[] = {"data.tsv=/nonexistent/samples.tsv", "data.images=/nonexistent/images.idx"};
    cr_assert_eq(pl_experiment_load(USER_FIXTURE, ov, 2, &exp, &err), PL_OK, "%s", err.message);
    cr_expect_eq(pl_preflight(exp, &err), PL_ERR_CONFIG);
    EXPECT_IN(err.message, "<override 1>:1:");
    EXPECT_IN(err.message, "data.tsv: cannot open the TSV /nonexistent/samples.tsv");
    pl_experiment_free(exp);
}

/* The quickstart (generated scenes) with overrides: pl_preflight's status and message. */
static pl_status preflight_quickstart(const char *const *ov, int n, char *msg, size_t cap) {
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("experiments/quickstart.yaml", ov, n, &exp, &err), PL_OK, "%s", err.message);
    pl_status st = pl_preflight(exp, &err);
    snprintf(msg, cap, "%s", st == PL_OK ? "" : err.message);
    pl_experiment_free(exp);
    return st;
}

Test(preflight_data, eval_samples_beyond_data_test_size_are_refused) {
    char msg[1024];
    const char *ov[] = {"pipeline.eval#1.samples=2500"};
    cr_expect_eq(preflight_quickstart(ov, 1, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "<override 1>:1:");
    EXPECT_IN(msg, "pipeline stage 4: eval.samples = 2500 exceeds the 2000 scenes of the test split "
                   "(data.test_size at ");
    EXPECT_IN(msg, "configs/data/fashion_scenes.yaml:7:");
    EXPECT_IN(msg, "raise data.test_size");
    const char *smaller[] = {"data.test_size=500"};
    cr_expect_eq(preflight_quickstart(smaller, 1, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "pipeline stage 2: eval.samples = 1000 exceeds the 500 scenes of the test split "
                   "(data.test_size at <override 1>:1:");
    const char *fits[] = {"data.test_size=1000"};
    cr_expect_eq(preflight_quickstart(fits, 1, msg, sizeof msg), PL_OK, "%s", msg);
}

Test(preflight_data, bench_samples_beyond_data_val_scenes_are_refused) {
    char msg[1024];
    const char *ov[] = {"pipeline.bench.split=val", "data.val_scenes=16"};
    cr_expect_eq(preflight_quickstart(ov, 2, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "bench.samples = 32 exceeds the 16 scenes of the val split (data.val_scenes at <override 2>:1:");
}

/* A training stage that evaluates while it trains (eval_every) reads the val split: its
 * eval_samples, or the default 500 at eval_every's position, must fit it. */
Test(preflight_data, training_evaluations_beyond_the_val_split_are_refused) {
    char msg[1024];
    const char *dflt[] = {"pipeline.finetune.eval_every=10", "data.val_scenes=300"};
    cr_expect_eq(preflight_quickstart(dflt, 2, msg, sizeof msg), PL_ERR_CONFIG);
    EXPECT_IN(msg, "<override 1>:1:");
    EXPECT_IN(msg, "finetune.eval_samples = 500 (the default) exceeds the 300 samples of the val split");
    const char *fits[] = {"pipeline.finetune.eval_every=10", "pipeline.finetune.eval_samples=200",
                          "data.val_scenes=300"};
    cr_expect_eq(preflight_quickstart(fits, 3, msg, sizeof msg), PL_OK, "%s", msg);
}
