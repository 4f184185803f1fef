/* test_model_bf16_inputs.c - the BF16 path keeps each layer's rounded input from forward for
 * the weight gradient of backward: the gradients must be bit for bit those of a backward that
 * rounds every input again. Skipped on CPUs without BF16 products. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "model/vlm.h"
#include "model/weights.h"
#include "model_testutil.h"
#include "nn_testutil.h"

static const vlm_loss_weights WEIGHTS = {.task_weight = 1.0f, .aux_weight = 0.5f, .bridge_aux_weight = 0.3f};

/* What happens to the kept inputs between forward and backward. */
typedef enum { KEEP, FORGET, OVERWRITE } between;

/* One forward and backward of the masked micro model in BF16, the kept inputs kept,
 * forgotten (every layer's backward rounds its input again) or overwritten with 1.0 (to
 * show backward reads them). Returns the gradients (malloc'd) and the number of layers
 * whose kept input forward recorded. */
static float *gradients(between what, int *kept) {
    model_config c = tm_micro_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    tm_randomise(&m, 7);
    cr_assert_eq(vlm_enable_masks(&m, NULL), PL_OK);
    for (int t = 0; t < m.index.layout.count; t++) {
        if (!m.index.prunable[t]) continue;
        float *mask = pl_buffer_view(&m.masks, t);
        for (size_t k = 0; k < m.index.layout.tensors[t].count; k++) mask[k] = (float)(k % 3 != 0);
    }
    static tm_batch b;
    tm_fill_batch(&b, 5);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .cells = b.cells, .batch = 2};
    weight_set w = vlm_weights(&m, 1, 1);
    ws_bf16 lowp;
    cr_assert_eq(ws_bf16_create(&lowp, &m.index.layout, NULL), PL_OK);
    w.bf16 = &lowp;
    vlm_zero_grad(&m);
    vlm_forward(&m, &w, &in, WEIGHTS);
    *kept = 0;
    for (int i = 0; i < lowp.count; i++) {
        ws_bf16_input *x = &lowp.inputs[i];
        *kept += x->from != NULL;
        if (what == FORGET) x->from = NULL;
        for (size_t k = 0; what == OVERWRITE && k < x->cap; k++) x->values[k] = 0x3f80; /* 1.0 */
    }
    vlm_backward(&m, &w);
    cr_assert_eq(ws_bf16_status(&lowp, NULL), PL_OK);
    const size_t total = m.index.layout.total;
    float *g = malloc(total * sizeof *g);
    cr_assert_not_null(g);
    memcpy(g, m.grads.data, total * sizeof *g);
    ws_bf16_free(&lowp);
    vlm_free(&m);
    return g;
}

Test(model_bf16_inputs, kept_inputs_give_the_gradients_of_rounding_again) {
    tu_need_bf16();
    int kept_a, kept_b;
    int kept_c;
    float *kept = gradients(KEEP, &kept_a), *again = gradients(FORGET, &kept_b);
    float *overwritten = gradients(OVERWRITE, &kept_c);
    cr_assert_gt(kept_a, 10, "forward kept the inputs of %d layers only", kept_a);
    cr_assert_eq(kept_a, kept_b);
    model_config c = tm_micro_config();
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 2, NULL), PL_OK);
    const size_t total = m.index.layout.total;
    vlm_free(&m);
    size_t nonzero = 0;
    for (size_t i = 0; i < total; i++) nonzero += kept[i] != 0.0f;
    cr_assert_gt(nonzero, total / 4, "only %zu of %zu gradients are non-zero", nonzero, total);
    cr_assert_eq(memcmp(kept, again, total * sizeof *kept), 0,
                 "gradients differ between kept and re-rounded inputs");
    cr_assert_neq(memcmp(kept, overwritten, total * sizeof *kept), 0,
                  "backward did not read the kept inputs");
    free(kept);
    free(again);
    free(overwritten);
}
