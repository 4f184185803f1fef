/* test_model_reference.c - prunelab's VLM against its PyTorch twin: the loss, the logits
 * and every parameter gradient for the fixed case of reference/reference_case.h, as computed
 * in float64 by tests/reference/vlm_reference.py (fixtures committed; regenerate with
 * `make reference-fixtures`). Also checks that the committed model file is what the C side
 * generates today, so the fixtures cannot silently go stale. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "reference/reference_case.h"

#define FIXTURES "tests/reference/fixtures"
#define FIXTURES_SHAPED "tests/reference/fixtures_shaped"

static const safetensors_tensor *need(const safetensors_file *f, const char *name) {
    const safetensors_tensor *t = safetensors_find(f, name);
    cr_assert_not_null(t, "fixture lacks %s", name);
    return t;
}

/* dir holds model.safetensors (the case reference_model_case(shaped) builds), its batch and
 * the twin's expected.safetensors. */
static void check_against_pytorch(const char *dir, int shaped) {
    pl_error err;
    vlm fresh, m;
    char path[256];
    cr_assert_eq(reference_model_case(&fresh, shaped, &err), PL_OK, "%s", err.message);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    cr_assert_eq(vlm_load(&m, path, REF_BATCH, &err), PL_OK, "%s", err.message);
    cr_assert_eq(m.index.layout.total, fresh.index.layout.total);
    cr_assert_eq(memcmp(fresh.params.data, m.params.data, m.index.layout.total * sizeof(float)), 0,
                 "the committed model fixture differs from reference_case.h: run make reference-fixtures");
    vlm_free(&fresh);
    static reference_batch b;
    reference_fill_batch(&b);
    safetensors_file *expected;
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    cr_assert_eq(safetensors_open(&expected, path, &err), PL_OK, "%s", err.message);

    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .cells = b.cells, .batch = REF_BATCH};
    weight_set w = vlm_weights(&m, 1, 1);
    vlm_zero_grad(&m);
    vlm_losses loss = vlm_forward(&m, &w, &in, (vlm_loss_weights){.task_weight = REF_TASK_WEIGHT, .aux_weight = REF_AUX_WEIGHT, .bridge_aux_weight = REF_BRIDGE_AUX_WEIGHT});
    vlm_backward(&m, &w);

    /* Loss: float32 against float64; 1e-5 relative is ~100 float ulps of accumulated error. */
    const double ref_total = need(expected, "loss_total")->data[0];
    cr_assert(fabs(loss.total - ref_total) <= 1e-5 * fabs(ref_total), "loss %.8f vs torch %.8f",
              loss.total, ref_total);
    cr_assert(fabs(loss.task - need(expected, "loss_task")->data[0]) <= 1e-5 * fabs(loss.task));
    cr_assert(fabs(loss.aux - need(expected, "loss_aux")->data[0]) <= 1e-5 * fabs(loss.aux));
    cr_assert(fabs(loss.bridge_aux - need(expected, "loss_bridge_aux")->data[0]) <= 1e-5 * fabs(loss.bridge_aux));

    const safetensors_tensor *logits = need(expected, "logits");
    cr_assert_eq(logits->count, (size_t)REF_BATCH * model_lm_len(&m.cfg) * m.cfg.vocab_size);
    for (size_t i = 0; i < logits->count; i++)
        cr_assert(fabs(m.logits[i] - logits->data[i]) <= 1e-5 + 1e-5 * fabs(logits->data[i]),
                  "logit %zu: %.7g vs torch %.7g", i, m.logits[i], logits->data[i]);

    /* Gradients: each tensor compared by its relative L2 error ‖g − g_ref‖ / ‖g_ref‖, which
     * must stay below 1e-4 (float32 rounding through ~10 layers gives ~1e-6..1e-5), and
     * masked weights must have exactly zero gradient. */
    for (int t = 0; t < m.index.layout.count; t++) {
        const pl_tensor_spec *spec = &m.index.layout.tensors[t];
        char name[2 * PL_NAME_MAX];
        snprintf(name, sizeof name, "grad.%s", spec->name);
        const safetensors_tensor *ref = need(expected, name);
        cr_assert_eq(ref->count, spec->count, "%s: size", spec->name);
        const float *g = pl_buffer_view(&m.grads, t);
        double diff = 0, norm = 0;
        for (size_t k = 0; k < spec->count; k++) {
            diff += (g[k] - (double)ref->data[k]) * (g[k] - (double)ref->data[k]);
            norm += (double)ref->data[k] * ref->data[k];
        }
        cr_assert(sqrt(diff) <= 1e-4 * sqrt(norm) + 1e-9, "%s: relative gradient error %.3g",
                  spec->name, sqrt(diff / (norm + 1e-30)));
        if (m.index.prunable[t]) {
            const float *mask = pl_buffer_view(&m.masks, t);
            for (size_t k = 0; k < spec->count; k++)
                if (mask[k] == 0.0f) cr_assert_eq(g[k], 0.0f, "%s: masked gradient", spec->name);
        }
    }
    safetensors_close(expected);
    vlm_free(&m);
}

Test(model_reference, loss_logits_and_gradients_match_pytorch) { check_against_pytorch(FIXTURES, 0); }

/* Blocks of their own shapes: no attention, no MLP, one cross-attention head of two, none;
 * the twin reads the shapes from the checkpoint's blocks metadata. */
Test(model_reference, shaped_blocks_match_pytorch) { check_against_pytorch(FIXTURES_SHAPED, 1); }
