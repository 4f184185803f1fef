/* fashion_fixture.h - a Criterion fixture for tests that train on real fashion scenes: the
 * default data set with 64 validation scenes, opened before each test (.init = open_data)
 * and closed after it (.fini = close_data); and a micro model that reads it. */
#ifndef PL_TESTS_FASHION_FIXTURE_H
#define PL_TESTS_FASHION_FIXTURE_H

#include <criterion/criterion.h>

#include "data/dataset.h"
#include "data/tokenizer.h"
#include "model/vlm.h"

static pl_data data;

static inline void open_data(void) {
    pl_data_config dc;
    pl_data_config_default(&dc);
    dc.val_scenes = 64;
    pl_error err;
    cr_assert_eq(pl_data_open(&data, &dc, &err), PL_OK, "%s", err.message);
}
static inline void close_data(void) { pl_data_close(&data); }

/* A micro VLM (16 wide, one block per module) for the fixture's vocabulary and text length,
 * initialised from seed, holding max_batch rows. */
static inline void fashion_micro_vlm(vlm *m, int max_batch, uint64_t seed) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = c.dim_query = c.dim_language = 16;
    c.layers_vision = c.layers_query = c.layers_language = 1;
    c.vocab_size = PL_VOCAB_SIZE, c.text_len = data.config.text_len;
    cr_assert_eq(vlm_create(m, &c, max_batch, NULL), PL_OK);
    vlm_init(m, seed);
}

#endif
