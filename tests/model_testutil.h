/* model_testutil.h - what the whole-model tests share: a micro configuration (fast, with
 * cross-attention across widths), a seeded batch for it, randomised parameters, and the
 * gradient check: central differences of vlm_forward's total loss in float at random
 * entries of a buffer (the parameters or the adapter factors) against vlm_backward's. */
#ifndef PL_TESTS_MODEL_TESTUTIL_H
#define PL_TESTS_MODEL_TESTUTIL_H

#include <criterion/criterion.h>
#include <math.h>

#include "core/rng.h"
#include "model/vlm.h"

static inline model_config tm_micro_config(void) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = 8, c.dim_query = 8, c.dim_language = 12; /* cross-attention across widths */
    c.layers_vision = 1, c.layers_query = 1, c.layers_language = 2;
    c.heads = 2, c.num_queries = 3, c.image_size = 28, c.patch_size = 7;
    c.vocab_size = 13, c.text_len = 6;
    return c;
}

/* The micro configuration with a shape per block: a vision block without attention and one
 * without MLP, a bridge block with fewer cross-attention heads than self-attention heads and
 * one without cross-attention, language blocks of different widths. */
static inline model_config tm_hetero_config(void) {
    model_config c = tm_micro_config();
    c.layers_vision = 2, c.layers_query = 2, c.layers_language = 2;
    model_blocks_make_custom(&c);
    c.blocks.dims[MODULE_VISION][0] = (block_dims){0, 0, 10};
    c.blocks.dims[MODULE_VISION][1] = (block_dims){1, 0, 0};
    c.blocks.dims[MODULE_BRIDGE][0] = (block_dims){2, 1, 6};
    c.blocks.dims[MODULE_BRIDGE][1] = (block_dims){1, 0, 4};
    c.blocks.dims[MODULE_LANGUAGE][0] = (block_dims){1, 0, 20};
    c.blocks.dims[MODULE_LANGUAGE][1] = (block_dims){2, 0, 3};
    cr_assert_eq(model_config_check(&c, NULL), PL_OK);
    return c;
}

typedef struct { /* two samples for tm_micro_config */
    float images[2 * 28 * 28];
    int tokens[2 * 6], targets[2 * 6], cells[2 * 4];
} tm_batch;

static inline void tm_fill_batch(tm_batch *b, uint64_t seed) {
    pl_rng r = {seed, 99};
    for (int i = 0; i < 2 * 28 * 28; i++) b->images[i] = pl_rng_normal(r, (uint64_t)i);
    for (int i = 0; i < 12; i++) {
        b->tokens[i] = (int)pl_rng_below(r, 10000 + (uint64_t)i, 13);
        b->targets[i] = (i % 6) >= 3 ? (int)pl_rng_below(r, 20000 + (uint64_t)i, 13) : -1;
    }
    for (int i = 0; i < 8; i++) b->cells[i] = (int)pl_rng_below(r, 30000 + (uint64_t)i, 11);
}

/* Random non-trivial values for biases and norms too, so their gradients are exercised. */
static inline void tm_randomise(vlm *m, uint64_t seed) {
    vlm_init(m, seed);
    pl_rng r = {seed, 7};
    for (size_t i = 0; i < m->index.layout.total; i++)
        m->params.data[i] += 0.1f * pl_rng_normal(r, i);
}

/* Central difference of the total loss with respect to *value, in float. With eps = 1e-2
 * the truncation error is O(eps²·f''') ≈ 1e-4 and the rounding error ≈ 1e-7·|L|/eps ≈ 3e-5,
 * so an absolute 1.5e-3 plus 3 % relative tolerance (tm_close) separates right from wrong
 * (a wrong gradient is off by O(|g|)). */
static inline double tm_numeric(vlm *m, const weight_set *w, const vlm_input *in,
                                vlm_loss_weights lw, float *value) {
    const float eps = 1e-2f, saved = *value;
    *value = saved + eps;
    double up = vlm_forward(m, w, in, lw).total;
    *value = saved - eps;
    double down = vlm_forward(m, w, in, lw).total;
    *value = saved;
    return (up - down) / (2.0 * eps);
}

static inline int tm_close(double numeric, double analytic) {
    return fabs(numeric - analytic) <= 1.5e-3 + 0.03 * fabs(numeric);
}

/* Checks `picks` entries drawn by a fixed stream; returns how many had |numeric| > 1.5e-2,
 * ten times the absolute tolerance, so a caller can insist the check was not vacuous. */
static inline int tm_check_fd(vlm *m, const weight_set *w, float *values, const float *grads,
                              size_t n, const vlm_input *in, vlm_loss_weights lw, int picks,
                              const char *what) {
    pl_rng pick = {3, 3};
    int large = 0;
    for (int k = 0; k < picks; k++) {
        size_t i = pl_rng_below(pick, (uint64_t)k, (uint32_t)n);
        double numeric = tm_numeric(m, w, in, lw, &values[i]);
        cr_expect(tm_close(numeric, grads[i]), "%s[%zu]: analytic %.6g vs numeric %.6g", what, i,
                  grads[i], numeric);
        large += fabs(numeric) > 1.5e-2;
    }
    return large;
}

/* Three entries of every parameter tensor against central differences (a masked entry must
 * instead have gradient exactly 0); at least 100 entries must be checked. */
static inline void tm_check_params(vlm *m, const weight_set *w, const vlm_input *in,
                                   vlm_loss_weights lw) {
    vlm_zero_grad(m);
    vlm_forward(m, w, in, lw);
    vlm_backward(m, w);
    pl_rng pick = {5, 5};
    int checked = 0;
    for (int t = 0; t < m->index.layout.count; t++) {
        const pl_tensor_spec *spec = &m->index.layout.tensors[t];
        for (int k = 0; k < 3; k++) {
            size_t i = spec->offset + pl_rng_below(pick, (uint64_t)(t * 3 + k), (uint32_t)spec->count);
            if (w->masks && w->masks->data[i] == 0.0f) {
                cr_assert_eq(m->grads.data[i], 0.0f, "%s: masked weight got a gradient", spec->name);
                continue;
            }
            double numeric = tm_numeric(m, w, in, lw, &m->params.data[i]);
            double analytic = m->grads.data[i];
            cr_expect(tm_close(numeric, analytic), "%s[%zu]: analytic %.6g vs numeric %.6g",
                      spec->name, i - spec->offset, analytic, numeric);
            checked++;
        }
    }
    cr_assert_gt(checked, 100);
}

#endif
