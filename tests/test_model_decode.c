/* test_model_decode.c - KV-cached greedy decoding against full recomputation: on micro
 * models (uniform and shaped, dense, masked, with unmerged LoRA and SparseLoRA factors,
 * decoded to full length and with early exit) and on the shipped teachers over test
 * scenes. Every row must decode the same, except where the full model's two best logits at
 * the first difference are within 1e-5 (rounding decides a near tie; counted and printed). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "model/checkpoint.h"
#include "model/decode.h"
#include "model_testutil.h"
#include "tune/evaluate.h"

#define TIE 1e-5f

static decode_agreement compare_micro(vlm *m, const weight_set *w, uint64_t seed, int eos) {
    static tm_batch b;
    tm_fill_batch(&b, seed);
    vlm_decoder dec;
    cr_assert_eq(vlm_decoder_create(&dec, m, NULL), PL_OK);
    int full[12], cached[12];
    decode_agreement acc = {0};
    for (int answer_start = 0; answer_start < 4; answer_start++)
        vlm_decode_compare(m, &dec, w, b.images, b.tokens, 2, answer_start, eos, 0, TIE, full,
                           cached, &acc);
    vlm_decoder_free(&dec);
    return acc;
}

static void expect_agreement(const decode_agreement *a, const char *what) {
    cr_assert_gt(a->tokens, 0);
    cr_assert_eq(a->differing_rows, a->near_ties,
                 "%s: %ld rows differ, only %ld at a near tie (smallest margin %g)", what,
                 a->differing_rows, a->near_ties, a->smallest_margin);
}

static void micro_cases(model_config c, const char *what) {
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 61);
    weight_set dense = vlm_weights(&m, 0, 0);
    for (int eos = -1; eos < 3; eos += 3) { /* full length, then stopping at token 2 */
        decode_agreement a = compare_micro(&m, &dense, 62, eos);
        expect_agreement(&a, what);
    }
    /* masked, then with unmerged factors of both kinds carried by the model */
    cr_assert_eq(vlm_enable_masks(&m, NULL), PL_OK);
    pl_rng r = {63, 1};
    for (int t = 0; t < m.index.layout.count; t++)
        if (m.index.prunable[t])
            for (size_t k = 0; k < m.index.layout.tensors[t].count; k++)
                m.masks.data[m.index.layout.tensors[t].offset + k] = pl_rng_uniform(r, k + 1000 * t) < 0.4f ? 0.0f : 1.0f;
    weight_set masked = vlm_weights(&m, 1, 0);
    decode_agreement a = compare_micro(&m, &masked, 64, -1);
    expect_agreement(&a, what);
    const adapter_kind kinds[] = {ADAPTER_LORA, ADAPTER_SPARSELORA};
    for (int k = 0; k < 2; k++) {
        adapter_config ac = {.rank = {2, 1, 3}, .alpha = 4.0f, .modules = 7u, .layer_kinds = LAYER_ALL};
        cr_assert_eq(adapters_create(&m.adapters, &m.index, kinds[k], &ac, 5, NULL), PL_OK);
        for (size_t i = 0; i < m.adapters.layout.total; i++)
            m.adapters.values.data[i] += 0.3f * pl_rng_normal(r, (1ull << 33) + i);
        weight_set carried = vlm_weights(&m, 1, 0);
        a = compare_micro(&m, &carried, 65, -1);
        expect_agreement(&a, what);
        adapters_free(&m.adapters);
    }
    vlm_free(&m);
}

Test(decode, cached_equals_full_on_micro_models) {
    micro_cases(tm_micro_config(), "uniform");
    micro_cases(tm_hetero_config(), "shaped");
}

/* count test scenes of a shipped teacher, full length (no early exit) as bench decodes. */
static void teacher_case(const char *path, int count) {
    pl_error err;
    pl_data data;
    pl_data_config dc;
    pl_data_config_default(&dc);
    cr_assert_eq(pl_data_open(&data, &dc, &err), PL_OK, "%s", err.message);
    vlm m;
    cr_assert_eq(vlm_load(&m, path, 50, &err), PL_OK, "%s", err.message);
    vlm_decoder dec;
    cr_assert_eq(vlm_decoder_create(&dec, &m, &err), PL_OK);
    pl_batch batch;
    cr_assert_eq(pl_data_batch_alloc(&data, &batch, m.max_batch, &err), PL_OK);
    int *full = pl_alloc((size_t)m.max_batch * batch.text_len, sizeof(int), NULL);
    int *cached = pl_alloc((size_t)m.max_batch * batch.text_len, sizeof(int), NULL);
    cr_assert(full && cached);
    weight_set w = vlm_weights(&m, 1, 0);
    decode_agreement acc = {0};
    for (int first = 0; first < count; first += m.max_batch) {
        const int n = count - first < m.max_batch ? count - first : m.max_batch;
        cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TEST, first, n, &batch, &err), PL_OK);
        vlm_decode_compare(&m, &dec, &w, batch.images, batch.tokens, n, batch.answer_start,
                           TOK_EOS, TOK_PAD, TIE, full, cached, &acc);
    }
    fprintf(stderr, "decode: %s, %ld test scenes, %ld answer tokens: %ld rows differ, %ld of them "
            "at a near tie (margin < %g)\n", path, acc.rows, acc.tokens, acc.differing_rows,
            acc.near_ties, (double)TIE);
    expect_agreement(&acc, path);
    pl_free(full);
    pl_free(cached);
    pl_batch_free(&batch);
    vlm_decoder_free(&dec);
    vlm_free(&m);
    pl_data_close(&data);
}

Test(decode, cached_equals_full_on_the_shipped_teachers, .timeout = 300) {
    teacher_case("experiments/teachers/tiny.safetensors", 500);
    teacher_case("experiments/teachers/small.safetensors", 100);
}

/* Evaluation seeds the cache from its scoring pass (vlm_generate_after_forward): the same
 * answers, so the same accuracies, as evaluation by full recomputation. */
Test(decode, evaluation_from_the_scoring_pass_equals_full_recomputation, .timeout = 120) {
    pl_error err;
    pl_data data;
    pl_data_config dc;
    pl_data_config_default(&dc);
    cr_assert_eq(pl_data_open(&data, &dc, &err), PL_OK, "%s", err.message);
    vlm m;
    cr_assert_eq(vlm_load(&m, "experiments/teachers/tiny.safetensors", 64, &err), PL_OK, "%s", err.message);
    weight_set w = vlm_weights(&m, 1, 0);
    eval_result kv, full;
    cr_assert_eq(evaluate_model(&m, &w, &data, PL_SPLIT_TEST, 300, EVAL_KV_CACHE, &kv, &err), PL_OK);
    cr_assert_eq(evaluate_model(&m, &w, &data, PL_SPLIT_TEST, 300, EVAL_FULL_RECOMPUTE, &full, &err), PL_OK);
    cr_assert_eq(kv.accuracy, full.accuracy);
    cr_assert_eq(kv.caption_slots, full.caption_slots);
    cr_assert_eq(kv.ce, full.ce);
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) cr_assert_eq(kv.type_accuracy[t], full.type_accuracy[t]);
    cr_assert_gt(kv.accuracy, 0.5, "the shipped tiny teacher answers most questions");
    vlm_free(&m);
    pl_data_close(&data);
}
