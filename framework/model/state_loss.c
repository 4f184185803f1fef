/* state_loss.c - hidden-state and attention-map MSE terms (see state_loss.h). */
#include "model/state_loss.h"

#include <assert.h>
#include <string.h>

#include "nn/losses.h"

/* One term over every matched pair: resolves its targets by student block, returns the
 * mean of the pairs' MSEs and sets *scale = weight / pairs. att picks the attention maps
 * instead of the block outputs. */
static float term_forward(const float *targets[][VLM_MAX_LAYERS], float *scale,
                          const vlm_layer_map *map, const float *const teacher[][VLM_MAX_LAYERS],
                          const state_module mods[MODULE_COUNT], int att, float weight) {
    double sum = 0.0;
    int pairs = 0;
    for (int mod = 0; weight > 0.0f && mod < MODULE_COUNT; mod++)
        for (int k = 0; k < mods[mod].layers; k++) {
            const int src = map->teacher[mod][k];
            if (src < 0) continue;
            assert(src < VLM_MAX_LAYERS && teacher[mod][src] != NULL);
            const block_acts *a = &mods[mod].acts[k];
            targets[mod][k] = teacher[mod][src];
            sum += att ? mse_forward(a->att, targets[mod][k], mods[mod].att_floats)
                       : mse_forward(a->out, targets[mod][k], mods[mod].hidden_floats);
            pairs++;
        }
    *scale = pairs > 0 ? weight / (float)pairs : 0.0f;
    return pairs > 0 ? (float)(sum / pairs) : 0.0f;
}

void state_loss_forward(state_targets *t, const vlm_layer_map *map, const vlm_states *teacher,
                        const state_module mods[MODULE_COUNT], float hidden_weight,
                        float attn_weight, float *hidden, float *attn) {
    memset(t, 0, sizeof *t);
    *hidden = term_forward(t->hidden, &t->hidden_scale, map, teacher->hidden, mods, 0, hidden_weight);
    *attn = term_forward(t->att, &t->att_scale, map, teacher->att, mods, 1, attn_weight);
}

const float *state_loss_block_backward(const state_targets *t, const state_module *sm,
                                       pl_module mod, int layer, float *d_out, float *d_att) {
    const block_acts *a = &sm->acts[layer];
    /* mse_backward adds dloss·2(x − target)/N; dloss = ∂L/∂(pair's MSE) = weight / P. */
    if (t->hidden[mod][layer] != NULL)
        mse_backward(d_out, NULL, a->out, t->hidden[mod][layer], sm->hidden_floats, t->hidden_scale);
    if (t->att[mod][layer] == NULL) return NULL;
    memset(d_att, 0, sm->att_floats * sizeof(float));
    mse_backward(d_att, NULL, a->att, t->att[mod][layer], sm->att_floats, t->att_scale);
    return d_att;
}
