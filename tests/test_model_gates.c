/* test_model_gates.c - unit gates in the blocks (model/block.h): dL/dz of every head,
 * cross-attention head and neuron gate, and the parameters' gradients through the gates,
 * against central differences; gates of 1 compute exactly the ungated model; a gate of 0
 * computes what removing that unit computes (its unit mask). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/rng.h"
#include "model/block.h"
#include "model_testutil.h"

static const vlm_loss_weights WEIGHTS = {.task_weight = 1.0f, .aux_weight = 0.5f,
                                         .bridge_aux_weight = 0.3f};

/* One flat buffer of gates and one of their gradients over every block of m. */
typedef struct {
    vlm_gates g;
    float z[256], dz[256];
    size_t n;
} gate_set;

static void gates_of_model(gate_set *gs, const vlm *m, float value, uint64_t seed) {
    memset(gs, 0, sizeof *gs);
    pl_rng r = {seed, 2};
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&m->cfg, (pl_module)mod); l++) {
            const block_ref *b = &param_blocks(&m->index, (pl_module)mod)[l];
            block_gates *bg = &gs->g.block[mod][l];
            const int counts[3] = {b->heads, b->has_cross ? b->cross_heads : 0, b->ffn};
            for (int k = 0; k < 3; k++) {
                if (counts[k] == 0) continue;
                float *z = gs->z + gs->n, *dz = gs->dz + gs->n;
                for (int u = 0; u < counts[k]; u++)
                    z[u] = value > 0.0f ? value : 0.2f + 0.8f * pl_rng_uniform(r, gs->n + (size_t)u);
                if (k == 0) bg->heads = z, bg->d_heads = dz;
                if (k == 1) bg->cross = z, bg->d_cross = dz;
                if (k == 2) bg->neurons = z, bg->d_neurons = dz;
                gs->n += (size_t)counts[k];
                cr_assert_leq(gs->n, 256);
            }
        }
}

static vlm_input input_of(tm_batch *b) {
    return (vlm_input){.images = b->images, .tokens = b->tokens, .targets = b->targets,
                       .cells = b->cells, .batch = 2};
}

Test(model_gates, gate_and_parameter_gradients_match_finite_differences) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 31);
    static tm_batch b;
    tm_fill_batch(&b, 32);
    vlm_input in = input_of(&b);
    static gate_set gs;
    gates_of_model(&gs, &m, 0.0f, 33);
    weight_set w = vlm_weights(&m, 0, 1);
    w.gates = &gs.g;
    vlm_zero_grad(&m);
    memset(gs.dz, 0, sizeof gs.dz);
    vlm_forward(&m, &w, &in, WEIGHTS);
    vlm_backward(&m, &w);
    float analytic[256];
    memcpy(analytic, gs.dz, sizeof analytic);
    int large = 0;
    for (size_t i = 0; i < gs.n; i++) {
        const double numeric = tm_numeric(&m, &w, &in, WEIGHTS, &gs.z[i]);
        cr_expect(tm_close(numeric, analytic[i]), "gate %zu: analytic %.6g vs numeric %.6g", i,
                  analytic[i], numeric);
        large += fabs(numeric) > 4.5e-3; /* three times the absolute tolerance */
    }
    cr_assert_geq(large, (int)gs.n / 3, "the gates' gradients are not all near zero (%d of %zu large)",
                 large, gs.n);
    tm_check_params(&m, &w, &in, WEIGHTS);
    vlm_free(&m);
}

Test(model_gates, gates_of_one_are_the_ungated_model) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 41);
    static tm_batch b;
    tm_fill_batch(&b, 42);
    vlm_input in = input_of(&b);
    static gate_set gs;
    gates_of_model(&gs, &m, 1.0f, 0);
    weight_set plain = vlm_weights(&m, 0, 1), gated = plain;
    gated.gates = &gs.g;
    const float l0 = vlm_forward(&m, &plain, &in, WEIGHTS).total;
    const size_t n = (size_t)2 * model_lm_len(&c) * c.vocab_size;
    static float logits[4096];
    cr_assert_leq(n, 4096);
    memcpy(logits, m.logits, n * sizeof(float));
    const float l1 = vlm_forward(&m, &gated, &in, WEIGHTS).total;
    cr_assert(l0 == l1, "%.9g vs %.9g", l0, l1);
    cr_assert(memcmp(logits, m.logits, n * sizeof(float)) == 0);
    vlm_free(&m);
}

/* Language block 0's neuron 3 and bridge block 0's head 1 gated to 0 equal the same units
 * removed by unit masks (model/units.h). */
Test(model_gates, a_gate_of_zero_removes_its_unit) {
    model_config c = tm_hetero_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 51);
    static tm_batch b;
    tm_fill_batch(&b, 52);
    vlm_input in = input_of(&b);
    static gate_set gs;
    gates_of_model(&gs, &m, 1.0f, 0);
    ((float *)gs.g.block[MODULE_LANGUAGE][0].neurons)[3] = 0.0f;
    ((float *)gs.g.block[MODULE_BRIDGE][0].heads)[1] = 0.0f;
    weight_set gated = vlm_weights(&m, 0, 0);
    gated.gates = &gs.g;
    const float lg = vlm_forward(&m, &gated, &in, WEIGHTS).total;
    const size_t n = (size_t)2 * model_lm_len(&c) * c.vocab_size;
    static float logits[4096];
    memcpy(logits, m.logits, n * sizeof(float));
    cr_assert_eq(unit_masks_enable(&m.units, &m.cfg, &m.index, NULL), PL_OK);
    cr_assert_eq(vlm_enable_masks(&m, NULL), PL_OK);
    unit_masks_keep(&m.units, MODULE_LANGUAGE, 0, UNIT_NEURONS)[3] = 0.0f;
    unit_masks_keep(&m.units, MODULE_BRIDGE, 0, UNIT_HEADS)[1] = 0.0f;
    unit_masks_apply(&m.units, &m.index, &m.cfg, NULL, &m.masks);
    weight_set masked = vlm_weights(&m, 1, 0);
    const float lm = vlm_forward(&m, &masked, &in, WEIGHTS).total;
    cr_assert_float_eq(lg, lm, 1e-5);
    for (size_t i = 0; i < n; i++) cr_assert_float_eq(logits[i], m.logits[i], 1e-5, "logit %zu", i);
    vlm_free(&m);
}
