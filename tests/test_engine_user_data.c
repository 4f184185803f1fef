/* test_engine_user_data.c - a user's own files through the engine: pretrain and eval on
 * dataset: files record an accuracy in the index; every stage's cache key follows the TSV's
 * and the images' contents (IDX file and PGM directory); the data settings refuse a files
 * dataset without its paths and paths without a files dataset. */
#include "user_data_fixture.h"
#include "engine/stage.h"

#include "engine/cache.h"
#include "engine/settings.h"

#define USER_FIXTURE "tests/data/engine/user_files.yaml"

static char dir[64];

static void make_dir(void) { fixture_dir(dir, sizeof dir); }
static void remove_dir(void) { engine_rmdir(dir); }

TestSuite(engine_user_data, .init = make_dir, .fini = remove_dir);

/* 8 train rows, 4 val rows, 6 test rows over image ids 0..3 (IDX) or a0..a3 (PGM). */
static void write_samples(const char *name, const char *prefix) {
    static const char *const rows[] = {
        "is there a bag ?\tyes\ttrain",        "how many shoes ?\tone\ttrain",
        "where is the dress ?\ttop left\ttrain", "what is in the top left ?\tcoat\ttrain",
        "what is left of the bag ?\tnothing\ttrain", "describe the image .\tbag nothing nothing coat\ttrain",
        "is there a coat ?\tno\ttrain",        "how many items ?\ttwo\ttrain",
        "is there a bag ?\tno\tval",           "how many tops ?\tzero\tval",
        "where is the bag ?\tbottom right\tval", "what is above the coat ?\tbag\tval",
        "is there a bag ?\tyes\ttest",         "how many shoes ?\tzero\ttest",
        "where is the coat ?\ttop right\ttest", "what is in the bottom left ?\tnothing",
        "what is below the bag ?\tnothing\ttest", "describe the image .\tnothing bag coat nothing\ttest",
    };
    char tsv[4096] = "image_id\tquestion\tanswer\tsplit\n";
    for (int i = 0; i < 18; i++)
        snprintf(tsv + strlen(tsv), sizeof tsv - strlen(tsv), "%s%d\t%s\n", prefix, i % 4, rows[i]);
    fixture_text(dir, name, tsv);
}

static pl_experiment *load_user_experiment(const char *tsv, const char *images) {
    char results[256], tsv_ov[600], images_ov[600];
    snprintf(results, sizeof results, "engine.results_dir=%s/results", dir);
    snprintf(tsv_ov, sizeof tsv_ov, "data.tsv=%s/%s", dir, tsv);
    snprintf(images_ov, sizeof images_ov, "data.images=%s/%s", dir, images);
    const char *ov[] = {results, tsv_ov, images_ov};
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(USER_FIXTURE, ov, 3, &exp, &err), PL_OK, "%s", err.message);
    return exp;
}

Test(engine_user_data, pretrain_and_eval_on_files_record_accuracy, .timeout = 120) {
    fixture_idx(dir, "images.idx", 4, SCENE_SIDE, 0);
    write_samples("samples.tsv", "");
    pl_experiment *exp = load_user_experiment("samples.tsv", "images.idx");
    char run_id[CFG_ID_LEN + 1], index[256];
    snprintf(run_id, sizeof run_id, "%s", exp->runs[0].run_id);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    cr_expect_eq(rep.completed, 1);
    cr_expect_eq(rep.failed, 0);
    snprintf(index, sizeof index, "%s/results/%s/index.tsv", dir, exp->name);
    pl_experiment_free(exp);
    double acc = index_value(index, "run_id", run_id, "acc");
    cr_expect(acc >= 0.0 && acc <= 1.0, "acc %g", acc);
    double exists = index_value(index, "run_id", run_id, "acc_exists");
    cr_expect(exists >= 0.0 && exists <= 1.0, "acc_exists %g: the test rows' types are counted", exists);
}

/* The cache key of stage 0 of the fixture over these files. */
static void key_of(const char *tsv, const char *images, char key[CFG_HASH_HEX]) {
    pl_experiment *exp = load_user_experiment(tsv, images);
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_cache_key(&exp->runs[0], 0, NULL, key, &err), PL_OK, "%s", err.message);
    pl_experiment_free(exp);
}

Test(engine_user_data, cache_keys_follow_the_contents_of_the_data) {
    char a[CFG_HASH_HEX], b[CFG_HASH_HEX];
    fixture_idx(dir, "images.idx", 4, SCENE_SIDE, 0);
    write_samples("samples.tsv", "");
    key_of("samples.tsv", "images.idx", a);
    key_of("samples.tsv", "images.idx", b);
    cr_expect_str_eq(a, b, "same files, same key");
    fixture_idx(dir, "images.idx", 5, SCENE_SIDE, 0);
    key_of("samples.tsv", "images.idx", b);
    cr_expect_str_neq(a, b, "a changed IDX file changes the key");
    memcpy(a, b, sizeof a);
    fixture_text(dir, "samples.tsv", "0\tis there a bag ?\tno\ttrain\n");
    key_of("samples.tsv", "images.idx", b);
    cr_expect_str_neq(a, b, "an edited TSV changes the key");
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "pgm/a%d.pgm", i);
        fixture_scene_pgm(dir, name, i);
    }
    write_samples("pgm.tsv", "a");
    key_of("pgm.tsv", "pgm", a);
    fixture_scene_pgm(dir, "pgm/a2.pgm", 9);
    key_of("pgm.tsv", "pgm", b);
    cr_expect_str_neq(a, b, "an edited PGM changes the key");
    fixture_scene_pgm(dir, "pgm/a2.pgm", 2);
    key_of("pgm.tsv", "pgm", b);
    cr_expect_str_eq(a, b, "the directory's hash depends on its contents only");
}

/* settings_data's error for the fixture with these overrides. */
static void expect_settings_error(const char *const *ov, int n, const char *fragment) {
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(USER_FIXTURE, ov, n, &exp, &err), PL_OK, "%s", err.message);
    pl_data_config dc;
    cr_expect_eq(settings_data(exp->runs[0].config, &dc, &err), PL_ERR_CONFIG);
    cr_expect(strstr(err.message, fragment) != NULL, "'%s' not in: %s", fragment, err.message);
    pl_experiment_free(exp);
}

Test(engine_user_data, data_settings_need_paths_with_files_and_refuse_them_otherwise) {
    expect_settings_error(NULL, 0, "data.dataset is files but data.tsv is empty");
    expect_settings_error((const char *[]){"data.tsv=x.tsv"}, 1,
                          "data.dataset is files but data.images is empty");
    expect_settings_error((const char *[]){"data.dataset=fashion_scenes", "data.images=x.idx"}, 2,
                          "data.images is set but data.dataset is fashion_scenes");
}
