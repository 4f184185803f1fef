/* test_optimizer.c - AdamW against hand-computed steps, masked entries pinned at zero,
 * gradient norm and clipping, and the warm-up + cosine schedule. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/threads.h"
#include "tune/optimizer.h"

#include <stdlib.h>
#include <string.h>

Test(optimizer, adamw_two_hand_computed_steps) {
    /* lr 0.1, β1 0.9, β2 0.999, ε 1e-8, wd 0.01, p0 = 1.
     * t=1, g=0.5:  m = 0.05, v = 0.001·0.25 = 2.5e-4; m̂ = 0.05/0.1 = 0.5, v̂ = 2.5e-4/1e-3
     *   = 0.25; m̂/(√v̂+ε) = 0.5/0.50000001 = 0.99999998; p = 1 − 0.1·(0.99999998 + 0.01·1)
     *   = 0.899000002.
     * t=2, g=−0.25: m = 0.045 − 0.025 = 0.02, v = 0.999·2.5e-4 + 0.001·0.0625 = 3.1225e-4;
     *   m̂ = 0.02/0.19 = 0.1052631579, v̂ = 3.1225e-4/0.001999 = 0.1562031016;
     *   m̂/(√v̂+ε) = 0.2663370329; p = 0.899000002 − 0.1·(0.2663370329 + 0.01·0.899000002)
     *   = 0.8714672987. */
    const adamw_config cfg = {0.9f, 0.999f, 1e-8f, 0.01f};
    float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;
    adamw_update(&p, &g, &m, &v, NULL, 1, 0.1f, &cfg, 1);
    cr_assert_float_eq(m, 0.05f, 1e-7); /* float 1 − 0.9f is off by 2.4e-8 */
    cr_assert_float_eq(v, 2.5e-4f, 1e-8); /* float 1 − 0.999f: 1.3e-5 relative */
    cr_assert_float_eq(p, 0.899000002f, 1e-6);
    g = -0.25f;
    adamw_update(&p, &g, &m, &v, NULL, 1, 0.1f, &cfg, 2);
    cr_assert_float_eq(m, 0.02f, 1e-7);
    cr_assert_float_eq(v, 3.1225e-4f, 1e-8);
    cr_assert_float_eq(p, 0.8714672987f, 1e-6);
}

Test(optimizer, adamw_mask_keeps_pruned_weights_at_zero) {
    const adamw_config cfg = {0.9f, 0.999f, 1e-8f, 0.1f};
    float p[4] = {0.0f, 1.0f, 0.0f, -2.0f}, m[4] = {0}, v[4] = {0};
    const float g[4] = {0.3f, 0.3f, -5.0f, 0.1f}, mask[4] = {0, 1, 0, 1};
    for (int t = 1; t <= 5; t++) adamw_update(p, g, m, v, mask, 4, 0.01f, &cfg, t);
    cr_assert_eq(p[0], 0.0f);
    cr_assert_eq(p[2], 0.0f);
    cr_assert_eq(m[2], 0.0f);
    cr_assert_eq(v[2], 0.0f);
    cr_assert_neq(p[1], 1.0f);
    cr_assert_neq(p[3], -2.0f);
}

Test(optimizer, clipping) {
    const float g[2] = {3.0f, 4.0f};
    const double sq = grad_sum_squares(g, 2);
    cr_assert_eq(sq, 25.0);
    cr_assert_float_eq(grad_clip_factor(sq, 1.0f), 0.2f, 1e-7); /* norm 5 → 1 */
    cr_assert_eq(grad_clip_factor(sq, 10.0f), 1.0f);            /* under the limit */
    cr_assert_eq(grad_clip_factor(sq, 0.0f), 1.0f);             /* 0 = no clipping */
    float h[2] = {3.0f, 4.0f};
    grad_scale(h, 2, 0.2f);
    cr_assert_float_eq(h[0], 0.6f, 1e-7);
    cr_assert_float_eq(h[1], 0.8f, 1e-7);
    cr_assert_float_eq(sqrt(grad_sum_squares(h, 2)), 1.0, 1e-6);
}

Test(optimizer, warmup_cosine_schedule) {
    /* warm-up 10 steps to 1e-3, cosine to 1e-4 at step 110 */
    cr_assert_float_eq(lr_schedule(0, 110, 10, 1e-3f, 1e-4f), 1e-4f, 1e-9);   /* 1/10 */
    cr_assert_float_eq(lr_schedule(4, 110, 10, 1e-3f, 1e-4f), 5e-4f, 1e-9);   /* 5/10 */
    cr_assert_float_eq(lr_schedule(9, 110, 10, 1e-3f, 1e-4f), 1e-3f, 1e-9);   /* 10/10 */
    cr_assert_float_eq(lr_schedule(10, 110, 10, 1e-3f, 1e-4f), 1e-3f, 1e-9);  /* cos 0 */
    cr_assert_float_eq(lr_schedule(60, 110, 10, 1e-3f, 1e-4f), 5.5e-4f, 1e-9); /* midpoint */
    /* a quarter in: 1e-4 + 0.5·9e-4·(1 + cos(π/4)) = 8.681980e-4 */
    cr_assert_float_eq(lr_schedule(35, 110, 10, 1e-3f, 1e-4f), 8.681980e-4f, 1e-9);
    cr_assert_float_eq(lr_schedule(110, 110, 10, 1e-3f, 1e-4f), 1e-4f, 1e-9);
    cr_assert_float_eq(lr_schedule(500, 110, 10, 1e-3f, 1e-4f), 1e-4f, 1e-9);
    cr_assert_float_eq(lr_schedule(3, 100, 0, 1e-3f, 0.0f), 1e-3f * 0.5f * (1.0f + cosf(3.14159265f * 0.03f)), 1e-9);
}

/* The fused whole-model step gives the bits of the per-tensor sequence it replaced
 * (grad_sum_squares per tensor summed in order, grad_scale, adamw_update), on tensors of
 * several norm chunks (4096 values) and of one, masked and not, decayed and not, at 1 and 2
 * threads. */
Test(optimizer, fused_step_matches_per_tensor_steps) {
    enum { K = 4 };
    const size_t sizes[K] = {10000, 128, 4096, 8193};
    const adamw_config cfg = {0.9f, 0.999f, 1e-8f, 0.01f};
    for (int threads = 1; threads <= 2; threads++) {
        pl_threads_set(threads);
        float *a[K][4], *b[K][4], *mask[K];
        adamw_tensor ts[K];
        unsigned seed = 7;
        for (int k = 0; k < K; k++) {
            mask[k] = k % 2 ? NULL : malloc(sizes[k] * sizeof(float));
            for (int r = 0; r < 4; r++) {
                a[k][r] = malloc(sizes[k] * sizeof(float));
                b[k][r] = malloc(sizes[k] * sizeof(float));
                for (size_t i = 0; i < sizes[k]; i++) {
                    seed = seed * 1103515245u + 12345u;
                    const float x = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
                    a[k][r][i] = b[k][r][i] = r == 3 ? x * x : x; /* v must be >= 0 */
                }
            }
            if (mask[k])
                for (size_t i = 0; i < sizes[k]; i++) mask[k][i] = (i % 3) ? 1.0f : 0.0f;
            ts[k] = (adamw_tensor){b[k][0], b[k][1], b[k][2], b[k][3], mask[k], sizes[k],
                                   k == 1 ? 0.0f : cfg.weight_decay, 3 + k};
        }
        double sq = 0.0;
        for (int k = 0; k < K; k++) sq += grad_sum_squares(a[k][1], sizes[k]);
        double partials[16];
        cr_assert_leq(grad_sum_squares_chunks(ts, K), 16);
        const double fused_sq = grad_sum_squares_many(ts, K, partials);
        cr_expect(memcmp(&sq, &fused_sq, sizeof sq) == 0, "%d threads: norm %.17g vs %.17g", threads, fused_sq, sq);
        const float factor = 0.37f;
        for (int k = 0; k < K; k++) {
            grad_scale(a[k][1], sizes[k], factor);
            adamw_config c = cfg;
            c.weight_decay = ts[k].weight_decay;
            adamw_update(a[k][0], a[k][1], a[k][2], a[k][3], mask[k], sizes[k], 1e-2f, &c, ts[k].t);
        }
        adamw_update_many(ts, K, factor, 1e-2f, &cfg);
        for (int k = 0; k < K; k++)
            for (int r = 0; r < 4; r++) {
                cr_expect(memcmp(a[k][r], b[k][r], sizes[k] * sizeof(float)) == 0,
                          "%d threads: tensor %d role %d differs", threads, k, r);
                free(a[k][r]);
                free(b[k][r]);
            }
        for (int k = 0; k < K; k++) free(mask[k]);
    }
}
