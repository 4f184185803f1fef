/* test_nn_hard_concrete.c - hard-concrete gates against their definitions: the sampled
 * gate's P(z != 0) over 10^5 draws matches the closed form to 1 %; dz/dlog_alpha and
 * dP/dlog_alpha match central differences; the deterministic gate and the drop-rate
 * initialisation take their closed forms; on a toy problem (gates with weight counts, a task
 * cost for each dropped weight) the Lagrangian drives the expected sparsity to its target
 * within 1 %. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "nn/hard_concrete.h"

Test(hard_concrete, sampled_nonzero_rate_matches_the_closed_form) {
    enum { DRAWS = 100000 };
    const hard_concrete hc = hard_concrete_default();
    const float alphas[] = {-2.0f, -0.5f, 0.0f, 1.5f, 3.0f};
    float *u = malloc(DRAWS * sizeof(float)), *la = malloc(DRAWS * sizeof(float)), *z = malloc(DRAWS * sizeof(float));
    pl_rng r = {42, 7};
    for (size_t a = 0; a < sizeof alphas / sizeof alphas[0]; a++) {
        for (int i = 0; i < DRAWS; i++) {
            float v = pl_rng_uniform(r, (uint64_t)a * DRAWS + (uint64_t)i);
            u[i] = v <= 0.0f ? 1e-7f : v >= 1.0f ? 1.0f - 1e-7f : v;
            la[i] = alphas[a];
        }
        hard_concrete_sample(&hc, la, u, z, NULL, DRAWS);
        int nonzero = 0;
        for (int i = 0; i < DRAWS; i++) nonzero += z[i] != 0.0f;
        float p;
        hard_concrete_nonzero(&hc, &alphas[a], &p, NULL, 1);
        const double rate = (double)nonzero / DRAWS;
        cr_assert(fabs(rate - p) <= 0.01 * p, "log_alpha %g: sampled %.4f, closed form %.4f", alphas[a], rate, p);
    }
    free(u), free(la), free(z);
}

Test(hard_concrete, derivatives_match_central_differences) {
    const hard_concrete hc = hard_concrete_default();
    const float us[] = {0.2f, 0.45f, 0.6f, 0.8f}, as[] = {-0.7f, 0.3f, 1.1f};
    const float h = 1e-3f;
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++)
        for (size_t j = 0; j < sizeof as / sizeof as[0]; j++) {
            float a = as[j], ap = a + h, am = a - h, z, dz, zp, zm;
            hard_concrete_sample(&hc, &a, &us[i], &z, &dz, 1);
            hard_concrete_sample(&hc, &ap, &us[i], &zp, NULL, 1);
            hard_concrete_sample(&hc, &am, &us[i], &zm, NULL, 1);
            if (zp > 0.0f && zp < 1.0f && zm > 0.0f && zm < 1.0f)
                cr_assert_float_eq(dz, (zp - zm) / (2 * h), 2e-3, "dz u %g a %g", us[i], a);
            else
                cr_assert(z == 0.0f || z == 1.0f || dz >= 0.0f);
            float p, dp, pp, pm;
            hard_concrete_nonzero(&hc, &a, &p, &dp, 1);
            hard_concrete_nonzero(&hc, &ap, &pp, NULL, 1);
            hard_concrete_nonzero(&hc, &am, &pm, NULL, 1);
            cr_assert_float_eq(dp, (pp - pm) / (2 * h), 1e-4, "dP a %g", a);
        }
    float clamped_u = 0.999f, big = 5.0f, z, dz;
    hard_concrete_sample(&hc, &big, &clamped_u, &z, &dz, 1);
    cr_assert(z == 1.0f && dz == 0.0f, "a gate stretched past 1 is 1 with no gradient");
}

Test(hard_concrete, deterministic_gate_and_initialisation) {
    const hard_concrete hc = hard_concrete_default();
    float a = 0.0f, z;
    hard_concrete_eval(&hc, &a, &z, 1);
    cr_assert_float_eq(z, 0.5f * 1.2f - 0.1f, 1e-6);
    a = -4.0f;
    hard_concrete_eval(&hc, &a, &z, 1);
    cr_assert_eq(z, 0.0f);
    a = 4.6f;
    hard_concrete_eval(&hc, &a, &z, 1);
    cr_assert_eq(z, 1.0f);
    cr_assert_float_eq(hard_concrete_log_alpha_of_drop(0.5f), 0.0f, 1e-7);
    cr_assert_float_eq(hard_concrete_log_alpha_of_drop(0.1f), logf(9.0f), 1e-5);
}

/* 40 gates of 1..10 weights each; dropping gate i costs c_i per weight in the "task" loss;
 * minimise cost + penalty over log_alpha (SGD), maximise over l1, l2 (ascent). The expected
 * sparsity s = Σ w_i (1 − P_i) / Σ w_i must end within 1 % of the target. */
Test(hard_concrete, the_lagrangian_drives_expected_sparsity_to_its_target) {
    enum { GATES = 40, STEPS = 20000 };
    const hard_concrete hc = hard_concrete_default();
    float la[GATES], p[GATES], dp[GATES];
    double w[GATES], c[GATES], total = 0.0;
    pl_rng r = {5, 5};
    for (int i = 0; i < GATES; i++) {
        w[i] = 1.0 + floor(10.0 * pl_rng_uniform(r, (uint64_t)i));
        c[i] = 0.01 * pl_rng_uniform(r, 1000 + (uint64_t)i);
        la[i] = hard_concrete_log_alpha_of_drop(0.1f);
        total += w[i];
    }
    const double target = 0.4, lr = 0.5, lr_lambda = 0.05;
    double l1 = 0.0, l2 = 0.0, s = 0.0;
    for (int step = 0; step < STEPS; step++) {
        hard_concrete_nonzero(&hc, la, p, dp, GATES);
        s = 0.0;
        for (int i = 0; i < GATES; i++) s += w[i] * (1.0 - p[i]) / total;
        double d_s, d_l1, d_l2;
        lagrangian_penalty(l1, l2, s, target, &d_s, &d_l1, &d_l2);
        for (int i = 0; i < GATES; i++) {
            /* d/da of Σ c_i w_i (1 − P_i) + penalty(s): both go through P_i */
            const double g = (-c[i] * w[i] - d_s * w[i] / total) * dp[i];
            la[i] = (float)(la[i] - lr * g);
            if (la[i] < -4.6f) la[i] = -4.6f;
            if (la[i] > 4.6f) la[i] = 4.6f;
        }
        l1 += lr_lambda * d_l1;
        l2 += lr_lambda * d_l2;
    }
    cr_assert(fabs(s - target) <= 0.01 * target, "expected sparsity %.4f, target %.2f (l1 %.3f, l2 %.3f)",
              s, target, l1, l2);
}
