/* test_data_scenes.c - scenes and splits: determinism per (seed, split, index) whatever the
 * batch composition or thread count, test scenes drawn only from the t10k images, split
 * pools, normalisation and item probability. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "data/dataset.h"

static pl_data data;

static void open_data(void) {
    pl_data_config cfg;
    pl_data_config_default(&cfg);
    cfg.seed = 7;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_data_open(&data, &cfg, &err), PL_OK, "%s", err.message);
}
static void close_data(void) { pl_data_close(&data); }

TestSuite(data_scenes, .init = open_data, .fini = close_data);

static void assert_rows_equal(const pl_batch *a, int ra, const pl_batch *b, int rb) {
    cr_assert_eq(memcmp(a->images + (size_t)ra * SCENE_PIXELS, b->images + (size_t)rb * SCENE_PIXELS,
                        SCENE_PIXELS * sizeof(float)), 0);
    cr_assert_eq(memcmp(a->tokens + (size_t)ra * a->text_len, b->tokens + (size_t)rb * b->text_len,
                        (size_t)a->text_len * sizeof(int)), 0);
    cr_assert_eq(memcmp(a->targets + (size_t)ra * a->text_len, b->targets + (size_t)rb * b->text_len,
                        (size_t)a->text_len * sizeof(int)), 0);
    cr_assert_eq(memcmp(a->cells + (size_t)ra * SCENE_CELLS, b->cells + (size_t)rb * SCENE_CELLS,
                        SCENE_CELLS * sizeof(int)), 0);
    cr_assert_eq(a->qtype[ra], b->qtype[rb]);
}

Test(data_scenes, sample_is_a_function_of_seed_split_index_only) {
    pl_error err;
    pl_batch whole, parts;
    cr_assert_eq(pl_data_batch_alloc(&data, &whole, 64, &err), PL_OK);
    cr_assert_eq(pl_data_batch_alloc(&data, &parts, 64, &err), PL_OK);
    for (int split = 0; split < PL_SPLIT_COUNT; split++) {
        omp_set_num_threads(1);
        cr_assert_eq(pl_data_fill_batch(&data, split, 100, 64, &whole, &err), PL_OK, "%s",
                     err.message);
        omp_set_num_threads(2);
        /* the same samples as three differently sized batches, each starting at row 0 */
        int starts[] = {100, 103, 140}, counts[] = {3, 37, 24};
        for (int p = 0; p < 3; p++) {
            cr_assert_eq(pl_data_fill_batch(&data, split, starts[p], counts[p], &parts, &err), PL_OK);
            cr_assert_eq(parts.size, counts[p]);
            for (int r = 0; r < counts[p]; r++) assert_rows_equal(&whole, starts[p] - 100 + r, &parts, r);
        }
    }
    /* consecutive samples differ, and the train index space is unbounded */
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TRAIN, 1000000000000LL, 2, &parts, &err), PL_OK);
    cr_assert_neq(memcmp(parts.images, parts.images + SCENE_PIXELS, SCENE_PIXELS * sizeof(float)), 0);
    pl_batch_free(&whole);
    pl_batch_free(&parts);
}

Test(data_scenes, seeds_separate_train_from_evaluation) {
    pl_scene a, b;
    pl_data_scene(&data, PL_SPLIT_TRAIN, 5, &a);
    pl_data_scene(&data, PL_SPLIT_CALIB, 5, &b);
    cr_assert_neq(memcmp(a.image, b.image, sizeof a.image), 0, "calib has its own stream");
    pl_scene t1, t2;
    pl_data_scene(&data, PL_SPLIT_TEST, 5, &t1);
    data.config.seed = 8; /* a new training seed changes train, not test */
    pl_data_scene(&data, PL_SPLIT_TRAIN, 5, &b);
    pl_data_scene(&data, PL_SPLIT_TEST, 5, &t2);
    cr_assert_neq(memcmp(a.image, b.image, sizeof a.image), 0);
    cr_assert_eq(memcmp(t1.image, t2.image, sizeof t1.image), 0);
}

Test(data_scenes, splits_draw_from_their_own_images) {
    int train_end = data.train.count - data.config.val_size;
    for (int i = 0; i < 2000; i++) {
        pl_scene s;
        pl_data_scene(&data, PL_SPLIT_TRAIN, i, &s);
        for (int k = 0; k < SCENE_CELLS; k++) cr_assert_lt(s.image[k], train_end);
        pl_data_scene(&data, PL_SPLIT_VAL, i, &s);
        for (int k = 0; k < SCENE_CELLS; k++)
            if (s.image[k] >= 0) cr_assert_geq(s.image[k], train_end);
        pl_data_scene(&data, PL_SPLIT_TEST, i, &s);
        for (int k = 0; k < SCENE_CELLS; k++) {
            cr_assert_lt(s.image[k], data.test.count);
            if (s.image[k] >= 0) cr_assert_eq(s.cells[k], data.test.labels[s.image[k]]);
            else cr_assert_eq(s.cells[k], CELL_EMPTY);
        }
    }
    pl_error err;
    pl_batch b;
    cr_assert_eq(pl_data_batch_alloc(&data, &b, 8, &err), PL_OK);
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TEST, data.config.test_size - 4, 8, &b, &err),
                 PL_ERR_INVALID);
    cr_assert(strstr(err.message, "outside the test split") != NULL, "%s", err.message);
    pl_batch_free(&b);
}

Test(data_scenes, test_pixels_are_normalised_t10k_images) {
    pl_error err;
    pl_batch b;
    cr_assert_eq(pl_data_batch_alloc(&data, &b, 32, &err), PL_OK);
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TEST, 0, 32, &b, &err), PL_OK);
    int filled = 0, empty = 0;
    for (int r = 0; r < 32; r++) {
        pl_scene s;
        pl_data_scene(&data, PL_SPLIT_TEST, r, &s);
        for (int k = 0; k < SCENE_CELLS; k++) {
            cr_assert_eq(b.cells[r * SCENE_CELLS + k], s.cells[k]);
            const uint8_t *src = s.image[k] >= 0 ? data.test.images + (size_t)s.image[k] * 784 : NULL;
            filled += src != NULL, empty += src == NULL;
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) {
                    float v = b.images[(size_t)r * SCENE_PIXELS + (size_t)((k / 2) * 28 + y) * 56 + (k % 2) * 28 + x];
                    float raw = src ? src[y * 28 + x] / 255.0f : 0.0f;
                    cr_assert_float_eq(v, (raw - PL_FASHION_MEAN) / PL_FASHION_STD, 1e-5);
                }
        }
    }
    cr_assert_gt(filled, 0);
    cr_assert_gt(empty, 0);
    pl_batch_free(&b);
}

Test(data_scenes, item_probability_is_respected) {
    int filled = 0, n = 4000;
    for (int i = 0; i < n; i++) {
        pl_scene s;
        pl_data_scene(&data, PL_SPLIT_TRAIN, i, &s);
        for (int k = 0; k < SCENE_CELLS; k++) filled += s.cells[k] != CELL_EMPTY;
    }
    double rate = (double)filled / (4.0 * n);
    cr_assert(fabs(rate - data.config.item_prob) < 0.02, "fill rate %.3f", rate);
    data.config.item_prob = 0.0f;
    pl_scene s;
    pl_data_scene(&data, PL_SPLIT_TRAIN, 3, &s);
    for (int k = 0; k < SCENE_CELLS; k++) cr_assert_eq(s.cells[k], CELL_EMPTY);
    data.config.item_prob = 1.0f;
    pl_data_scene(&data, PL_SPLIT_TRAIN, 3, &s);
    for (int k = 0; k < SCENE_CELLS; k++) cr_assert_neq(s.cells[k], CELL_EMPTY);
}

Test(data_config, rejects_bad_values_naming_the_key) {
    pl_data_config cfg;
    pl_error err;
    pl_error_clear(&err);
    pl_data_config_default(&cfg);
    cr_assert_eq(pl_data_config_check(&cfg, &err), PL_OK);
    cfg.item_prob = 1.5f;
    cr_assert_eq(pl_data_config_check(&cfg, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "data.item_prob") != NULL);
    pl_data_config_default(&cfg);
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) cfg.mix[t] = 0.0f;
    cr_assert_eq(pl_data_config_check(&cfg, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "data.mix") != NULL);
    pl_data_config_default(&cfg);
    cfg.text_len = 12;
    cr_assert_eq(pl_data_config_check(&cfg, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "data.text_len") != NULL);
    pl_data_config_default(&cfg);
    snprintf(cfg.path, sizeof cfg.path, "/nonexistent/fmnist");
    pl_data d;
    cr_assert_eq(pl_data_open(&d, &cfg, &err), PL_ERR_MISSING);
    cr_assert(strstr(err.message, "dataset-fashion-mnist") != NULL, "%s", err.message);
}
