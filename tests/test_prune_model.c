/* test_prune_model.c - pruning whole VLMs: per-module targets, untouched modules, the
 * masked-zero invariant, masked vs dense forward, sequential vs dense calibration,
 * determinism across thread counts, sparsity accounting, config checks. Synthetic
 * Fashion-MNIST stand-ins keep the data cheap; a micro model keeps every test fast. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/threads.h"
#include "core/timing.h"
#include "data/tokenizer.h"
#include "prune/calibrate.h"
#include "prune/mask.h"
#include "prune/prune.h"
#include "prune/sparsegpt.h"
#include "prune/sparsity.h"
#include "prune_testutil.h"

/* Every tensor of module mod is bit-identical to before and its mask all ones. */
static void expect_untouched(const vlm *m, const float *before, pl_module mod) {
    for (int t = 0; t < m->index.layout.count; t++) {
        if (m->index.module[t] != mod) continue;
        const pl_tensor_spec *s = &m->index.layout.tensors[t];
        cr_assert(memcmp(m->params.data + s->offset, before + s->offset, s->count * sizeof(float)) == 0,
                  "%s changed", s->name);
        for (size_t i = 0; i < s->count; i++)
            cr_assert_eq(m->masks.data[s->offset + i], 1.0f, "%s is masked", s->name);
    }
}

Test(prune_model, tiny_wanda_hits_each_module_target_and_leaves_the_bridge_untouched) {
    pl_data d;
    synthetic_data(&d);
    model_config c = config_of("tiny", &d);
    vlm m;
    make_model(&m, &c, 4);
    float *before = copy_of(&m.params);
    prune_config cfg = cfg_of(PRUNE_WANDA, 0.5f, 0.0f, 0.7f);
    cfg.calib_size = 8;
    /* One thread: the bound is on the work; on a shared, oversubscribed machine every
     * OpenMP barrier of the forward passes can wait a whole time slice. */
    pl_threads_set(1);
    const double t0 = pl_now();
    cr_assert_eq(prune_model(&m, &d, &cfg, NULL, NULL), PL_OK);
    const double seconds = pl_now() - t0;
    cr_expect_lt(seconds, 2.0, "pruning tiny took %.2f s", seconds);
    sparsity_summary s;
    sparsity_measure(&m, &s);
    /* Row groups: every row of every pruned matrix loses exactly round(s·in). */
    cr_assert_eq(sparsity_module(&s, MODULE_VISION), 0.5);
    cr_assert(fabs(sparsity_module(&s, MODULE_LANGUAGE) - 0.7) < 0.01, "%g",
              sparsity_module(&s, MODULE_LANGUAGE));
    cr_assert_eq(sparsity_module(&s, MODULE_BRIDGE), 0.0);
    sparsity_matrix mats[64];
    const int n = sparsity_matrices(&m, mats);
    cr_assert_eq(n, param_block_linears(&m.index, &m.cfg, NULL, NULL));
    for (int i = 0; i < n; i++) {
        const pl_tensor_spec *t = &m.index.layout.tensors[mats[i].tensor];
        const int rows = t->shape[0], cols = t->shape[1];
        int64_t want = (int64_t)rows * (int64_t)prune_target_count(cfg.sparsity[mats[i].module], (size_t)cols);
        cr_assert_eq(mats[i].zeros, want, "%s: %lld zeros, want %lld", t->name,
                     (long long)mats[i].zeros, (long long)want);
        for (int r = 0; r < rows; r++) {
            int z = 0;
            for (int j = 0; j < cols; j++) z += m.masks.data[t->offset + (size_t)r * cols + j] == 0.0f;
            cr_assert_eq(z, (int)prune_target_count(cfg.sparsity[mats[i].module], (size_t)cols));
        }
    }
    expect_untouched(&m, before, MODULE_BRIDGE);
    cr_assert_eq(sparsity_check_masked_zero(&m, NULL), PL_OK);
    pl_free(before);
    vlm_free(&m);
    pl_data_close(&d);
}

Test(prune_model, per_module_targets_leave_other_modules_bit_identical) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    const prune_method methods[] = {PRUNE_MAGNITUDE, PRUNE_WANDA, PRUNE_SPARSEGPT};
    for (int k = 0; k < 3; k++)
        for (int only = 0; only < MODULE_COUNT; only++) {
            vlm m;
            make_model(&m, &c, 4);
            float *before = copy_of(&m.params);
            float s[MODULE_COUNT] = {0};
            s[only] = 0.6f;
            prune_config cfg = cfg_of(methods[k], s[0], s[1], s[2]);
            cr_assert_eq(prune_model(&m, &d, &cfg, NULL, NULL), PL_OK);
            for (int other = 0; other < MODULE_COUNT; other++)
                if (other != only) expect_untouched(&m, before, (pl_module)other);
            /* In the pruned module only prunable tensors changed. */
            for (int t = 0; t < m.index.layout.count; t++) {
                const pl_tensor_spec *ts = &m.index.layout.tensors[t];
                if (m.index.prunable[t]) continue;
                cr_assert(memcmp(m.params.data + ts->offset, before + ts->offset, ts->count * 4) == 0,
                          "%s is not prunable but changed", ts->name);
            }
            sparsity_summary sum;
            sparsity_measure(&m, &sum);
            cr_assert(fabs(sparsity_module(&sum, (pl_module)only) - 0.6) < 0.02);
            pl_free(before);
            vlm_free(&m);
        }
    pl_data_close(&d);
}

/* Prunes a fresh micro model with `threads` threads; returns copies of params and masks. */
static void prune_with(int threads, const prune_config *cfg, const pl_data *d, float **params,
                       float **masks) {
    pl_threads_set(threads);
    model_config c = micro_of(d);
    vlm m;
    make_model(&m, &c, 4);
    cr_assert_eq(prune_model(&m, d, cfg, NULL, NULL), PL_OK);
    *params = copy_of(&m.params);
    *masks = copy_of(&m.masks);
    vlm_free(&m);
}

Test(prune_model, deterministic_and_thread_count_independent) {
    pl_data d;
    synthetic_data(&d);
    prune_config cfgs[3] = {cfg_of(PRUNE_WANDA, 0.5f, 0.3f, 0.6f), cfg_of(PRUNE_SPARSEGPT, 0.5f, 0.0f, 0.5f),
                            cfg_of(PRUNE_SPARSEGPT, 0.5f, 0.5f, 0.5f)};
    cfgs[1].group = PRUNE_GROUP_MATRIX;
    cfgs[2].nm_n = 2, cfgs[2].nm_m = 4, cfgs[2].calibration = PRUNE_CALIB_DENSE;
    for (int k = 0; k < 3; k++) {
        float *p1, *m1, *p2, *m2; /* equal across thread counts implies run-to-run too */
        prune_with(1, &cfgs[k], &d, &p1, &m1);
        prune_with(2, &cfgs[k], &d, &p2, &m2);
        model_config c = micro_of(&d);
        vlm probe;
        make_model(&probe, &c, 1);
        const size_t bytes = probe.index.layout.total * sizeof(float);
        cr_assert(memcmp(p1, p2, bytes) == 0, "config %d: params differ between 1 and 2 threads", k);
        cr_assert(memcmp(m1, m2, bytes) == 0, "config %d: masks differ between 1 and 2 threads", k);
        vlm_free(&probe);
        pl_free(p1), pl_free(m1), pl_free(p2), pl_free(m2);
    }
    pl_data_close(&d);
}

Test(prune_model, masked_forward_equals_dense_forward_with_zeroed_weights) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm a, b;
    make_model(&a, &c, 3);
    make_model(&b, &c, 3);
    prune_config cfg = cfg_of(PRUNE_SPARSEGPT, 0.6f, 0.4f, 0.6f);
    cr_assert_eq(prune_model(&a, &d, &cfg, NULL, NULL), PL_OK);
    for (size_t i = 0; i < a.index.layout.total; i++) /* b: no masks, W ⊙ M stored */
        b.params.data[i] = a.params.data[i] * a.masks.data[i];
    pl_batch batch;
    cr_assert_eq(pl_data_batch_alloc(&d, &batch, 3, NULL), PL_OK);
    cr_assert_eq(pl_data_fill_batch(&d, PL_SPLIT_VAL, 0, 3, &batch, NULL), PL_OK);
    vlm_input in = {.images = batch.images, .tokens = batch.tokens, .targets = batch.targets,
                    .cells = batch.cells, .batch = 3};
    const vlm_loss_weights lw = {.task_weight = 1.0f, .aux_weight = 0.5f, .bridge_aux_weight = 0.5f};
    weight_set wa = vlm_weights(&a, 1, 0), wb = vlm_weights(&b, 0, 0);
    vlm_losses la = vlm_forward(&a, &wa, &in, lw), lb = vlm_forward(&b, &wb, &in, lw);
    const size_t logits = (size_t)3 * model_lm_len(&c) * c.vocab_size;
    cr_assert(memcmp(a.logits, b.logits, logits * sizeof(float)) == 0, "logits differ");
    cr_assert_eq(la.total, lb.total);
    pl_batch_free(&batch);
    vlm_free(&a), vlm_free(&b);
    pl_data_close(&d);
}

static int tensors_equal(const vlm *a, const vlm *b, const pl_buffer *ba, const pl_buffer *bb, int t) {
    const pl_tensor_spec *s = &a->index.layout.tensors[t];
    (void)b;
    return memcmp(ba->data + s->offset, bb->data + s->offset, s->count * sizeof(float)) == 0;
}

Test(prune_model, sequential_and_dense_calibration_differ_from_the_second_block_on) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm seq, dense;
    make_model(&seq, &c, 4);
    make_model(&dense, &c, 4);
    prune_config cfg = cfg_of(PRUNE_WANDA, 0.5f, 0.0f, 0.5f);
    cr_assert_eq(prune_model(&seq, &d, &cfg, NULL, NULL), PL_OK);
    cfg.calibration = PRUNE_CALIB_DENSE;
    cr_assert_eq(prune_model(&dense, &d, &cfg, NULL, NULL), PL_OK);
    /* Vision block 0 sees the dense model's inputs either way: identical masks. */
    const block_ref *v0 = &seq.index.vision_blocks[0], *v1 = &seq.index.vision_blocks[1];
    const int first[] = {v0->qkv.weight, v0->proj.weight, v0->fc1.weight, v0->fc2.weight};
    for (int i = 0; i < 4; i++)
        cr_assert(tensors_equal(&seq, &dense, &seq.masks, &dense.masks, first[i]),
                  "%s: masks must agree", seq.index.layout.tensors[first[i]].name);
    /* Block 1's inputs come from a pruned block 0 in sequential mode only. */
    const int second[] = {v1->qkv.weight, v1->proj.weight, v1->fc1.weight, v1->fc2.weight};
    int differ = 0;
    for (int i = 0; i < 4; i++) differ += !tensors_equal(&seq, &dense, &seq.masks, &dense.masks, second[i]);
    cr_assert_gt(differ, 0, "vision block 1's masks are identical under both calibrations");
    vlm_free(&seq), vlm_free(&dense);
    pl_data_close(&d);
}

Test(prune_model, second_block_statistics_see_the_pruned_first_block) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm m;
    make_model(&m, &c, 4);
    cr_assert_eq(vlm_enable_masks(&m, NULL), PL_OK);
    const int n = prune_sites(&m, NULL);
    prune_site sites[64];
    cr_assert_eq(prune_sites(&m, sites), n);
    cr_assert_eq(sites[0].ref.weight, m.index.vision_blocks[0].qkv.weight);
    cr_assert_eq(sites[4].level, 1); /* vision block 1 starts after qkv, proj, fc1, fc2 */
    prune_stats before[64] = {0}, after[64] = {0};
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(prune_stats_init(&before[i], sites[i].ref.in, 0, NULL), PL_OK);
        cr_assert_eq(prune_stats_init(&after[i], sites[i].ref.in, 0, NULL), PL_OK);
    }
    cr_assert_eq(prune_calibrate(&m, &d, 0, 6, sites, 0, 8, before, NULL), PL_OK);
    /* Remove vision block 0's fc2 entirely (mask 0, weight 0) and calibrate again. */
    const linear_ref fc2 = m.index.vision_blocks[0].fc2;
    float *w = pl_buffer_view(&m.params, fc2.weight), *mk = pl_buffer_view(&m.masks, fc2.weight);
    for (int i = 0; i < fc2.in * fc2.out; i++) w[i] = 0.0f, mk[i] = 0.0f;
    cr_assert_eq(prune_calibrate(&m, &d, 0, 6, sites, 0, 8, after, NULL), PL_OK);
    for (int i = 0; i < 4; i++)
        cr_assert(memcmp(before[i].sumsq, after[i].sumsq, sizeof(double) * sites[i].ref.in) == 0,
                  "block 0 layer %d's inputs do not depend on its own weights", i);
    cr_assert(memcmp(before[4].sumsq, after[4].sumsq, sizeof(double) * sites[4].ref.in) != 0,
              "block 1's inputs must change");
    cr_assert_eq(before[4].tokens, 6 * model_num_patches(&c));
    for (int i = 0; i < 8; i++) prune_stats_free(&before[i]), prune_stats_free(&after[i]);
    vlm_free(&m);
    pl_data_close(&d);
}

Test(prune_model, nm_pattern_holds_in_every_group_of_every_pruned_matrix) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm m;
    make_model(&m, &c, 4);
    prune_config cfg = cfg_of(PRUNE_MAGNITUDE, 0.5f, 0.0f, 0.5f);
    cfg.nm_n = 2, cfg.nm_m = 4;
    cr_assert_eq(prune_model(&m, NULL, &cfg, NULL, NULL), PL_OK); /* magnitude needs no data */
    for (int t = 0; t < m.index.layout.count; t++) {
        if (!m.index.prunable[t] || m.index.module[t] == MODULE_BRIDGE) continue;
        const pl_tensor_spec *s = &m.index.layout.tensors[t];
        for (size_t g = 0; g < s->count; g += 4) {
            int z = 0;
            for (int k = 0; k < 4; k++) z += m.masks.data[s->offset + g + k] == 0.0f;
            cr_assert_eq(z, 2, "%s group %zu", s->name, g / 4);
        }
    }
    vlm_free(&m);
    pl_data_close(&d);
}

Test(prune_model, sparsity_accounting_counts_masks_and_checks_masked_zeros) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm m;
    make_model(&m, &c, 2);
    cr_assert_eq(vlm_enable_masks(&m, NULL), PL_OK);
    const int qkv = m.index.language_blocks[1].qkv.weight;
    const pl_tensor_spec *t = &m.index.layout.tensors[qkv];
    for (size_t i = 0; i < t->count / 4; i++) { /* a quarter of one language matrix */
        m.masks.data[t->offset + i] = 0.0f;
        m.params.data[t->offset + i] = 0.0f;
    }
    memory_sink mem = {0};
    pl_metrics_sink sink = {&mem, NULL, NULL, remember, NULL};
    cr_assert_eq(sparsity_report(&m, &sink, 1, NULL), PL_OK);
    sparsity_summary s;
    sparsity_measure(&m, &s);
    cr_assert_eq(s.zeros[MODULE_LANGUAGE], (int64_t)(t->count / 4));
    cr_assert_eq(recalled(&mem, "sparsity_language"), (double)(t->count / 4) / (double)s.weights[MODULE_LANGUAGE]);
    cr_assert_eq(recalled(&mem, "sparsity_vision"), 0.0);
    cr_assert_eq(recalled(&mem, "params"), (double)s.params);
    cr_assert_eq(recalled(&mem, "nonzero_params"), (double)s.nonzero_params);
    cr_assert_eq(recalled(&mem, "sparsity.language.blocks.1.attn.qkv.weight"), 0.25);
    cr_assert_eq(recalled(&mem, "sparsity_overall"), (double)(t->count / 4) / (double)s.prunable);
    cr_assert_eq(sparsity_check_masked_zero(&m, NULL), PL_OK);
    m.params.data[t->offset + 5] = 1e-30f; /* masked: the forward pass still uses 0 */
    cr_assert_eq(sparsity_check_masked_zero(&m, NULL), PL_OK);
    m.params.data[t->offset + 5] = INFINITY; /* masked, but inf * 0 is NaN */
    pl_error err = {0};
    cr_assert_eq(sparsity_check_masked_zero(&m, &err), PL_ERR_INTERNAL);
    cr_assert(strstr(err.message, "language.blocks.1.attn.qkv.weight[5]") != NULL, "%s", err.message);
    vlm_free(&m);
    pl_data_close(&d);
}

Test(prune_model, config_checks_name_the_key) {
    prune_config cfg = cfg_of(PRUNE_WANDA, 0.5f, 0.0f, 0.7f);
    pl_error err = {0};
    cfg.nm_n = 2, cfg.nm_m = 4;
    cr_assert_eq(prune_config_check(&cfg, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.sparsity.language") != NULL, "%s", err.message);
    cfg = cfg_of(PRUNE_WANDA, 0.5f, 0.0f, 0.5f);
    cr_assert_eq(prune_config_check(&cfg, NULL), PL_OK);
}

/* A value's range is its schema key's (tests/data/config/bad/sparsity_*.yaml); a caller of
 * the library that bypasses the schema meets the guard of the kernel that consumes it. */
Test(prune_model, kernels_guard_the_values_they_consume) {
    float w[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mask[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    pl_error err = {0};
    prune_rule bad = {.sparsity = 1.0};
    cr_expect_eq(prune_rule_check(&bad, 2, 4, &err), PL_ERR_CONFIG);
    cr_expect(strstr(err.message, "outside [0, 1)") != NULL, "%s", err.message);
    double xtx[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    const sparsegpt_options no_damping = {.block = 4, .damp = 0.0};
    const prune_rule half = {.sparsity = 0.5};
    cr_expect_eq(prune_layer_sparsegpt(w, mask, 2, 4, xtx, 16, &no_damping, &half, &err), PL_ERR_CONFIG);
    cr_expect(strstr(err.message, "damping > 0") != NULL, "%s", err.message);
}

/* Magnitude and Wanda only choose a mask: the parameters keep their dense values, so the
 * unmasked model is still the dense teacher (finetune's default KD teacher). */
Test(prune_model, dense_values_stay_under_the_mask) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    const prune_method methods[2] = {PRUNE_MAGNITUDE, PRUNE_WANDA};
    for (int k = 0; k < 2; k++) {
        vlm m;
        make_model(&m, &c, 2);
        float *before = copy_of(&m.params);
        prune_config cfg = cfg_of(methods[k], 0.5f, 0.0f, 0.6f);
        cr_assert_eq(prune_model(&m, &d, &cfg, NULL, NULL), PL_OK);
        cr_assert_eq(memcmp(before, m.params.data, m.index.layout.total * sizeof(float)), 0);
        sparsity_summary s;
        sparsity_measure(&m, &s);
        cr_assert_float_eq(sparsity_module(&s, MODULE_LANGUAGE), 0.6, 0.02); /* per-row rounding */
        pl_free(before);
        vlm_free(&m);
    }
    pl_data_close(&d);
}

/* Micro with a shape per block: narrower attention (one head), narrower and wider MLPs, a
 * block without attention, one without MLP, a bridge block with one cross head of two. */
static model_config shaped_of(const pl_data *d) {
    model_config c = micro_of(d);
    model_blocks_make_custom(&c);
    c.blocks.dims[MODULE_VISION][0] = (block_dims){0, 0, 64};
    c.blocks.dims[MODULE_VISION][1] = (block_dims){1, 0, 0};
    c.blocks.dims[MODULE_BRIDGE][0] = (block_dims){2, 1, 48};
    c.blocks.dims[MODULE_LANGUAGE][0] = (block_dims){1, 0, 96};
    c.blocks.dims[MODULE_LANGUAGE][1] = (block_dims){2, 0, 32};
    return c;
}

/* Every method and pattern on the narrower matrices: each row of each present matrix of a
 * pruned module loses exactly its share (row groups) or N of every M. */
Test(prune_model, every_method_prunes_blocks_of_their_own_shapes) {
    pl_data d;
    synthetic_data(&d);
    model_config c = shaped_of(&d);
    const prune_method methods[] = {PRUNE_MAGNITUDE, PRUNE_WANDA, PRUNE_SPARSEGPT};
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
        for (int nm = 0; nm < 2; nm++) {
            vlm m;
            make_model(&m, &c, 4);
            prune_config cfg = cfg_of(methods[k], 0.5f, 0.5f, 0.5f);
            if (nm) cfg.nm_n = 2, cfg.nm_m = 4;
            pl_error err;
            cr_assert_eq(prune_model(&m, &d, &cfg, NULL, &err), PL_OK, "%s", err.message);
            sparsity_matrix mats[64];
            const int n = sparsity_matrices(&m, mats);
            cr_assert_eq(n, param_block_linears(&m.index, &m.cfg, NULL, NULL));
            for (int i = 0; i < n; i++) {
                const pl_tensor_spec *t = &m.index.layout.tensors[mats[i].tensor];
                const int rows = t->shape[0], cols = t->shape[1], group = nm ? 4 : cols;
                const int want = nm ? 2 : (int)prune_target_count(0.5, (size_t)cols);
                for (int r = 0; r < rows; r++)
                    for (int g = 0; g < cols; g += group) {
                        int z = 0;
                        for (int j = g; j < g + group; j++)
                            z += m.masks.data[t->offset + (size_t)r * cols + j] == 0.0f;
                        cr_assert_eq(z, want, "method %d nm %d: %s row %d group %d", (int)k, nm,
                                     t->name, r, g / group);
                    }
            }
            cr_assert_eq(sparsity_check_masked_zero(&m, NULL), PL_OK);
            vlm_free(&m);
        }
    pl_data_close(&d);
}
