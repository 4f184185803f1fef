/* test_data_user.c - a user's own data: TSVs over an IDX file (plain and gzipped) and over a
 * directory of PGMs load through pl_data_open; question types come from the templates;
 * split sizes and the train modulo mapping; a filled batch holds the normalised source
 * bytes and the TSV's text; every malformed input is an error naming file:line and the
 * value; the PGM reader's header handling. */
#include "user_data_fixture.h"

#include "data/dataset.h"
#include "data/pgm.h"
#include "data/tokenizer.h"

static char dir[64];

static void make_dir(void) { fixture_dir(dir, sizeof dir); }
static void remove_dir(void) { engine_rmdir(dir); }

TestSuite(data_user, .init = make_dir, .fini = remove_dir);

static void user_config(pl_data_config *cfg, const char *tsv, const char *images) {
    pl_data_config_default(cfg);
    fixture_path(dir, tsv, cfg->tsv, sizeof cfg->tsv);
    fixture_path(dir, images, cfg->images, sizeof cfg->images);
}

static void open_user(pl_data *d, const char *tsv, const char *images) {
    pl_data_config cfg;
    user_config(&cfg, tsv, images);
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_data_open(d, &cfg, &err), PL_OK, "%s", err.message);
}

/* Asserts that loading fails with a message holding "<tsv>:<line>:" and each fragment. */
static void expect_load_error(const char *tsv, const char *images, int line,
                              const char *const *fragments, int n) {
    pl_data_config cfg;
    user_config(&cfg, tsv, images);
    pl_data d;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_neq(pl_data_open(&d, &cfg, &err), PL_OK, "%s should not load", tsv);
    char where[600];
    snprintf(where, sizeof where, "%s:%d:", cfg.tsv, line);
    cr_expect(strstr(err.message, where) != NULL, "'%s' not in: %s", where, err.message);
    for (int i = 0; i < n; i++)
        cr_expect(strstr(err.message, fragments[i]) != NULL, "'%s' not in: %s", fragments[i],
                  err.message);
}

static const char IDX_TSV[] = "image_id\tquestion\tanswer\tsplit\n"
                              "# a comment, then a blank line\n"
                              "\n"
                              "2\thow many shoes ?\ttwo\ttrain\n"
                              "0\tis there a bag ?\tyes\tval\n"
                              "1\twhere is the dress ?\ttop left\n"
                              "0\tdescribe the image .\tbag nothing coat ankle boot\ttrain\r\n"
                              "3\twhat is in the top right ?\tnothing\ttest\n";

Test(data_user, loads_a_tsv_over_an_idx_file) {
    fixture_idx(dir, "images.idx", 4, SCENE_SIDE, 0);
    fixture_text(dir, "samples.tsv", IDX_TSV);
    pl_data d;
    open_user(&d, "samples.tsv", "images.idx");
    const pl_user_data *u = &d.user;
    cr_assert_eq(u->n_rows, 5);
    cr_assert_eq(u->n_images, 4);
    cr_expect_eq(u->split_size[PL_SPLIT_TRAIN], 2);
    cr_expect_eq(u->split_size[PL_SPLIT_VAL], 1);
    cr_expect_eq(u->split_size[PL_SPLIT_TEST], 2, "a row without a split is a test row");
    const int images[] = {2, 0, 1, 0, 3}, lines[] = {4, 5, 6, 7, 8};
    const int types[] = {QTYPE_HOWMANY, QTYPE_EXISTS, QTYPE_WHERE, QTYPE_CAPTION, QTYPE_WHAT};
    for (int r = 0; r < 5; r++) {
        cr_expect_eq(u->rows[r].image, images[r], "row %d", r);
        cr_expect_eq(u->rows[r].line, lines[r], "row %d", r);
        cr_expect_eq(u->rows[r].qtype, types[r], "row %d", r);
    }
    cr_expect_eq(u->rows[3].na, 5, "'ankle boot' is two words");
    cr_expect_eq(u->rows[3].split, PL_SPLIT_TRAIN, "the CR before the newline is not part of the split");
    cr_expect_eq(pl_data_split_size(&d, PL_SPLIT_TRAIN), INT64_MAX);
    cr_expect_eq(pl_data_split_size(&d, PL_SPLIT_CALIB), INT64_MAX);
    cr_expect_eq(pl_data_split_size(&d, PL_SPLIT_VAL), 1);
    cr_expect_eq(pl_data_split_size(&d, PL_SPLIT_TEST), 2);
    cr_expect_null(pl_data_split_images(&d, PL_SPLIT_TEST), "no scene source images");
    pl_scene scene;
    pl_data_scene(&d, PL_SPLIT_TEST, 0, &scene);
    cr_expect_eq(scene.cells[0], -1);
    cr_expect_eq(scene.image[3], -1);
    pl_data_close(&d);
}

Test(data_user, loads_a_gzipped_idx_file) {
    fixture_idx(dir, "images.idx.gz", 4, SCENE_SIDE, 1);
    fixture_text(dir, "samples.tsv", IDX_TSV);
    pl_data d;
    open_user(&d, "samples.tsv", "images.idx.gz");
    cr_expect_eq(d.user.n_rows, 5);
    cr_expect_eq(d.user.images[3 * SCENE_PIXELS + 17], fixture_pixel(3, 17));
    pl_data_close(&d);
}

Test(data_user, loads_a_tsv_over_a_pgm_directory) {
    fixture_scene_pgm(dir, "pgm/cat_01.pgm", 5);
    fixture_scene_pgm(dir, "pgm/b-2.v1.pgm", 6);
    fixture_scene_pgm(dir, "pgm/unused.pgm", 7);
    fixture_text(dir, "samples.tsv",
                 "cat_01\tis there a coat ?\tno\ttrain\n"
                 "b-2.v1\twhat is left of the bag ?\tshirt\ttest\n"
                 "cat_01\twhat is below the coat ?\tnothing\ttest\n");
    pl_data d;
    open_user(&d, "samples.tsv", "pgm");
    const pl_user_data *u = &d.user;
    cr_assert_eq(u->n_rows, 3);
    cr_expect_eq(u->n_images, 2, "each referenced PGM is held once");
    cr_expect_eq(u->rows[0].image, u->rows[2].image);
    cr_expect_neq(u->rows[0].image, u->rows[1].image);
    for (int p = 0; p < SCENE_PIXELS; p += 97) {
        cr_expect_eq(u->images[(size_t)u->rows[0].image * SCENE_PIXELS + p], fixture_pixel(5, p));
        cr_expect_eq(u->images[(size_t)u->rows[1].image * SCENE_PIXELS + p], fixture_pixel(6, p));
    }
    cr_expect_eq(pl_data_split_size(&d, PL_SPLIT_VAL), 0);
    pl_data_close(&d);
}

Test(data_user, question_types_come_from_the_templates) {
    fixture_idx(dir, "images.idx", 1, SCENE_SIDE, 0);
    const char *questions[] = {
        "what is in the bottom left ?", "is there an ankle boot ?", "how many tops ?",
        "where is the sneaker ?",       "what is left of the bag ?", "what is right of the bag ?",
        "what is above the coat ?",     "what is below the coat ?",  "describe the image .",
    };
    const int types[] = {QTYPE_WHAT,     QTYPE_EXISTS,   QTYPE_HOWMANY,  QTYPE_WHERE,  QTYPE_RELATION,
                         QTYPE_RELATION, QTYPE_RELATION, QTYPE_RELATION, QTYPE_CAPTION};
    char tsv[1024] = "";
    for (int i = 0; i < 9; i++)
        snprintf(tsv + strlen(tsv), sizeof tsv - strlen(tsv), "0\t%s\tnothing\n", questions[i]);
    fixture_text(dir, "types.tsv", tsv);
    pl_data d;
    open_user(&d, "types.tsv", "images.idx");
    cr_assert_eq(d.user.n_rows, 9);
    for (int i = 0; i < 9; i++)
        cr_expect_eq(d.user.rows[i].qtype, types[i], "'%s' is %s, not %s", questions[i],
                     pl_qtype_name(types[i]), pl_qtype_name(d.user.rows[i].qtype));
    pl_data_close(&d);
}

/* The words of row r's answer in a batch (from SEP+1 up to EOS). */
static void batch_answer(const pl_batch *b, int r, char *out, size_t cap) {
    const int *tok = b->tokens + (size_t)r * b->text_len;
    int end = b->answer_start + 1;
    while (end < b->text_len && tok[end] != TOK_EOS) end++;
    pl_detokenize(tok + b->answer_start + 1, end - b->answer_start - 1, out, cap);
}

Test(data_user, train_indices_wrap_around_the_train_rows_and_calib_reads_them_too) {
    fixture_idx(dir, "images.idx", 3, SCENE_SIDE, 0);
    fixture_text(dir, "samples.tsv",
                 "0\tis there a bag ?\tyes\ttrain\n"
                 "1\tis there a bag ?\tone\ttest\n"
                 "1\tis there a bag ?\tno\ttrain\n"
                 "2\tis there a bag ?\ttwo\ttrain\n");
    pl_data d;
    open_user(&d, "samples.tsv", "images.idx");
    pl_batch b;
    pl_error err;
    cr_assert_eq(pl_data_batch_alloc(&d, &b, 8, &err), PL_OK);
    const char *expected[] = {"yes", "no", "two"};
    for (int split = PL_SPLIT_TRAIN; split <= PL_SPLIT_CALIB; split += PL_SPLIT_CALIB) {
        cr_assert_eq(pl_data_fill_batch(&d, split, 1000, 8, &b, &err), PL_OK, "%s", err.message);
        for (int r = 0; r < 8; r++) {
            char answer[64];
            batch_answer(&b, r, answer, sizeof answer);
            cr_expect_str_eq(answer, expected[(1000 + r) % 3], "%s sample %d",
                             pl_split_name(split), 1000 + r);
        }
    }
    pl_batch_free(&b);
    pl_data_close(&d);
}

Test(data_user, a_batch_holds_the_normalised_bytes_and_the_text) {
    fixture_scene_pgm(dir, "pgm/a.pgm", 11);
    fixture_idx(dir, "images.idx", 3, SCENE_SIDE, 0);
    fixture_text(dir, "pgm.tsv", "a\twhat is in the top left ?\tankle boot\tval\n");
    fixture_text(dir, "idx.tsv", "2\twhat is in the top left ?\tankle boot\tval\n");
    const char *sources[][2] = {{"pgm.tsv", "pgm"}, {"idx.tsv", "images.idx"}};
    const int image[] = {11, 2};
    for (int s = 0; s < 2; s++) {
        pl_data d;
        open_user(&d, sources[s][0], sources[s][1]);
        pl_batch b;
        pl_error err;
        cr_assert_eq(pl_data_batch_alloc(&d, &b, 1, &err), PL_OK);
        cr_assert_eq(pl_data_fill_batch(&d, PL_SPLIT_VAL, 0, 1, &b, &err), PL_OK, "%s", err.message);
        for (int p = 0; p < SCENE_PIXELS; p++) {
            float want = ((float)fixture_pixel(image[s], p) / 255.0f - PL_FASHION_MEAN) / PL_FASHION_STD;
            cr_assert_float_eq(b.images[p], want, 1e-5, "%s pixel %d", sources[s][1], p);
            cr_assert_eq(b.images[p], pl_pixel_normalise(fixture_pixel(image[s], p)));
        }
        for (int k = 0; k < SCENE_CELLS; k++) cr_expect_eq(b.cells[k], -1, "no cell labels");
        cr_expect_eq(b.qtype[0], QTYPE_WHAT);
        const int S = b.answer_start;
        const int question[] = {TOK_WHAT, TOK_IS, TOK_IN, TOK_THE, TOK_TOP, TOK_LEFT, TOK_QUESTION_MARK};
        for (int p = 0; p < S; p++) {
            cr_expect_eq(b.tokens[p], p < 7 ? question[p] : TOK_PAD, "token %d", p);
            cr_expect_eq(b.targets[p], -1, "nothing is scored in the question");
        }
        const int after_sep[] = {TOK_ANKLE, TOK_BOOT, TOK_EOS};
        cr_expect_eq(b.tokens[S], TOK_SEP);
        for (int i = 0; i < 3; i++) {
            cr_expect_eq(b.tokens[S + 1 + i], after_sep[i]);
            cr_expect_eq(b.targets[S + i], after_sep[i], "target %d predicts the next token", S + i);
        }
        for (int p = S + 3; p < b.text_len; p++) cr_expect_eq(b.targets[p], -1);
        pl_batch_free(&b);
        pl_data_close(&d);
    }
}

Test(data_user, a_split_without_rows_is_a_clear_error) {
    fixture_idx(dir, "images.idx", 1, SCENE_SIDE, 0);
    fixture_text(dir, "test_only.tsv", "0\tis there a bag ?\tno\n");
    pl_data d;
    open_user(&d, "test_only.tsv", "images.idx");
    cr_expect_eq(pl_data_split_size(&d, PL_SPLIT_TRAIN), 0);
    cr_expect_eq(pl_data_split_size(&d, PL_SPLIT_CALIB), 0);
    pl_batch b;
    pl_error err;
    cr_assert_eq(pl_data_batch_alloc(&d, &b, 2, &err), PL_OK);
    cr_assert_eq(pl_data_fill_batch(&d, PL_SPLIT_TRAIN, 0, 2, &b, &err), PL_ERR_CONFIG);
    cr_expect(strstr(err.message, "no rows marked for the train split") != NULL, "%s", err.message);
    cr_expect(strstr(err.message, "test_only.tsv") != NULL, "%s", err.message);
    cr_assert_eq(pl_data_fill_batch(&d, PL_SPLIT_CALIB, 0, 2, &b, &err), PL_ERR_CONFIG);
    cr_expect(strstr(err.message, "calibration samples are the train rows") != NULL, "%s", err.message);
    cr_assert_eq(pl_data_fill_batch(&d, PL_SPLIT_VAL, 0, 1, &b, &err), PL_ERR_CONFIG);
    cr_assert_eq(pl_data_fill_batch(&d, PL_SPLIT_TEST, 0, 1, &b, &err), PL_OK, "%s", err.message);
    pl_batch_free(&b);
    pl_data_close(&d);
}

static const char GOOD_LINE[] = "0\tis there a bag ?\tyes\ttrain\n";

/* A TSV whose second line is `bad`, over a 3-image IDX file. */
static void expect_bad_line(const char *bad, const char *const *fragments, int n) {
    char tsv[PL_USER_MAX_LINE * 2];
    snprintf(tsv, sizeof tsv, "%s%s", GOOD_LINE, bad);
    fixture_idx(dir, "images.idx", 3, SCENE_SIDE, 0);
    fixture_text(dir, "bad.tsv", tsv);
    expect_load_error("bad.tsv", "images.idx", 2, fragments, n);
}

Test(data_user, malformed_lines_name_file_line_and_value) {
    expect_bad_line("1\tis there a bag ?\n", (const char *[]){"3 or 4", "found 2"}, 2);
    expect_bad_line("1\tis there a bag ?\tyes\ttrain\textra\n", (const char *[]){"more than 4"}, 1);
    expect_bad_line("1\tis there a hat ?\tno\n", (const char *[]){"question word 'hat'", "vocabulary"}, 2);
    expect_bad_line("1\tis there a bag ?\tnope\n", (const char *[]){"answer word 'nope'"}, 1);
    expect_bad_line("1\tis there a bag ?\tyes <eos>\n", (const char *[]){"'<eos>'"}, 1);
    expect_bad_line("1\twhat is the bag ?\tno\n",
                    (const char *[]){"'what is the bag ?'", "none of the templates", "'how many ...'"}, 3);
    expect_bad_line("1\tis there a bag ?\tno\ttraining\n", (const char *[]){"split 'training'"}, 1);
    expect_bad_line("1\tis there a bag ?\tno\tcalib\n", (const char *[]){"split 'calib'"}, 1);
    expect_bad_line("3\tis there a bag ?\tno\n", (const char *[]){"image_id '3'", "0..2"}, 2);
    expect_bad_line("-1\tis there a bag ?\tno\n", (const char *[]){"image_id '-1'"}, 1);
    expect_bad_line("1\t \tno\n", (const char *[]){"the question is empty"}, 1);
    expect_bad_line("1\tis there a bag ? ? ? ? ? ? ?\tno\n",
                    (const char *[]){"the question has 11 words", "data.question_len allows 10"}, 2);
    expect_bad_line("1\tdescribe the image .\tbag bag bag bag bag bag bag bag bag bag bag\n",
                    (const char *[]){"the answer has 11 words", "allows 10"}, 2);
    char long_line[PL_USER_MAX_LINE + 64];
    memset(long_line, 'x', sizeof long_line - 2);
    long_line[sizeof long_line - 2] = '\n';
    long_line[sizeof long_line - 1] = '\0';
    expect_bad_line(long_line, (const char *[]){"longer than 4096 bytes"}, 1);
}

Test(data_user, pgm_problems_name_the_line_and_the_file) {
    fixture_scene_pgm(dir, "pgm/ok.pgm", 1);
    fixture_pgm(dir, "pgm/small.pgm", "P5 28 28 255\n", 1, 28 * 28);
    fixture_pgm(dir, "pgm/deep.pgm", "P5 56 56 65535\n", 1, 2 * SCENE_PIXELS);
    fixture_pgm(dir, "pgm/short.pgm", "P5 56 56 255\n", 1, SCENE_PIXELS - 1);
    fixture_pgm(dir, "pgm/ascii.pgm", "P2 56 56 255\n", 1, 10);
    const char *const cases[][3] = {
        {"nope", "nope.pgm", "No such file"},
        {"small", "small.pgm", "is 28x28 pixels; expected 56x56"},
        {"deep", "deep.pgm", "16-bit"},
        {"short", "short.pgm", "truncated"},
        {"ascii", "ascii.pgm", "P2"},
        {"../ok", "'../ok'", "not a safe file name"},
        {".hidden", "'.hidden'", "not a safe file name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tsv[256];
        snprintf(tsv, sizeof tsv, "ok\tis there a bag ?\tyes\n%s\tis there a bag ?\tno\n", cases[i][0]);
        fixture_text(dir, "pgm.tsv", tsv);
        expect_load_error("pgm.tsv", "pgm", 2, (const char *const[]){cases[i][1], cases[i][2]}, 2);
    }
}

Test(data_user, idx_of_another_shape_and_missing_files_are_errors) {
    fixture_idx(dir, "small.idx", 2, 28, 0);
    fixture_text(dir, "samples.tsv", GOOD_LINE);
    pl_data_config cfg;
    pl_data d;
    pl_error err;
    user_config(&cfg, "samples.tsv", "small.idx");
    cr_assert_eq(pl_data_open(&d, &cfg, &err), PL_ERR_FORMAT);
    cr_expect(strstr(err.message, "N x 56 x 56; it is 2 x 28 x 28") != NULL, "%s", err.message);
    user_config(&cfg, "samples.tsv", "absent.idx");
    cr_assert_eq(pl_data_open(&d, &cfg, &err), PL_ERR_MISSING);
    cr_expect(strstr(err.message, "absent.idx") != NULL, "%s", err.message);
    fixture_idx(dir, "images.idx", 1, SCENE_SIDE, 0);
    user_config(&cfg, "absent.tsv", "images.idx");
    cr_assert_eq(pl_data_open(&d, &cfg, &err), PL_ERR_MISSING);
    cr_expect(strstr(err.message, "absent.tsv") != NULL, "%s", err.message);
    fixture_text(dir, "empty.tsv", "image_id\tquestion\tanswer\n# nothing else\n");
    user_config(&cfg, "empty.tsv", "images.idx");
    cr_assert_eq(pl_data_open(&d, &cfg, &err), PL_ERR_FORMAT);
    cr_expect(strstr(err.message, "holds no samples") != NULL, "%s", err.message);
    user_config(&cfg, "samples.tsv", "images.idx");
    cfg.images[0] = '\0';
    cr_assert_eq(pl_data_open(&d, &cfg, &err), PL_ERR_CONFIG);
    cr_expect(strstr(err.message, "data.images") != NULL, "%s", err.message);
}

Test(data_user, pgm_reader_skips_comments_and_rescales_maxval) {
    char path[512];
    fixture_path(dir, "pgm/four_bit.pgm", path, sizeof path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("P5\n#one\n2 # two\n1\n#three\n15\n", f);
    fputc(15, f), fputc(5, f);
    cr_assert_eq(fclose(f), 0);
    uint8_t px[2];
    pl_error err;
    cr_assert_eq(pl_pgm_read(path, 2, 1, px, &err), PL_OK, "%s", err.message);
    cr_expect_eq(px[0], 255);
    cr_expect_eq(px[1], 85);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("P5 2 1 15\n", f);
    fputc(16, f), fputc(0, f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(pl_pgm_read(path, 2, 1, px, &err), PL_ERR_FORMAT);
    cr_expect(strstr(err.message, "above its maxval 15") != NULL, "%s", err.message);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("P5 2 1 255\n", f);
    fputs("abc", f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(pl_pgm_read(path, 2, 1, px, &err), PL_ERR_FORMAT);
    cr_expect(strstr(err.message, "trailing data") != NULL, "%s", err.message);
}

Test(data_user, written_pgm_reads_back) {
    uint8_t px[SCENE_PIXELS], back[SCENE_PIXELS];
    for (int p = 0; p < SCENE_PIXELS; p++) px[p] = fixture_pixel(3, p);
    char path[512];
    fixture_path(dir, "pgm/round.pgm", path, sizeof path);
    pl_error err;
    cr_assert_eq(pl_pgm_write(path, px, SCENE_SIDE, SCENE_SIDE, &err), PL_OK);
    cr_assert_eq(pl_pgm_read(path, SCENE_SIDE, SCENE_SIDE, back, &err), PL_OK, "%s", err.message);
    cr_expect_eq(memcmp(px, back, sizeof px), 0);
}
