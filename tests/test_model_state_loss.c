/* test_model_state_loss.c - hidden-state and attention-map MSE distillation through the
 * whole VLM (model/state_loss.h): hand cases (the model's own states as the teacher's give
 * exactly 0 and leave every gradient as it was; offsets c per module give the mean of c²
 * over block pairs), and finite-difference gradients of the parameters and of SparseLoRA
 * factors with a non-identity layer map and teacher states from another initialisation.
 * Tolerances of the gradient checks: model_testutil.h. */
#include <criterion/criterion.h>
#include <string.h>

#include "model/adapters.h"
#include "model/state_copy.h"
#include "model/state_loss.h"
#include "model_testutil.h"

typedef struct { /* a two-block-per-module student, its batch and input */
    vlm m;
    tm_batch b;
    vlm_input in;
} fixture;

static void setup(fixture *f, uint64_t seed) {
    model_config c = tm_micro_config();
    c.layers_vision = c.layers_query = c.layers_language = 2;
    cr_assert_eq(vlm_create(&f->m, &c, 2, NULL), PL_OK);
    tm_randomise(&f->m, seed);
    tm_fill_batch(&f->b, seed + 100);
    f->in = (vlm_input){.images = f->b.images, .tokens = f->b.tokens, .targets = f->b.targets,
                        .batch = 2};
}

/* The states a pass of m with weights w leaves, kept in *copy. */
static void capture(vlm_state_copy *copy, vlm *m, const weight_set *w, const vlm_input *in) {
    cr_assert_eq(vlm_state_copy_alloc(copy, m, 1, 1, NULL), PL_OK);
    vlm_forward(m, w, in, (vlm_loss_weights){.task_weight = 1.0f});
    vlm_state_copy_take(copy, m, in->batch);
}

static float *grads_of(vlm *m, const weight_set *w, const vlm_input *in, vlm_loss_weights lw,
                       vlm_losses *losses) {
    vlm_zero_grad(m);
    *losses = vlm_forward(m, w, in, lw);
    vlm_backward(m, w);
    float *g = malloc(m->index.layout.total * sizeof(float));
    cr_assert_not_null(g);
    memcpy(g, m->grads.data, m->index.layout.total * sizeof(float));
    return g;
}

static const vlm_loss_weights BOTH = {.task_weight = 1.0f, .hidden_weight = 0.7f, .attn_weight = 5.0f};

Test(state_loss, own_states_give_zero_and_leave_gradients_unchanged) {
    static fixture f;
    setup(&f, 1);
    weight_set w = vlm_weights(&f.m, 0, 1);
    vlm_losses plain, with;
    float *g0 = grads_of(&f.m, &w, &f.in, (vlm_loss_weights){.task_weight = 1.0f}, &plain);
    vlm_state_copy own;
    capture(&own, &f.m, &w, &f.in);
    vlm_layer_map map;
    vlm_layer_map_identity(&map, &f.m.cfg);
    f.in.teacher_states = &own.view, f.in.layer_map = &map;
    float *g1 = grads_of(&f.m, &w, &f.in, BOTH, &with);
    cr_assert_eq(with.hidden, 0.0f);
    cr_assert_eq(with.attn, 0.0f);
    cr_assert_eq(with.total, plain.total);
    for (size_t i = 0; i < f.m.index.layout.total; i++)
        cr_assert(g1[i] == g0[i], "%zu: %g with the state terms, %g without", i, g1[i], g0[i]);
    free(g0), free(g1);
    vlm_state_copy_free(&own);
    vlm_free(&f.m);
}

/* Teacher = own states + c_mod on every hidden element and + 0.1 on every attention entry:
 * each pair's MSE is c², so L_hidden is the mean of c² over the six pairs, whatever the
 * modules' sizes, and L_attn = 0.01. */
Test(state_loss, offsets_give_the_mean_of_c_squared_over_pairs) {
    static fixture f;
    setup(&f, 2);
    weight_set w = vlm_weights(&f.m, 0, 0);
    vlm_state_copy t;
    capture(&t, &f.m, &w, &f.in);
    const float c[MODULE_COUNT] = {0.1f, 0.2f, 0.3f};
    state_module sm[MODULE_COUNT];
    vlm_state_modules(&f.m, 2, sm);
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < 2; l++) {
            float *h = (float *)t.view.hidden[mod][l], *a = (float *)t.view.att[mod][l];
            for (size_t i = 0; i < sm[mod].hidden_floats; i++) h[i] += c[mod];
            for (size_t i = 0; i < sm[mod].att_floats[l]; i++) a[i] += 0.1f;
        }
    vlm_layer_map map;
    vlm_layer_map_identity(&map, &f.m.cfg);
    f.in.teacher_states = &t.view, f.in.layer_map = &map;
    vlm_losses l = vlm_forward(&f.m, &w, &f.in, BOTH);
    const double want = 2.0 * (0.01 + 0.04 + 0.09) / 6.0;
    cr_assert_float_eq(l.hidden, want, 1e-6 * want);
    cr_assert_float_eq(l.attn, 0.01, 1e-8);
    cr_assert_float_eq(l.total, l.task + 0.7f * l.hidden + 5.0f * l.attn, 1e-6);
    vlm_state_copy_free(&t);
    vlm_free(&f.m);
}

/* Student block 0 ↔ teacher block 1 in every module; vision block 1 unmatched, bridge
 * block 1 ↔ 0 (swapped), language block 1 ↔ 1 (two students on one teacher block). */
static void skewed_map(vlm_layer_map *map) {
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int k = 0; k < VLM_MAX_LAYERS; k++) map->teacher[mod][k] = -1;
    map->teacher[MODULE_VISION][0] = 1;
    map->teacher[MODULE_BRIDGE][0] = 1, map->teacher[MODULE_BRIDGE][1] = 0;
    map->teacher[MODULE_LANGUAGE][0] = 1, map->teacher[MODULE_LANGUAGE][1] = 1;
}

/* Teacher states from a model of another seed, so every term and gradient is non-zero,
 * attached to the student's input through the skewed map. */
static vlm_state_copy teacher_states;
static vlm_layer_map teacher_map;

static void attach_teacher(fixture *student, uint64_t seed) {
    static fixture teacher;
    setup(&teacher, seed);
    weight_set tw = vlm_weights(&teacher.m, 0, 0);
    capture(&teacher_states, &teacher.m, &tw, &student->in);
    vlm_free(&teacher.m);
    skewed_map(&teacher_map);
    student->in.teacher_states = &teacher_states.view, student->in.layer_map = &teacher_map;
}

/* Each term alone (task off, so only it drives the gradient), then all together. The
 * per-element MSEs are small (hidden ≈ 0.4, attention maps ≈ 4e-4), so the weights lift
 * the gradients above the check's absolute tolerance: at least 10 checked entries must
 * exceed ten times it (halving either term's gradient then fails dozens of them). */
static const vlm_loss_weights CASES[] = {
    {.hidden_weight = 20.0f},
    {.attn_weight = 2000.0f},
    {.task_weight = 0.5f, .hidden_weight = 10.0f, .attn_weight = 1000.0f},
};

Test(state_loss, parameter_gradients_match_finite_differences) {
    static fixture f;
    setup(&f, 3);
    attach_teacher(&f, 4);
    weight_set w = vlm_weights(&f.m, 0, 1);
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        vlm_zero_grad(&f.m);
        vlm_losses l = vlm_forward(&f.m, &w, &f.in, CASES[k]);
        cr_assert(CASES[k].hidden_weight == 0.0f || l.hidden > 0.0f);
        cr_assert(CASES[k].attn_weight == 0.0f || l.attn > 0.0f);
        vlm_backward(&f.m, &w);
        int large = tm_check_fd(&f.m, &w, f.m.params.data, f.m.grads.data,
                                f.m.index.layout.total, &f.in, CASES[k], 80, "param");
        cr_assert_gt(large, 10, "case %zu: too few gradients large enough to test", k);
    }
    vlm_state_copy_free(&teacher_states);
    vlm_free(&f.m);
}

Test(state_loss, sparselora_factor_gradients_match_finite_differences) {
    static fixture f;
    setup(&f, 5);
    cr_assert_eq(vlm_enable_masks(&f.m, NULL), PL_OK);
    pl_rng r = {6, 6};
    for (int i = 0; i < f.m.index.layout.count; i++)
        if (f.m.index.prunable[i]) {
            float *mask = pl_buffer_view(&f.m.masks, i);
            for (size_t k = 0; k < f.m.index.layout.tensors[i].count; k++)
                mask[k] = pl_rng_uniform(r, f.m.index.layout.tensors[i].offset + k) < 0.5f;
        }
    adapter_set a;
    adapter_config ac = {.rank = {2, 1, 3}, .alpha = 4.0f, .modules = 7u, .layer_kinds = LAYER_ALL};
    cr_assert_eq(adapters_create(&a, &f.m.index, ADAPTER_SPARSELORA, &ac, 5, NULL), PL_OK);
    for (size_t i = 0; i < a.layout.total; i++) a.values.data[i] += 0.2f * pl_rng_normal(r, (1ull << 32) + i);
    attach_teacher(&f, 7);
    weight_set w = vlm_weights(&f.m, 1, 0);
    w.adapters = &a, w.adapter_grads = &a.grads;
    pl_buffer_zero(&a.grads);
    vlm_forward(&f.m, &w, &f.in, CASES[2]);
    vlm_backward(&f.m, &w);
    int large = tm_check_fd(&f.m, &w, a.values.data, a.grads.data, a.layout.total, &f.in,
                            CASES[2], 60, "adapter");
    cr_assert_gt(large, 10);
    adapters_free(&a);
    vlm_state_copy_free(&teacher_states);
    vlm_free(&f.m);
}

/* Student and teacher of different shapes (the student's blocks have their own heads and
 * MLP widths; the teacher has the same heads but other MLP widths and a uniform bridge
 * MLP): the paired blocks pass state_loss_check and the gradients of both terms match
 * finite differences; a block without attention contributes no attention pair. */
Test(state_loss, shaped_student_from_a_teacher_of_another_shape) {
    model_config sc = tm_hetero_config(), tc = sc;
    tc.blocks.dims[MODULE_VISION][0].ffn = 16, tc.blocks.dims[MODULE_VISION][1].ffn = 8;
    tc.blocks.dims[MODULE_LANGUAGE][0].ffn = 5, tc.blocks.dims[MODULE_BRIDGE][1].ffn = 24;
    vlm student, teacher;
    cr_assert_eq(vlm_create(&student, &sc, 2, NULL), PL_OK);
    cr_assert_eq(vlm_create(&teacher, &tc, 2, NULL), PL_OK);
    tm_randomise(&student, 11);
    tm_randomise(&teacher, 12);
    vlm_layer_map map;
    vlm_layer_map_identity(&map, &sc);
    pl_error err;
    cr_assert_eq(state_loss_check(&map, &sc, &tc, 1, 1, &err), PL_OK, "%s", err.message);
    static tm_batch b;
    tm_fill_batch(&b, 13);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .batch = 2};
    vlm_state_copy states;
    weight_set tw = vlm_weights(&teacher, 0, 0);
    capture(&states, &teacher, &tw, &in);
    cr_assert_null(states.view.att[MODULE_VISION][0], "a block without attention has no map");
    in.teacher_states = &states.view, in.layer_map = &map;
    weight_set w = vlm_weights(&student, 0, 1);
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        vlm_zero_grad(&student);
        vlm_losses l = vlm_forward(&student, &w, &in, CASES[k]);
        cr_assert(CASES[k].hidden_weight == 0.0f || l.hidden > 0.0f);
        cr_assert(CASES[k].attn_weight == 0.0f || l.attn > 0.0f);
        vlm_backward(&student, &w);
        int large = tm_check_fd(&student, &w, student.params.data, student.grads.data,
                                student.index.layout.total, &in, CASES[k], 80, "param");
        cr_assert_gt(large, 10, "case %zu: too few gradients large enough to test", k);
    }
    vlm_state_copy_free(&states);
    vlm_free(&teacher);
    vlm_free(&student);
}
