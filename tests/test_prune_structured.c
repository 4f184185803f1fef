/* test_prune_structured.c - structured pruning of whole heads and neurons: which rows and
 * columns a unit owns, magnitude ranking within a block and across a module, the Wanda
 * group score against a naive reference over the same calibration inputs (dense, and
 * sequential: a block scored on the model pruned before it), the last
 * cross-attention head of a bridge block, the per-block report, thread-count independence,
 * keep flags through a checkpoint and the errors that name their key. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>
#include <math.h>
#include <string.h>

#include "engine/stage.h"
#include "config/path.h"
#include "core/threads.h"
#include "engine/stage_settings.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "prune/calibrate.h"
#include "prune/mask.h"
#include "prune/structured.h"
#include "prune_testutil.h"

static prune_config structured_cfg(prune_method method) {
    prune_config c;
    prune_config_default(&c);
    c.method = method;
    c.structured = 1;
    c.calib_size = 6;
    return c;
}

static const block_ref *blk(const vlm *m, pl_module mod, int l) { return &param_blocks(&m->index, mod)[l]; }

/* Multiplies every weight of unit u (kind k) of a block by factor. */
static void scale_unit(vlm *m, pl_module mod, int l, unit_kind k, int u, float factor) {
    unit_linear uls[UNIT_LINEARS_MAX];
    const int n = unit_linears_of_block(blk(m, mod, l), uls);
    for (int i = 0; i < n; i++) {
        if (uls[i].kind != k) continue;
        float *w = pl_buffer_view(&m->params, uls[i].ref.weight);
        for (int r = 0; r < uls[i].ref.out; r++)
            for (int c = 0; c < uls[i].ref.in; c++)
                if (unit_of_channel(&uls[i], uls[i].along_cols ? c : r) == u)
                    w[(size_t)r * uls[i].ref.in + c] *= factor;
    }
}

/* Every mask entry of the block's unit matrices is 0 exactly on removed units' channels. */
static void expect_masks_follow_units(const vlm *m, pl_module mod, int l) {
    unit_linear uls[UNIT_LINEARS_MAX];
    const int n = unit_linears_of_block(blk(m, mod, l), uls);
    for (int i = 0; i < n; i++) {
        const float *keep = unit_masks_keep(&m->units, mod, l, uls[i].kind);
        const float *mask = pl_buffer_view(&m->masks, uls[i].ref.weight);
        const char *name = m->index.layout.tensors[uls[i].ref.weight].name;
        for (int r = 0; r < uls[i].ref.out; r++)
            for (int c = 0; c < uls[i].ref.in; c++) {
                const int u = unit_of_channel(&uls[i], uls[i].along_cols ? c : r);
                cr_assert_eq(mask[(size_t)r * uls[i].ref.in + c], keep[u], "%s[%d, %d] (unit %d)",
                             name, r, c, u);
            }
    }
}

static int kept(const vlm *m, pl_module mod, int l, unit_kind k) {
    return unit_masks_kept(&m->units, blk(m, mod, l), mod, l, k);
}

Test(prune_structured, block_scope_removes_the_weakest_units_of_every_block_by_magnitude) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm m;
    make_model(&m, &c, 4);
    scale_unit(&m, MODULE_VISION, 0, UNIT_HEADS, 1, 0.01f);
    const int ffn = blk(&m, MODULE_LANGUAGE, 1)->ffn;
    for (int u = 0; u < ffn / 4; u++) scale_unit(&m, MODULE_LANGUAGE, 1, UNIT_NEURONS, 2 * u + 1, 0.01f);
    float *before = copy_of(&m.params);
    prune_config cfg = structured_cfg(PRUNE_MAGNITUDE);
    cfg.heads[MODULE_VISION] = 0.5f, cfg.neurons[MODULE_LANGUAGE] = 0.25f;
    memory_sink mem = {0};
    pl_metrics_sink sink = {&mem, NULL, NULL, remember, NULL};
    pl_error err;
    cr_assert_eq(prune_model(&m, NULL, &cfg, &sink, &err), PL_OK, "%s", err.message);

    const float *vk = unit_masks_keep(&m.units, MODULE_VISION, 0, UNIT_HEADS);
    cr_assert(vk[0] == 1.0f && vk[1] == 0.0f, "the planted weak head goes");
    cr_assert_eq(kept(&m, MODULE_VISION, 1, UNIT_HEADS), 1);
    const float *nk = unit_masks_keep(&m.units, MODULE_LANGUAGE, 1, UNIT_NEURONS);
    for (int u = 0; u < ffn; u++) cr_assert_eq(nk[u], (u % 2 == 1 && u < ffn / 2) ? 0.0f : 1.0f, "neuron %d", u);
    cr_assert_eq(kept(&m, MODULE_LANGUAGE, 0, UNIT_NEURONS), ffn - ffn / 4);
    cr_assert_eq(kept(&m, MODULE_LANGUAGE, 0, UNIT_HEADS), 2, "no head target in language");
    cr_assert_eq(kept(&m, MODULE_BRIDGE, 0, UNIT_CROSS_HEADS), 2);
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(&c, (pl_module)mod); l++) expect_masks_follow_units(&m, (pl_module)mod, l);
    cr_assert(memcmp(before, m.params.data, m.index.layout.total * sizeof(float)) == 0,
              "params keep their dense values under the mask");

    cr_assert_eq(recalled(&mem, "heads_kept_vision_0"), 1.0);
    cr_assert_eq(recalled(&mem, "heads_kept_language_1"), 2.0);
    cr_assert_eq(recalled(&mem, "cross_heads_kept_bridge_0"), 2.0);
    cr_assert_eq(recalled(&mem, "neurons_kept_language_1"), ffn - ffn / 4);
    cr_assert_eq(recalled(&mem, "neurons_kept_vision_0"), ffn);
    int64_t removed = 0, prunable = 0;
    for (int t = 0; t < m.index.layout.count; t++)
        if (m.index.prunable[t]) {
            const pl_tensor_spec *s = &m.index.layout.tensors[t];
            for (size_t i = 0; i < s->count; i++) removed += m.masks.data[s->offset + i] == 0.0f;
            prunable += (int64_t)s->count;
        }
    cr_assert_gt(removed, 0);
    cr_assert_float_eq(recalled(&mem, "removed_fraction"), (double)removed / (double)prunable, 1e-12);
    pl_free(before);
    vlm_free(&m);
    pl_data_close(&d);
}

/* Σ over unit u's weights of |W|·rms(input column), the naive way. */
static double naive_wanda(const vlm *m, const unit_linear *ul, const prune_stats *s, int u) {
    const float *w = pl_buffer_view(&m->params, ul->ref.weight);
    double acc = 0.0;
    for (int r = 0; r < ul->ref.out; r++)
        for (int c = 0; c < ul->ref.in; c++)
            if (unit_of_channel(ul, ul->along_cols ? c : r) == u)
                acc += fabs((double)w[(size_t)r * ul->ref.in + c]) * sqrt(s->sumsq[c] / (double)s->tokens);
    return acc;
}

/* The units of kind k in block l that the naive Wanda scores of the dense model remove. */
static void naive_removed(vlm *m, const pl_data *d, pl_module mod, int l, unit_kind k, float f,
                          float *keep) {
    const int nsites = prune_sites(m, NULL);
    prune_site sites[64];
    prune_stats stats[64];
    cr_assert_leq(nsites, 64);
    prune_sites(m, sites);
    memset(stats, 0, sizeof stats);
    for (int i = 0; i < nsites; i++) cr_assert_eq(prune_stats_init(&stats[i], sites[i].ref.in, 0, NULL), PL_OK);
    cr_assert_eq(prune_calibrate(m, d, 0, 6, sites, 0, nsites, stats, NULL), PL_OK);
    unit_linear uls[UNIT_LINEARS_MAX];
    const int n = unit_linears_of_block(blk(m, mod, l), uls), units = block_units(blk(m, mod, l), k);
    prune_cand cand[256];
    for (int u = 0; u < units; u++) {
        cand[u] = (prune_cand){0.0, (size_t)u};
        for (int i = 0; i < n; i++) {
            if (uls[i].kind != k) continue;
            int site = -1;
            for (int s = 0; s < nsites; s++)
                if (sites[s].ref.weight == uls[i].ref.weight) site = s;
            cand[u].score += naive_wanda(m, &uls[i], &stats[site], u);
        }
        keep[u] = 1.0f;
    }
    prune_lowest(cand, (size_t)units, prune_target_count(f, (size_t)units), keep);
    for (int i = 0; i < nsites; i++) prune_stats_free(&stats[i]);
}

Test(prune_structured, wanda_group_scores_match_a_naive_reference_on_the_same_inputs) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm ref, m;
    make_model(&ref, &c, 4);
    make_model(&m, &c, 4);
    const int ffn = blk(&m, MODULE_LANGUAGE, 0)->ffn;
    float want_neurons[256], want_cross[4], want_heads[4];
    naive_removed(&ref, &d, MODULE_LANGUAGE, 0, UNIT_NEURONS, 0.25f, want_neurons);
    naive_removed(&ref, &d, MODULE_BRIDGE, 0, UNIT_CROSS_HEADS, 0.5f, want_cross);
    naive_removed(&ref, &d, MODULE_VISION, 1, UNIT_HEADS, 0.5f, want_heads);
    prune_config cfg = structured_cfg(PRUNE_WANDA);
    cfg.calibration = PRUNE_CALIB_DENSE; /* every block scored on the unpruned model, as above */
    cfg.neurons[MODULE_LANGUAGE] = 0.25f, cfg.cross_heads = 0.5f, cfg.heads[MODULE_VISION] = 0.5f;
    pl_error err;
    cr_assert_eq(prune_model(&m, &d, &cfg, NULL, &err), PL_OK, "%s", err.message);
    const float *got = unit_masks_keep(&m.units, MODULE_LANGUAGE, 0, UNIT_NEURONS);
    for (int u = 0; u < ffn; u++) cr_assert_eq(got[u], want_neurons[u], "language block 0 neuron %d", u);
    got = unit_masks_keep(&m.units, MODULE_BRIDGE, 0, UNIT_CROSS_HEADS);
    cr_assert(got[0] == want_cross[0] && got[1] == want_cross[1], "cross heads %g %g vs %g %g",
              got[0], got[1], want_cross[0], want_cross[1]);
    got = unit_masks_keep(&m.units, MODULE_VISION, 1, UNIT_HEADS);
    cr_assert(got[0] == want_heads[0] && got[1] == want_heads[1]);
    cr_assert_eq(kept(&m, MODULE_BRIDGE, 0, UNIT_HEADS), 2, "cross_heads leaves self-attention alone");

    /* Magnitude ranks on the weights alone: on this model it picks other neurons. */
    vlm mag;
    make_model(&mag, &c, 4);
    prune_config mc = structured_cfg(PRUNE_MAGNITUDE);
    mc.neurons[MODULE_LANGUAGE] = 0.25f;
    cr_assert_eq(prune_model(&mag, NULL, &mc, NULL, &err), PL_OK, "%s", err.message);
    const float *mk = unit_masks_keep(&mag.units, MODULE_LANGUAGE, 0, UNIT_NEURONS);
    int differ = 0;
    for (int u = 0; u < ffn; u++) differ += mk[u] != want_neurons[u];
    cr_assert_gt(differ, 0, "the activation-aware score is not the magnitude score");
    vlm_free(&mag);
    vlm_free(&ref);
    vlm_free(&m);
    pl_data_close(&d);
}

Test(prune_structured, module_scope_ranks_across_blocks_and_may_empty_one) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm m;
    make_model(&m, &c, 4);
    const int ffn = blk(&m, MODULE_LANGUAGE, 1)->ffn;
    for (int u = 0; u < ffn; u++) scale_unit(&m, MODULE_LANGUAGE, 1, UNIT_NEURONS, u, 0.01f);
    for (int h = 0; h < 2; h++) scale_unit(&m, MODULE_VISION, 0, UNIT_HEADS, h, 0.01f);
    prune_config cfg = structured_cfg(PRUNE_WANDA);
    cfg.scope = PRUNE_SCOPE_MODULE;
    cfg.neurons[MODULE_LANGUAGE] = 0.5f, cfg.heads[MODULE_VISION] = 0.5f;
    memory_sink mem = {0};
    pl_metrics_sink sink = {&mem, NULL, NULL, remember, NULL};
    pl_error err;
    cr_assert_eq(prune_model(&m, &d, &cfg, &sink, &err), PL_OK, "%s", err.message);
    cr_assert_eq(kept(&m, MODULE_LANGUAGE, 1, UNIT_NEURONS), 0, "the weak block loses every neuron");
    cr_assert_eq(kept(&m, MODULE_LANGUAGE, 0, UNIT_NEURONS), ffn);
    cr_assert_eq(kept(&m, MODULE_VISION, 0, UNIT_HEADS), 0);
    cr_assert_eq(kept(&m, MODULE_VISION, 1, UNIT_HEADS), 2);
    cr_assert_eq(recalled(&mem, "neurons_kept_language_1"), 0.0);
    cr_assert_eq(recalled(&mem, "heads_kept_vision_0"), 0.0);
    expect_masks_follow_units(&m, MODULE_LANGUAGE, 1);
    expect_masks_follow_units(&m, MODULE_VISION, 0);
    vlm_free(&m);
    pl_data_close(&d);
}

static model_config two_bridge_blocks(const pl_data *d, int cross0, int cross1) {
    model_config c = micro_of(d);
    c.layers_query = 2;
    model_blocks_make_custom(&c);
    c.blocks.dims[MODULE_BRIDGE][0].cross_heads = cross0;
    c.blocks.dims[MODULE_BRIDGE][1].cross_heads = cross1;
    return c;
}

Test(prune_structured, every_bridge_block_keeps_a_cross_attention_head) {
    pl_data d;
    synthetic_data(&d);
    pl_error err;
    /* Module scope: both weak heads sit in block 0; its last one is skipped for block 1's. */
    model_config c = two_bridge_blocks(&d, 2, 2);
    vlm m;
    make_model(&m, &c, 4);
    for (int h = 0; h < 2; h++) scale_unit(&m, MODULE_BRIDGE, 0, UNIT_CROSS_HEADS, h, 0.01f);
    prune_config cfg = structured_cfg(PRUNE_MAGNITUDE);
    cfg.scope = PRUNE_SCOPE_MODULE, cfg.cross_heads = 0.5f;
    cr_assert_eq(prune_model(&m, NULL, &cfg, NULL, &err), PL_OK, "%s", err.message);
    cr_assert_eq(kept(&m, MODULE_BRIDGE, 0, UNIT_CROSS_HEADS), 1);
    cr_assert_eq(kept(&m, MODULE_BRIDGE, 1, UNIT_CROSS_HEADS), 1);
    vlm_free(&m);

    /* 3 of 4 cannot go when each of the two blocks keeps one. */
    make_model(&m, &c, 4);
    cfg.cross_heads = 0.75f;
    cr_assert_eq(prune_model(&m, NULL, &cfg, NULL, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.cross_heads") && strstr(err.message, "at least one"), "%s", err.message);
    vlm_free(&m);

    /* Block scope: half of a block with one cross-attention head is that head. */
    c = two_bridge_blocks(&d, 2, 1);
    make_model(&m, &c, 4);
    cfg.scope = PRUNE_SCOPE_BLOCK, cfg.cross_heads = 0.5f;
    cr_assert_eq(prune_model(&m, NULL, &cfg, NULL, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.cross_heads") && strstr(err.message, "bridge block 1"), "%s",
              err.message);
    vlm_free(&m);
    pl_data_close(&d);
}

Test(prune_structured, thread_count_does_not_change_what_is_removed) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    float *masks[2], *keep[2];
    size_t units = 0;
    for (int k = 0; k < 2; k++) {
        pl_threads_set(k + 1);
        vlm m;
        make_model(&m, &c, 4);
        prune_config cfg = structured_cfg(PRUNE_WANDA);
        cfg.heads[MODULE_VISION] = 0.5f, cfg.neurons[MODULE_LANGUAGE] = 0.3f, cfg.neurons[MODULE_BRIDGE] = 0.5f;
        cr_assert_eq(prune_model(&m, &d, &cfg, NULL, NULL), PL_OK);
        masks[k] = copy_of(&m.masks);
        keep[k] = copy_of(&m.units.keep);
        units = m.units.layout->total;
        if (k == 1) {
            cr_assert(memcmp(masks[0], masks[1], m.index.layout.total * sizeof(float)) == 0);
            cr_assert(memcmp(keep[0], keep[1], units * sizeof(float)) == 0);
        }
        vlm_free(&m);
    }
    pl_threads_set(0);
    for (int k = 0; k < 2; k++) pl_free(masks[k]), pl_free(keep[k]);
    pl_data_close(&d);
}

Test(prune_structured, bad_targets_name_their_key) {
    pl_error err;
    prune_config c = structured_cfg(PRUNE_MAGNITUDE);
    c.heads[MODULE_VISION] = 1.0f;
    cr_assert_eq(prune_config_check(&c, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.heads.vision") != NULL, "%s", err.message);
    c = structured_cfg(PRUNE_MAGNITUDE);
    c.neurons[MODULE_LANGUAGE] = 1.0f;
    cr_assert_eq(prune_config_check(&c, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.neurons.language") != NULL, "%s", err.message);
    c = structured_cfg(PRUNE_MAGNITUDE);
    cr_assert_eq(prune_config_check(&c, &err), PL_ERR_CONFIG, "nothing to remove");
    cr_assert(strstr(err.message, "prune.heads") != NULL, "%s", err.message);
    c = structured_cfg(PRUNE_SPARSEGPT);
    c.heads[MODULE_VISION] = 0.5f;
    cr_assert_eq(prune_config_check(&c, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.method 'sparsegpt'") != NULL, "%s", err.message);

    /* Wanda needs calibration scenes; a stage without data is told to use magnitude. */
    pl_data d;
    synthetic_data(&d);
    model_config mc = micro_of(&d);
    vlm m;
    make_model(&m, &mc, 4);
    c = structured_cfg(PRUNE_WANDA);
    c.heads[MODULE_VISION] = 0.5f;
    cr_assert_eq(prune_model(&m, NULL, &c, NULL, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.method 'wanda'") && strstr(err.message, "magnitude"), "%s", err.message);
    vlm_free(&m);
    pl_data_close(&d);
}

static pl_status load_prune_stage(const char *const *ov, int n, prune_config *out, pl_error *err) {
    pl_experiment *e;
    pl_status st = pl_experiment_load("tests/data/config/good/base.yaml", ov, n, &e, err);
    if (st != PL_OK) return st;
    st = settings_prune(cfg_get(e->runs[0].config, "pipeline.prune"), out, err);
    pl_experiment_free(e);
    return st;
}

Test(prune_structured, settings_read_the_optional_keys_and_refuse_them_without_the_pattern) {
    prune_config c;
    pl_error err;
    cr_assert_eq(load_prune_stage(NULL, 0, &c, &err), PL_OK, "%s", err.message);
    cr_assert_eq(c.structured, 0, "absent keys: unstructured, as before");
    const char *ov[] = {"pipeline.prune.pattern=structured", "pipeline.prune.heads.language=0.25",
                        "pipeline.prune.cross_heads=0.5", "pipeline.prune.neurons.vision=0.125",
                        "pipeline.prune.scope=module", "pipeline.prune.method=magnitude"};
    cr_assert_eq(load_prune_stage(ov, 6, &c, &err), PL_OK, "%s", err.message);
    cr_assert(c.structured && c.nm_m == 0 && c.scope == PRUNE_SCOPE_MODULE && c.method == PRUNE_MAGNITUDE);
    cr_assert(c.heads[MODULE_LANGUAGE] == 0.25f && c.heads[MODULE_VISION] == 0.0f);
    cr_assert(c.cross_heads == 0.5f && c.neurons[MODULE_VISION] == 0.125f && c.neurons[MODULE_BRIDGE] == 0.0f);
    cr_assert_eq(load_prune_stage(ov, 2, &c, &err), PL_OK, "%s", err.message);
    cr_assert_eq(c.scope, PRUNE_SCOPE_BLOCK, "scope defaults to block");

    const char *plain[] = {"pipeline.prune.heads.vision=0.5"};
    cr_assert_eq(load_prune_stage(plain, 1, &c, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "prune.heads is set") != NULL, "%s", err.message);
    const char *whole[] = {"pipeline.prune.pattern=structured", "pipeline.prune.heads.vision=1.0"};
    cr_assert_neq(load_prune_stage(whole, 2, &c, &err), PL_OK);
    cr_assert(strstr(err.message, "heads.vision") != NULL, "%s", err.message);
    const char *scope[] = {"pipeline.prune.pattern=structured", "pipeline.prune.heads.vision=0.5",
                           "pipeline.prune.scope=layer"};
    cr_assert_neq(load_prune_stage(scope, 3, &c, &err), PL_OK);
    cr_assert(strstr(err.message, "scope") != NULL, "%s", err.message);
}

Test(prune_structured, checkpoints_carry_the_keep_flags) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm m, back;
    make_model(&m, &c, 4);
    prune_config cfg = structured_cfg(PRUNE_MAGNITUDE);
    cfg.heads[MODULE_LANGUAGE] = 0.5f, cfg.neurons[MODULE_VISION] = 0.5f;
    pl_error err;
    cr_assert_eq(prune_model(&m, NULL, &cfg, NULL, &err), PL_OK, "%s", err.message);
    char path[] = "/tmp/prunelab_units_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(vlm_save(&m, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&back, path, 2, &err), PL_OK, "%s", err.message);
    cr_assert_not_null(back.units.layout);
    cr_assert_eq(back.units.layout->total, m.units.layout->total);
    cr_assert(memcmp(back.units.keep.data, m.units.keep.data, m.units.layout->total * sizeof(float)) == 0);
    cr_assert_eq(kept(&back, MODULE_LANGUAGE, 1, UNIT_HEADS), 1);
    vlm_free(&back);

    /* A keep flag that is neither 0 nor 1 is refused, naming the tensor. */
    m.units.keep.data[0] = 0.5f;
    cr_assert_eq(vlm_save(&m, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&back, path, 2, &err), PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "vision.blocks.0.attn.heads.keep") != NULL, "%s", err.message);

    /* An unpruned model's file has no keep flags and loads without unit masks. */
    vlm plain;
    make_model(&plain, &c, 2);
    cr_assert_eq(vlm_save(&plain, path, NULL, 0, &err), PL_OK, "%s", err.message);
    cr_assert_eq(vlm_load(&back, path, 2, &err), PL_OK, "%s", err.message);
    cr_assert_null(back.units.layout);
    vlm_free(&back);
    vlm_free(&plain);
    unlink(path);
    vlm_free(&m);
    pl_data_close(&d);
}

Test(prune_structured, sequential_calibration_scores_a_block_on_the_model_pruned_before_it) {
    pl_data d;
    synthetic_data(&d);
    model_config c = micro_of(&d);
    vlm m;
    make_model(&m, &c, 4);
    prune_config cfg = structured_cfg(PRUNE_WANDA);
    cfg.neurons[MODULE_VISION] = 0.5f, cfg.heads[MODULE_VISION] = 0.5f;
    pl_error err;
    cr_assert_eq(prune_model(&m, &d, &cfg, NULL, &err), PL_OK, "%s", err.message);
    const int ffn = blk(&m, MODULE_VISION, 1)->ffn;
    float got[256];
    memcpy(got, unit_masks_keep(&m.units, MODULE_VISION, 1, UNIT_NEURONS), (size_t)ffn * sizeof(float));

    /* Undo block 1's pruning: its inputs come from block 0 as pruned, which stays. */
    unit_linear uls[UNIT_LINEARS_MAX];
    const int n = unit_linears_of_block(blk(&m, MODULE_VISION, 1), uls);
    for (int i = 0; i < n; i++) {
        float *mask = pl_buffer_view(&m.masks, uls[i].ref.weight);
        for (int k = 0; k < uls[i].ref.out * uls[i].ref.in; k++) mask[k] = 1.0f;
        float *keep = unit_masks_keep(&m.units, MODULE_VISION, 1, uls[i].kind);
        for (int u = 0; u < uls[i].units; u++) keep[u] = 1.0f;
    }
    float want[256];
    naive_removed(&m, &d, MODULE_VISION, 1, UNIT_NEURONS, 0.5f, want);
    for (int u = 0; u < ffn; u++) cr_assert_eq(got[u], want[u], "vision block 1 neuron %d", u);

    /* The dense model's statistics would pick other neurons: the test tells them apart. */
    vlm dense;
    make_model(&dense, &c, 4);
    float other[256];
    naive_removed(&dense, &d, MODULE_VISION, 1, UNIT_NEURONS, 0.5f, other);
    int differ = 0;
    for (int u = 0; u < ffn; u++) differ += other[u] != want[u];
    cr_assert_gt(differ, 0);
    vlm_free(&dense);
    vlm_free(&m);
    pl_data_close(&d);
}
