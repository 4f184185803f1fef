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
            if (src < 0 || (att && mods[mod].att_floats[k] == 0)) continue; /* no map: no pair */
            assert(src < VLM_MAX_LAYERS && teacher[mod][src] != NULL);
            const block_acts *a = &mods[mod].acts[k];
            targets[mod][k] = teacher[mod][src];
            sum += att ? mse_forward(a->att, targets[mod][k], mods[mod].att_floats[k])
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
    memset(d_att, 0, sm->att_floats[layer] * sizeof(float));
    mse_backward(d_att, NULL, a->att, t->att[mod][layer], sm->att_floats[layer], t->att_scale);
    return d_att;
}

pl_status state_loss_check(const vlm_layer_map *map, const model_config *student,
                           const model_config *teacher, int hidden, int att, pl_error *err) {
    for (int m = 0; m < MODULE_COUNT; m++) {
        const pl_module mod = (pl_module)m;
        for (int k = 0; k < module_layers(student, mod); k++) {
            const int t = map->teacher[m][k];
            if (t < 0) continue;
            if (t >= module_layers(teacher, mod))
                return PL_ERROR(err, PL_ERR_CONFIG, "the layer map pairs student %s block %d with "
                                "teacher block %d, but the teacher has %d %s blocks",
                                module_name(mod), k, t, module_layers(teacher, mod),
                                module_name(mod));
            if (hidden && module_dim(student, mod) != module_dim(teacher, mod))
                return PL_ERROR(err, PL_ERR_CONFIG, "hidden-state distillation pairs student %s "
                                "block %d (width %d) with teacher block %d (width %d): the states "
                                "must be equally wide; set hidden_weight: 0 or use a teacher of "
                                "the student's width", module_name(mod), k,
                                module_dim(student, mod), t, module_dim(teacher, mod));
            const block_dims s = model_block(student, mod, k), d = model_block(teacher, mod, t);
            if (att && s.heads > 0 && s.heads != d.heads) /* 0 heads: no map, no pair */
                return PL_ERROR(err, PL_ERR_CONFIG, "attention-map distillation pairs student %s "
                                "block %d (%d heads) with teacher block %d (%d heads): the maps "
                                "differ in shape; set attn_weight: 0 or pair blocks of equal "
                                "heads", module_name(mod), k, s.heads, t, d.heads);
        }
    }
    if ((hidden || att) && (student->num_queries != teacher->num_queries ||
                            student->text_len != teacher->text_len ||
                            model_num_patches(student) != model_num_patches(teacher)))
        return PL_ERROR(err, PL_ERR_CONFIG, "state distillation needs student and teacher of the "
                        "same sequence lengths (queries, text, patches)");
    return PL_OK;
}
