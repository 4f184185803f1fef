/* calibrate.c - layer input sites and calibration passes (see calibrate.h). */
#include "prune/calibrate.h"

/* Appends a site for ref unless the layer has no units (a block without that sublayer). */
static int add_site(prune_site *sites, int n, linear_ref ref, pl_module mod, int level,
                    const float *input, int tokens) {
    if (!linear_present(&ref)) return n;
    if (sites) sites[n] = (prune_site){ref, mod, level, input, tokens};
    return n + 1;
}

int prune_sites(const vlm *m, prune_site *sites) {
    const model_config *c = &m->cfg;
    const block_ref *refs[MODULE_COUNT] = {m->index.vision_blocks, m->index.bridge_blocks,
                                           m->index.language_blocks};
    const block_acts *acts[MODULE_COUNT] = {m->vision_acts, m->bridge_acts, m->language_acts};
    const int tokens[MODULE_COUNT] = {model_num_patches(c), c->num_queries, model_lm_len(c)};
    int n = 0, level = 0;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < module_layers(c, (pl_module)mod); l++, level++) {
            const block_ref *b = &refs[mod][l];
            const block_acts *a = &acts[mod][l];
            const int t = tokens[mod];
            n = add_site(sites, n, b->qkv, (pl_module)mod, level, a->ln_attn, t);
            n = add_site(sites, n, b->proj, (pl_module)mod, level, a->attn_y, t);
            if (b->has_cross) {
                n = add_site(sites, n, b->cross_q, (pl_module)mod, level, a->ln_cross, t);
                n = add_site(sites, n, b->cross_kv, (pl_module)mod, level, m->vision_out,
                             model_num_patches(c));
                n = add_site(sites, n, b->cross_proj, (pl_module)mod, level, a->cross_y, t);
            }
            n = add_site(sites, n, b->fc1, (pl_module)mod, level, a->ln_mlp, t);
            n = add_site(sites, n, b->fc2, (pl_module)mod, level, a->gelu, t);
        }
    return n;
}

pl_status prune_calibrate(vlm *m, const pl_data *data, int64_t first, int count,
                          const prune_site *sites, int lo, int hi, prune_stats *stats,
                          pl_error *err) {
    if (data == NULL) return PL_ERROR(err, PL_ERR_INVALID, "calibration needs a data set");
    if (count <= 0) return PL_ERROR(err, PL_ERR_CONFIG, "prune.calib_size must be >= 1, got %d", count);
    if (data->config.text_len != m->cfg.text_len)
        return PL_ERROR(err, PL_ERR_CONFIG, "data.text_len %d does not match the model's %d",
                        data->config.text_len, m->cfg.text_len);
    int vision_only = 1;
    for (int i = lo; i < hi; i++)
        if (stats[i].sumsq != NULL && sites[i].module != MODULE_VISION) vision_only = 0;
    /* task weight 0 runs the vision encoder alone; 1 (without targets) runs everything. */
    const vlm_loss_weights lw = {.task_weight = vision_only ? 0.0f : 1.0f};
    const weight_set w = vlm_weights(m, 1, 0);
    pl_batch batch;
    PL_TRY(pl_data_batch_alloc(data, &batch, m->max_batch, err));
    pl_status st = PL_OK;
    for (int done = 0; done < count && st == PL_OK; done += m->max_batch) {
        const int b = count - done < m->max_batch ? count - done : m->max_batch;
        st = pl_data_fill_batch(data, PL_SPLIT_CALIB, first + done, b, &batch, err);
        if (st != PL_OK) break;
        const vlm_input in = {.images = batch.images, .tokens = batch.tokens, .batch = b};
        vlm_forward(m, &w, &in, lw);
        for (int i = lo; i < hi && st == PL_OK; i++)
            if (stats[i].sumsq != NULL)
                st = prune_stats_add(&stats[i], sites[i].input, b * sites[i].tokens, err);
    }
    pl_batch_free(&batch);
    return st;
}
