/* prune_testutil.h - what the pruning tests share: a synthetic data set (random images stand
 * in for Fashion-MNIST), micro model configurations and a seeded model, copies of buffers,
 * and a metrics sink that remembers summary values by name. */
#ifndef PL_TESTS_PRUNE_TESTUTIL_H
#define PL_TESTS_PRUNE_TESTUTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/tokenizer.h"
#include "prune/prune.h"

/* A pl_data whose image sets are random bytes (scenes only need some 28x28 images). */
static inline void synthetic_data(pl_data *d) {
    memset(d, 0, sizeof *d);
    pl_data_config_default(&d->config);
    d->config.val_size = 20, d->config.val_scenes = 10, d->config.test_size = 10;
    pl_fashion *sets[2] = {&d->train, &d->test};
    for (int s = 0; s < 2; s++) {
        const int n = s == 0 ? 200 : 40;
        uint8_t *images = pl_alloc((size_t)n * 784, 1, NULL), *labels = pl_alloc((size_t)n, 1, NULL);
        cr_assert(images && labels);
        pl_rng r = {5, (uint64_t)s};
        for (int i = 0; i < n * 784; i++) images[i] = (uint8_t)pl_rng_below(r, (uint64_t)i, 256);
        for (int i = 0; i < n; i++) labels[i] = (uint8_t)(i % 10);
        cr_assert_eq(pl_fashion_adopt(images, 3, (int[]){n, 28, 28}, labels, 1, (int[]){n},
                                      s ? "t10k" : "train", sets[s], NULL), PL_OK);
    }
}

static inline model_config config_of(const char *preset, const pl_data *d) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, preset, NULL), PL_OK);
    c.vocab_size = PL_VOCAB_SIZE, c.text_len = d->config.text_len, c.aux_classes = CELL_CLASSES;
    return c;
}

/* Micro: 2 vision blocks, 1 bridge block, 2 language blocks of width 32. */
static inline model_config micro_of(const pl_data *d) {
    model_config c = config_of("tiny", d);
    c.dim_vision = c.dim_query = c.dim_language = 32;
    c.layers_vision = 2, c.layers_query = 1, c.layers_language = 2;
    c.heads = 2, c.num_queries = 4;
    return c;
}

static inline void make_model(vlm *m, const model_config *c, int max_batch) {
    cr_assert_eq(vlm_create(m, c, max_batch, NULL), PL_OK);
    vlm_init(m, 3);
    pl_rng r = {9, 9}; /* non-trivial biases and norms */
    for (size_t i = 0; i < m->index.layout.total; i++) m->params.data[i] += 0.05f * pl_rng_normal(r, i);
}

static inline prune_config cfg_of(prune_method method, float sv, float sq, float sl) {
    prune_config c;
    prune_config_default(&c);
    c.method = method;
    c.sparsity[MODULE_VISION] = sv, c.sparsity[MODULE_BRIDGE] = sq, c.sparsity[MODULE_LANGUAGE] = sl;
    c.calib_size = 6;
    c.sparsegpt_block = 16;
    return c;
}

static inline float *copy_of(const pl_buffer *b) {
    float *c = pl_alloc(b->layout->total, sizeof *c, NULL);
    cr_assert_not_null(c);
    memcpy(c, b->data, b->layout->total * sizeof *c);
    return c;
}

/* A sink that remembers summary values by name. */
typedef struct {
    char names[256][80];
    double values[256];
    int count;
} memory_sink;
static inline pl_status remember(void *ctx, const char *name, double value, pl_error *err) {
    (void)err;
    memory_sink *s = ctx;
    cr_assert_lt(s->count, 256);
    snprintf(s->names[s->count], sizeof s->names[0], "%s", name);
    s->values[s->count++] = value;
    return PL_OK;
}
static inline double recalled(const memory_sink *s, const char *name) {
    for (int i = 0; i < s->count; i++)
        if (strcmp(s->names[i], name) == 0) return s->values[i];
    cr_assert_fail("summary %s was not reported", name);
    return NAN;
}

#endif
