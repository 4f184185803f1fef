/* fashion_fixture.h - a Criterion fixture for tests that train on real fashion scenes: the
 * default data set with 64 validation scenes, opened before each test (.init = open_data)
 * and closed after it (.fini = close_data). */
#ifndef PL_TESTS_FASHION_FIXTURE_H
#define PL_TESTS_FASHION_FIXTURE_H

#include <criterion/criterion.h>

#include "data/dataset.h"

static pl_data data;

static inline void open_data(void) {
    pl_data_config dc;
    pl_data_config_default(&dc);
    dc.val_scenes = 64;
    pl_error err;
    cr_assert_eq(pl_data_open(&data, &dc, &err), PL_OK, "%s", err.message);
}
static inline void close_data(void) { pl_data_close(&data); }

#endif
