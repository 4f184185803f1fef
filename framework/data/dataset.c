/* dataset.c - data set configuration, loading, split bookkeeping and batch filling, for the
 * generated scenes and a user's own files. */
#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/questions.h"

/* Longest built-in question and answer in tokens ("what is left of the ankle boot ?";
 * a caption of four "ankle boot"s). */
enum { BUILTIN_QUESTION_MAX = 8, BUILTIN_ANSWER_MAX = 8 };

void pl_data_config_default(pl_data_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->path, sizeof cfg->path, "%s", PL_FASHION_DEFAULT_DIR);
    cfg->item_prob = 0.75f;
    cfg->val_size = 5000;
    cfg->val_scenes = 2000;
    cfg->test_size = 5000;
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) cfg->mix[t] = 1.0f;
    cfg->seed = 0;
    cfg->eval_seed = 1234;
    cfg->question_len = 10;
    cfg->text_len = 22;
}

pl_status pl_data_config_check(const pl_data_config *cfg, pl_error *err) {
    if (cfg->tsv[0] != '\0' && cfg->images[0] == '\0')
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "data.tsv is %s but data.images is empty; point it at the IDX file or "
                        "the directory of PGMs the TSV's image ids refer to",
                        cfg->tsv);
    if (!(cfg->item_prob >= 0.0f && cfg->item_prob <= 1.0f))
        return PL_ERROR(err, PL_ERR_CONFIG, "data.item_prob is %g; allowed: 0 to 1",
                        (double)cfg->item_prob);
    if (cfg->val_size < 0 || cfg->val_size > 50000)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "data.val_size is %d; allowed: 0 to 50000 of the 60000 training images",
                        cfg->val_size);
    if (cfg->val_scenes < 0 || (cfg->val_size == 0 && cfg->val_scenes > 0))
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "data.val_scenes is %d; allowed: >= 0, and 0 when data.val_size is 0",
                        cfg->val_scenes);
    if (cfg->test_size < 1)
        return PL_ERROR(err, PL_ERR_CONFIG, "data.test_size is %d; allowed: >= 1",
                        cfg->test_size);
    float total = 0.0f;
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) {
        if (!(cfg->mix[t] >= 0.0f) || isinf(cfg->mix[t]))
            return PL_ERROR(err, PL_ERR_CONFIG,
                            "data.mix.%s is %g; allowed: a finite weight >= 0",
                            pl_qtype_name(t), (double)cfg->mix[t]);
        total += cfg->mix[t];
    }
    if (!(total > 0.0f))
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "data.mix gives every question type weight 0; give at least one of "
                        "what, exists, howmany, where, relation, caption a positive weight");
    if (cfg->question_len < BUILTIN_QUESTION_MAX || cfg->question_len > 256)
        return PL_ERROR(err, PL_ERR_CONFIG, "data.question_len is %d; allowed: %d to 256",
                        cfg->question_len, BUILTIN_QUESTION_MAX);
    int min_text = cfg->question_len + 2 + BUILTIN_ANSWER_MAX;
    if (cfg->text_len < min_text || cfg->text_len > 1024)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "data.text_len is %d; allowed: %d (question_len + SEP + 8 answer "
                        "tokens + EOS) to 1024",
                        cfg->text_len, min_text);
    return PL_OK;
}

pl_status pl_data_open(pl_data *d, const pl_data_config *cfg, pl_error *err) {
    memset(d, 0, sizeof *d);
    PL_TRY(pl_data_config_check(cfg, err));
    d->config = *cfg;
    if (cfg->tsv[0] != '\0')
        return pl_user_data_load(cfg->tsv, cfg->images, cfg->question_len,
                                 cfg->text_len - cfg->question_len - 2, &d->user, err);
    PL_TRY(pl_fashion_load(cfg->path, "train", &d->train, err));
    pl_status st = pl_fashion_load(cfg->path, "t10k", &d->test, err);
    if (st == PL_OK && d->train.count <= cfg->val_size)
        st = PL_ERROR(err, PL_ERR_CONFIG,
                      "data.val_size %d leaves no training images out of %d", cfg->val_size,
                      d->train.count);
    if (st != PL_OK) pl_data_close(d);
    return st;
}

void pl_data_close(pl_data *d) {
    pl_fashion_free(&d->train);
    pl_fashion_free(&d->test);
    pl_user_data_free(&d->user);
}

int pl_data_same_source(const pl_data_config *a, const pl_data_config *b) {
    if (strcmp(a->tsv, b->tsv) != 0 || strcmp(a->images, b->images) != 0) return 0;
    if (a->tsv[0] != '\0') return a->question_len == b->question_len && a->text_len == b->text_len;
    return strcmp(a->path, b->path) == 0;
}

static int is_user(const pl_data *d) { return d->config.tsv[0] != '\0'; }

/* The TSV split a split reads: calib samples are the train rows. */
static int user_split(pl_split split) { return split == PL_SPLIT_CALIB ? PL_SPLIT_TRAIN : split; }

int64_t pl_data_split_size(const pl_data *d, pl_split split) {
    if (is_user(d) && split >= 0 && split < PL_SPLIT_COUNT) {
        int rows = d->user.split_size[user_split(split)];
        return user_split(split) == PL_SPLIT_TRAIN && rows > 0 ? INT64_MAX : rows;
    }
    switch (split) {
    case PL_SPLIT_VAL: return d->config.val_scenes;
    case PL_SPLIT_TEST: return d->config.test_size;
    case PL_SPLIT_TRAIN:
    case PL_SPLIT_CALIB: return INT64_MAX;
    default: return 0;
    }
}

const uint8_t *pl_data_split_images(const pl_data *d, pl_split split) {
    if (is_user(d)) return NULL;
    return split == PL_SPLIT_TEST ? d->test.images : d->train.images;
}

static pl_scene_pool split_pool(const pl_data *d, pl_split split) {
    pl_scene_pool p;
    const pl_fashion *set = split == PL_SPLIT_TEST ? &d->test : &d->train;
    p.images = set->images;
    p.labels = set->labels;
    int train_count = d->train.count - d->config.val_size;
    if (split == PL_SPLIT_TEST) p.first = 0, p.count = set->count;
    else if (split == PL_SPLIT_VAL) p.first = train_count, p.count = d->config.val_size;
    else p.first = 0, p.count = train_count;
    return p;
}

/* The RNG key of one sample: (seed, split, index) and nothing else. */
static pl_rng sample_rng(const pl_data *d, pl_split split, int64_t index) {
    int eval = split == PL_SPLIT_VAL || split == PL_SPLIT_TEST;
    pl_rng base = {eval ? d->config.eval_seed : d->config.seed, 0x5CE7E5ULL};
    return pl_rng_derive(pl_rng_derive(base, (uint64_t)split + 1), (uint64_t)index);
}

void pl_data_scene(const pl_data *d, pl_split split, int64_t index, pl_scene *out) {
    if (is_user(d)) {
        for (int k = 0; k < SCENE_CELLS; k++) out->cells[k] = -1, out->image[k] = -1;
        return;
    }
    pl_scene_pool pool = split_pool(d, split);
    pl_scene_generate(&pool, d->config.item_prob, pl_rng_derive(sample_rng(d, split, index), 1),
                      out);
}

pl_status pl_data_batch_alloc(const pl_data *d, pl_batch *b, int capacity, pl_error *err) {
    return pl_batch_alloc(b, capacity, d->config.text_len, d->config.question_len, err);
}

/* Fills one row from a user's TSV row (the caller checked that the sample exists). */
static pl_status fill_user_row(const pl_data *d, pl_split split, int64_t index, pl_batch *b,
                               int row, pl_error *err) {
    const pl_user_row *u = pl_user_data_row(&d->user, user_split(split), index);
    const uint8_t *src = d->user.images + (size_t)u->image * SCENE_PIXELS;
    float *dst = b->images + (size_t)row * SCENE_PIXELS;
    for (int i = 0; i < SCENE_PIXELS; i++) dst[i] = pl_pixel_normalise(src[i]);
    for (int k = 0; k < SCENE_CELLS; k++) b->cells[(size_t)row * SCENE_CELLS + k] = -1;
    b->qtype[row] = u->qtype;
    const int *text = d->user.tokens + u->text;
    return pl_batch_set_text(b, row, text, u->nq, text + u->nq, u->na, err);
}

/* Fills one row; only fails if the batch layout cannot hold the text. */
static pl_status fill_row(const pl_data *d, pl_split split, int64_t index, pl_batch *b, int row,
                          pl_error *err) {
    if (is_user(d)) return fill_user_row(d, split, index, b, row, err);
    pl_scene scene;
    pl_data_scene(d, split, index, &scene);
    pl_scene_render(&scene, pl_data_split_images(d, split),
                    b->images + (size_t)row * SCENE_PIXELS);
    memcpy(b->cells + (size_t)row * SCENE_CELLS, scene.cells, sizeof scene.cells);
    pl_rng_cursor c = pl_rng_cursor_at(pl_rng_derive(sample_rng(d, split, index), 2), 0);
    int type = pl_qtype_pick(d->config.mix, &c);
    pl_qa qa;
    pl_question_make(scene.cells, type, d->config.mix, &c, &qa);
    b->qtype[row] = qa.type;
    return pl_batch_set_text(b, row, qa.question, qa.nq, qa.answer, qa.na, err);
}

pl_status pl_data_fill_batch_cyclic(const pl_data *d, pl_split split, int64_t first_index,
                                    int64_t period, int64_t offset, int count, pl_batch *b,
                                    pl_error *err) {
    if (period < 0 || offset < 0)
        return PL_ERROR(err, PL_ERR_INVALID, "a cyclic fill needs period >= 0 and offset >= 0");
    if (split < 0 || split >= PL_SPLIT_COUNT)
        return PL_ERROR(err, PL_ERR_INVALID, "unknown split %d", (int)split);
    if (count < 0 || count > b->capacity)
        return PL_ERROR(err, PL_ERR_INVALID, "cannot fill %d rows of a batch of capacity %d",
                        count, b->capacity);
    if (b->text_len != d->config.text_len || b->answer_start != d->config.question_len)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "batch layout (text_len %d, answer_start %d) differs from the data "
                        "config (text_len %d, question_len %d); allocate it with "
                        "pl_data_batch_alloc",
                        b->text_len, b->answer_start, d->config.text_len,
                        d->config.question_len);
    int64_t size = pl_data_split_size(d, split);
    if (is_user(d) && size == 0 && count > 0)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "the TSV %s has no rows marked for the %s split%s; add rows with '%s' "
                        "in the fourth column",
                        d->config.tsv, pl_split_name(split),
                        split == PL_SPLIT_CALIB ? " (calibration samples are the train rows)" : "",
                        pl_split_name(user_split(split)));
    /* row r holds sample first + (offset + r), or first + (offset + r) mod period */
    const int64_t span = period > 0 && period < offset + count ? period : offset + count;
    if (first_index < 0 || first_index > size - span)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "samples %lld..%lld are outside the %s split (%lld samples)",
                        (long long)first_index, (long long)(first_index + span - 1),
                        pl_split_name(split), (long long)size);
#define ROW_INDEX(r) (first_index + (period > 0 ? (offset + (r)) % period : offset + (r)))
    int failed = -1;
#pragma omp parallel for schedule(static) reduction(max : failed) if (count >= 16)
    for (int r = 0; r < count; r++)
        if (fill_row(d, split, ROW_INDEX(r), b, r, NULL) != PL_OK) failed = r;
    if (failed >= 0) return fill_row(d, split, ROW_INDEX(failed), b, failed, err);
#undef ROW_INDEX
    b->size = count;
    return PL_OK;
}

pl_status pl_data_fill_batch(const pl_data *d, pl_split split, int64_t first_index, int count,
                             pl_batch *b, pl_error *err) {
    return pl_data_fill_batch_cyclic(d, split, first_index, 0, 0, count, b, err);
}
