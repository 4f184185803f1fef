/* vlm.c - forward, backward and greedy decoding of the whole VLM (see vlm.h).
 *
 * Shapes: B batch, P = (image/patch)² patch tokens, Nq queries, T text tokens,
 * L = Nq + T language positions, Dv/Dq/Dl widths, V vocabulary, K auxiliary classes. */
#include "model/vlm.h"

#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "nn/embedding.h"
#include "nn/losses.h"

/* ---- activation layout ------------------------------------------------------------ */

typedef struct { /* a named activation outside the blocks and where its pointer goes */
    const char *name;
    size_t field;
    size_t count;
} act_slot;

static block_shape vision_shape(const vlm *m, int b) {
    return (block_shape){b, model_num_patches(&m->cfg), 0};
}
static block_shape bridge_shape(const vlm *m, int b) {
    return (block_shape){b, m->cfg.num_queries, model_num_patches(&m->cfg)};
}
static block_shape language_shape(const vlm *m, int b) {
    return (block_shape){b, model_lm_len(&m->cfg), 0};
}

static pl_status declare_blocks(vlm *m, const char *module, const block_ref *blocks, int count,
                                block_shape s, int *firsts, size_t scratch[BLOCK_SCRATCH_ROLES],
                                pl_error *err) {
    char prefix[PL_NAME_MAX];
    for (int l = 0; l < count; l++) {
        snprintf(prefix, sizeof prefix, "%s.blocks.%d", module, l);
        PL_TRY(block_acts_declare(&m->act_layout, prefix, &blocks[l], s, &firsts[l], err));
        size_t sizes[BLOCK_SCRATCH_ROLES];
        block_scratch_sizes(&blocks[l], s, sizes);
        for (int k = 0; k < BLOCK_SCRATCH_ROLES; k++)
            if (sizes[k] > scratch[k]) scratch[k] = sizes[k];
    }
    return PL_OK;
}

static pl_status build_activations(vlm *m, pl_error *err) {
    const model_config *c = &m->cfg;
    const size_t B = (size_t)m->max_batch, P = (size_t)model_num_patches(c);
    const size_t Nq = (size_t)c->num_queries, L = (size_t)model_lm_len(c);
    const size_t Dv = (size_t)c->dim_vision, Dq = (size_t)c->dim_query, Dl = (size_t)c->dim_language;
    const size_t V = (size_t)c->vocab_size, K = (size_t)(c->aux_classes ? c->aux_classes : 1);
    const act_slot slots[] = {
        {"vision.patches", offsetof(vlm, patches), B * P * (size_t)model_patch_dim(c)},
        {"vision.x0", offsetof(vlm, vision_x0), B * P * Dv},
        {"vision.out", offsetof(vlm, vision_out), B * P * Dv},
        {"vision.out_mean", offsetof(vlm, vision_mean), B * P},
        {"vision.out_rstd", offsetof(vlm, vision_rstd), B * P},
        {"vision.cell_feat", offsetof(vlm, cell_feat), B * 4 * Dv},
        {"vision.aux_logits", offsetof(vlm, aux_logits), B * 4 * K},
        {"vision.aux_probs", offsetof(vlm, aux_probs), B * 4 * K},
        {"bridge.x0", offsetof(vlm, bridge_x0), B * Nq * Dq},
        {"bridge.out", offsetof(vlm, bridge_out), B * Nq * Dq},
        {"bridge.out_mean", offsetof(vlm, bridge_mean), B * Nq},
        {"bridge.out_rstd", offsetof(vlm, bridge_rstd), B * Nq},
        {"bridge.prefix", offsetof(vlm, prefix), B * Nq * Dl},
        {"bridge.query_feat", offsetof(vlm, query_feat), B * 4 * Dq},
        {"bridge.aux_logits", offsetof(vlm, bridge_aux_logits), B * 4 * K},
        {"bridge.aux_probs", offsetof(vlm, bridge_aux_probs), B * 4 * K},
        {"language.x0", offsetof(vlm, language_x0), B * L * Dl},
        {"language.out", offsetof(vlm, language_out), B * L * Dl},
        {"language.out_mean", offsetof(vlm, language_mean), B * L},
        {"language.out_rstd", offsetof(vlm, language_rstd), B * L},
        {"language.logits", offsetof(vlm, logits), B * L * V},
        {"language.probs", offsetof(vlm, probs), B * L * V},
        {"language.kd_teacher", offsetof(vlm, kd_teacher), B * L * V},
        {"language.kd_student", offsetof(vlm, kd_student), B * L * V},
        {"grad.vision", offsetof(vlm, d_vision), B * P * Dv},
        {"grad.vision_out", offsetof(vlm, d_vision_out), B * P * Dv},
        {"grad.bridge", offsetof(vlm, d_bridge), B * Nq * Dq},
        {"grad.prefix", offsetof(vlm, d_prefix), B * Nq * Dl},
        {"grad.language", offsetof(vlm, d_language), B * L * Dl},
        {"grad.logits", offsetof(vlm, d_logits), B * L * V},
        {"grad.aux_logits", offsetof(vlm, d_aux), B * 4 * K},
        {"grad.cell_feat", offsetof(vlm, d_cell), B * 4 * Dv},
        {"grad.query_feat", offsetof(vlm, d_query_feat), B * 4 * Dq},
    };
    const int nslots = (int)(sizeof slots / sizeof slots[0]);
    int slot_index[sizeof slots / sizeof slots[0]];
    pl_layout_init(&m->act_layout);
    for (int i = 0; i < nslots; i++)
        PL_TRY(pl_layout_add(&m->act_layout, slots[i].name, 1, (int[]){(int)slots[i].count},
                             &slot_index[i], err));
    int vfirst[VLM_MAX_LAYERS], qfirst[VLM_MAX_LAYERS], lfirst[VLM_MAX_LAYERS];
    size_t scratch[BLOCK_SCRATCH_ROLES] = {0};
    PL_TRY(declare_blocks(m, "vision", m->index.vision_blocks, c->layers_vision,
                          vision_shape(m, m->max_batch), vfirst, scratch, err));
    PL_TRY(declare_blocks(m, "bridge", m->index.bridge_blocks, c->layers_query,
                          bridge_shape(m, m->max_batch), qfirst, scratch, err));
    PL_TRY(declare_blocks(m, "language", m->index.language_blocks, c->layers_language,
                          language_shape(m, m->max_batch), lfirst, scratch, err));
    PL_TRY(pl_buffer_alloc(&m->acts, &m->act_layout, err));
    for (int i = 0; i < nslots; i++)
        *(float **)((char *)m + slots[i].field) = pl_buffer_view(&m->acts, slot_index[i]);

    m->vision_acts = pl_alloc((size_t)c->layers_vision, sizeof(block_acts), err);
    m->bridge_acts = pl_alloc((size_t)c->layers_query, sizeof(block_acts), err);
    m->language_acts = pl_alloc((size_t)c->layers_language, sizeof(block_acts), err);
    if (!m->vision_acts || !m->bridge_acts || !m->language_acts) return PL_ERR_NOMEM;
    for (int l = 0; l < c->layers_vision; l++)
        block_acts_bind(&m->vision_acts[l], &m->acts, &m->index.vision_blocks[l], vfirst[l]);
    for (int l = 0; l < c->layers_query; l++)
        block_acts_bind(&m->bridge_acts[l], &m->acts, &m->index.bridge_blocks[l], qfirst[l]);
    for (int l = 0; l < c->layers_language; l++)
        block_acts_bind(&m->language_acts[l], &m->acts, &m->index.language_blocks[l], lfirst[l]);

    size_t total = 0;
    for (int k = 0; k < BLOCK_SCRATCH_ROLES; k++) total += scratch[k];
    m->scratch_mem = pl_alloc(total, sizeof(float), err);
    if (m->scratch_mem == NULL) return PL_ERR_NOMEM;
    float **roles[BLOCK_SCRATCH_ROLES] = {&m->scratch.tmp, &m->scratch.d_narrow,
                                          &m->scratch.d_narrow2, &m->scratch.d_wide,
                                          &m->scratch.d_qkv, &m->scratch.d_kv,
                                          &m->scratch.d_att};
    size_t at = 0;
    for (int k = 0; k < BLOCK_SCRATCH_ROLES; k++) {
        *roles[k] = m->scratch_mem + at;
        at += scratch[k];
    }
    m->lm_targets = pl_alloc(B * L, sizeof(int), err);
    m->aux_targets = pl_alloc(B * 4, sizeof(int), err);
    m->kd_use = pl_alloc(B * L, 1, err);
    return (m->lm_targets && m->aux_targets && m->kd_use) ? PL_OK : PL_ERR_NOMEM;
}

pl_status vlm_create(vlm *m, const model_config *cfg, int max_batch, pl_error *err) {
    memset(m, 0, sizeof *m);
    if (max_batch <= 0)
        return PL_ERROR(err, PL_ERR_INVALID, "batch size must be positive, got %d", max_batch);
    m->cfg = *cfg;
    m->max_batch = max_batch;
    pl_status st = param_index_build(&m->index, cfg, err);
    if (st == PL_OK) st = pl_buffer_alloc(&m->params, &m->index.layout, err);
    if (st == PL_OK) st = pl_buffer_alloc(&m->grads, &m->index.layout, err);
    if (st == PL_OK) st = build_activations(m, err);
    if (st == PL_OK) {
        size_t largest = 0;
        for (int i = 0; i < m->index.layout.count; i++)
            if (m->index.layout.tensors[i].ndim == 2 && m->index.layout.tensors[i].count > largest)
                largest = m->index.layout.tensors[i].count;
        m->dweff = pl_alloc(largest, sizeof(float), err);
        if (m->dweff == NULL) st = PL_ERR_NOMEM;
    }
    m->masks.layout = m->weff.layout = &m->index.layout;
    if (st != PL_OK) vlm_free(m);
    return st;
}

void vlm_free(vlm *m) {
    pl_buffer_free(&m->params);
    pl_buffer_free(&m->grads);
    pl_buffer_free(&m->masks);
    pl_buffer_free(&m->weff);
    adapters_free(&m->adapters);
    unit_masks_free(&m->units);
    pl_buffer_free(&m->acts);
    pl_layout_free(&m->act_layout);
    pl_free(m->vision_acts);
    pl_free(m->bridge_acts);
    pl_free(m->language_acts);
    pl_free(m->scratch_mem);
    pl_free(m->dweff);
    pl_free(m->lm_targets);
    pl_free(m->aux_targets);
    pl_free(m->kd_use);
    param_index_free(&m->index);
    memset(m, 0, sizeof *m);
}

void vlm_move(vlm *dst, vlm *src) {
    *dst = *src;
    adapters_move(&dst->adapters, &src->adapters);
    memset(src, 0, sizeof *src);
    pl_buffer *over_params[4] = {&dst->params, &dst->grads, &dst->masks, &dst->weff};
    for (int i = 0; i < 4; i++) over_params[i]->layout = &dst->index.layout;
    dst->acts.layout = &dst->act_layout;
}

void vlm_init(vlm *m, uint64_t seed) { param_init(&m->index, &m->cfg, &m->params, seed); }

pl_status vlm_enable_weff(vlm *m, pl_error *err) {
    return m->weff.data != NULL ? PL_OK : pl_buffer_alloc(&m->weff, &m->index.layout, err);
}

pl_status vlm_enable_masks(vlm *m, pl_error *err) {
    if (m->masks.data != NULL) return PL_OK;
    PL_TRY(vlm_enable_weff(m, err));
    PL_TRY(pl_buffer_alloc(&m->masks, &m->index.layout, err));
    for (size_t i = 0; i < m->index.layout.total; i++) m->masks.data[i] = 1.0f;
    return PL_OK;
}

weight_set vlm_weights(vlm *m, int masked, int with_grads) {
    weight_set w = {.params = &m->params,
                    .masks = (masked && m->masks.data) ? &m->masks : NULL,
                    .weff = &m->weff,
                    .grads = with_grads ? &m->grads : NULL,
                    .dweff = m->dweff,
                    .adapters = (masked && m->adapters.kind != ADAPTER_NONE) ? &m->adapters : NULL};
    return w;
}

void vlm_zero_grad(vlm *m) { pl_buffer_zero(&m->grads); }

/* ---- small ops that only the model's stem needs ----------------------------------- */

/* x[b, r, :] += table[r, :] for every batch row b (learned positions, broadcast queries). */
static void add_rows_over_batch(float *x, const float *table, int batch, int rows, int c) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++)
        for (size_t i = 0; i < (size_t)rows * c; i++) x[(size_t)b * rows * c + i] += table[i];
}

/* dtable[r, :] += Σ_b dx[b, r, :], summed over b in order (deterministic). */
static void sum_rows_over_batch(float *dtable, const float *dx, int batch, int rows, int c) {
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < batch; b++) {
            const float *src = dx + ((size_t)b * rows + r) * c;
            for (int j = 0; j < c; j++) dtable[(size_t)r * c + j] += src[j];
        }
}

/* Cuts each image into patch_size² vectors, row-major over the patch grid. */
static void patchify(float *patches, const float *images, const model_config *c, int batch) {
    const int side = model_patch_side(c), ps = c->patch_size, img = c->image_size;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++)
        for (int py = 0; py < side; py++)
            for (int px = 0; px < side; px++) {
                float *dst = patches + (((size_t)b * side + py) * side + px) * ps * ps;
                const float *src = images + (size_t)b * img * img + (size_t)py * ps * img + px * ps;
                for (int dy = 0; dy < ps; dy++)
                    memcpy(dst + dy * ps, src + (size_t)dy * img, (size_t)ps * sizeof(float));
            }
}

/* cell_feat[b, cell] = mean of the patch tokens covering that quarter of the image. */
static void pool_cells(float *cell_feat, const float *tokens, const model_config *c, int batch) {
    const int side = model_patch_side(c), half = side / 2, d = c->dim_vision;
    const float inv = 1.0f / (float)(half * half);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++)
        for (int cell = 0; cell < 4; cell++) {
            float *dst = cell_feat + ((size_t)b * 4 + cell) * d;
            memset(dst, 0, (size_t)d * sizeof(float));
            int y0 = (cell / 2) * half, x0 = (cell % 2) * half;
            for (int py = y0; py < y0 + half; py++)
                for (int px = x0; px < x0 + half; px++) {
                    const float *src = tokens + (((size_t)b * side + py) * side + px) * d;
                    for (int j = 0; j < d; j++) dst[j] += src[j];
                }
            for (int j = 0; j < d; j++) dst[j] *= inv;
        }
}

static void pool_cells_backward(float *dtokens, const float *dcell, const model_config *c,
                                int batch) {
    const int side = model_patch_side(c), half = side / 2, d = c->dim_vision;
    const float inv = 1.0f / (float)(half * half);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++)
        for (int py = 0; py < side; py++)
            for (int px = 0; px < side; px++) {
                int cell = (py / half) * 2 + px / half;
                const float *src = dcell + ((size_t)b * 4 + cell) * d;
                float *dst = dtokens + (((size_t)b * side + py) * side + px) * d;
                for (int j = 0; j < d; j++) dst[j] += inv * src[j];
            }
}

/* ---- forward ------------------------------------------------------------------------ */

static const float *last_out(const block_acts *acts, int layers, const float *x0) {
    return layers > 0 ? acts[layers - 1].out : x0;
}

/* Block l of module mod's gates in w, or NULL. */
static const block_gates *gates_of(const weight_set *w, pl_module mod, int l) {
    return w->gates != NULL ? &w->gates->block[mod][l] : NULL;
}

static void run_blocks(const weight_set *w, pl_module mod, const block_ref *blocks,
                       const block_acts *acts, int layers, const block_scratch *sc,
                       const float *x0, const float *ctx, block_shape s) {
    const float *x = x0;
    for (int l = 0; l < layers; l++) {
        block_forward(w, &blocks[l], &acts[l], sc, x, ctx, s, gates_of(w, mod, l));
        x = acts[l].out;
    }
}

void vlm_state_modules(const vlm *m, int batch, state_module out[MODULE_COUNT]) {
    const model_config *c = &m->cfg;
    const block_shape shapes[MODULE_COUNT] = {vision_shape(m, batch), bridge_shape(m, batch),
                                              language_shape(m, batch)};
    const block_acts *acts[MODULE_COUNT] = {m->vision_acts, m->bridge_acts, m->language_acts};
    const block_ref *refs[MODULE_COUNT] = {m->index.vision_blocks, m->index.bridge_blocks,
                                           m->index.language_blocks};
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        const block_shape s = shapes[mod];
        state_module *sm = &out[mod];
        sm->acts = acts[mod];
        sm->layers = module_layers(c, (pl_module)mod);
        sm->hidden_floats = (size_t)s.batch * s.tokens * module_dim(c, (pl_module)mod);
        for (int l = 0; l < sm->layers; l++) sm->att_floats[l] = block_att_floats(&refs[mod][l], s);
    }
}

/* Blocks of module mod from the top: the state terms' gradients join at each block's
 * output (d_res) and its attention map before the block's own backward. */
static void backward_blocks(const vlm *m, const weight_set *w, pl_module mod,
                            const block_ref *blocks, float *d_res, float *d_ctx, const float *x0,
                            const float *ctx, block_shape s) {
    state_module sm[MODULE_COUNT];
    vlm_state_modules(m, s.batch, sm);
    const block_acts *acts = sm[mod].acts;
    for (int l = sm[mod].layers - 1; l >= 0; l--) {
        const float *x = l > 0 ? acts[l - 1].out : x0;
        const float *d_att = state_loss_block_backward(&m->last_targets, &sm[mod], mod, l, d_res,
                                                       m->scratch.d_att);
        block_backward(w, &blocks[l], &acts[l], &m->scratch, d_res, d_ctx, d_att, x, ctx, s,
                       gates_of(w, mod, l));
    }
}

static void vision_forward(vlm *m, const weight_set *w, const float *images, int batch) {
    const model_config *c = &m->cfg;
    const param_index *pi = &m->index;
    const int n = batch * model_num_patches(c);
    patchify(m->patches, images, c, batch);
    ws_linear_forward(w, &pi->patch, m->vision_x0, m->patches, n);
    add_rows_over_batch(m->vision_x0, pl_buffer_view(w->params, pi->vision_pos), batch,
                        model_num_patches(c), c->dim_vision);
    run_blocks(w, MODULE_VISION, pi->vision_blocks, m->vision_acts, c->layers_vision, &m->scratch,
               m->vision_x0, NULL, vision_shape(m, batch));
    ws_norm_forward(w, &pi->vision_norm, m->vision_out, m->vision_mean, m->vision_rstd,
                    last_out(m->vision_acts, c->layers_vision, m->vision_x0), n, c->dim_vision);
}

static void bridge_forward(vlm *m, const weight_set *w, int batch) {
    const model_config *c = &m->cfg;
    const param_index *pi = &m->index;
    const int n = batch * c->num_queries;
    memset(m->bridge_x0, 0, (size_t)n * c->dim_query * sizeof(float));
    add_rows_over_batch(m->bridge_x0, pl_buffer_view(w->params, pi->queries), batch,
                        c->num_queries, c->dim_query);
    run_blocks(w, MODULE_BRIDGE, pi->bridge_blocks, m->bridge_acts, c->layers_query, &m->scratch, m->bridge_x0,
               m->vision_out, bridge_shape(m, batch));
    ws_norm_forward(w, &pi->bridge_norm, m->bridge_out, m->bridge_mean, m->bridge_rstd,
                    last_out(m->bridge_acts, c->layers_query, m->bridge_x0), n, c->dim_query);
    ws_linear_forward(w, &pi->bridge_proj, m->prefix, m->bridge_out, n);
}

void vlm_language_forward_len(vlm *m, const weight_set *w, const int *tokens, int batch,
                              int len) {
    const model_config *c = &m->cfg;
    const param_index *pi = &m->index;
    const int Nq = c->num_queries, T = c->text_len, D = c->dim_language, text = len - Nq;
    const int n = batch * len;
    const float *emb = pl_buffer_view(w->params, pi->token_embedding);
    /* Input sequence: [projected queries][text tokens], plus learned positions. */
    for (int b = 0; b < batch; b++) {
        float *row = m->language_x0 + (size_t)b * len * D;
        memcpy(row, m->prefix + (size_t)b * Nq * D, (size_t)Nq * D * sizeof(float));
        embedding_forward(row + (size_t)Nq * D, tokens + (size_t)b * T, emb, text, D);
    }
    add_rows_over_batch(m->language_x0, pl_buffer_view(w->params, pi->language_pos), batch, len, D);
    run_blocks(w, MODULE_LANGUAGE, pi->language_blocks, m->language_acts, c->layers_language, &m->scratch,
               m->language_x0, NULL, (block_shape){batch, len, 0});
    ws_norm_forward(w, &pi->language_norm, m->language_out, m->language_mean, m->language_rstd,
                    last_out(m->language_acts, c->layers_language, m->language_x0), n, D);
    /* Output head tied with the token embedding: logits = out · Eᵀ. */
    pl_sgemm(false, true, n, c->vocab_size, D, 1.0f, m->language_out, D, emb, D, 0.0f,
             m->logits, c->vocab_size);
}

static void language_forward(vlm *m, const weight_set *w, const int *tokens, int batch) {
    vlm_language_forward_len(m, w, tokens, batch, model_lm_len(&m->cfg));
}

/* The first four query outputs of each sample, the ones the bridge auxiliary loss reads. */
static void gather_queries(float *feat, const float *queries, int batch, int nq, int d) {
    for (int b = 0; b < batch; b++)
        memcpy(feat + (size_t)b * 4 * d, queries + (size_t)b * nq * d, (size_t)4 * d * sizeof(float));
}

vlm_losses vlm_forward(vlm *m, const weight_set *w, const vlm_input *in, vlm_loss_weights lw) {
    const model_config *c = &m->cfg;
    const int B = in->batch;
    vlm_losses out = {0};
    int has_cells = in->cells != NULL && c->aux_classes > 0;
    int run_aux = lw.aux_weight > 0.0f && has_cells;
    int run_bridge_aux = lw.bridge_aux_weight > 0.0f && has_cells && m->index.bridge_aux_head.weight >= 0;
    int run_kd = lw.kd_weight > 0.0f && in->teacher_logits != NULL && in->targets != NULL;
    /* The state terms need every module's blocks, so they run the language model too. */
    int run_states = (lw.hidden_weight > 0.0f || lw.attn_weight > 0.0f) &&
                     in->teacher_states != NULL && in->layer_map != NULL && in->tokens != NULL;
    int run_lm = (lw.task_weight > 0.0f || run_kd || run_states) && in->tokens != NULL;
    if (has_cells) memcpy(m->aux_targets, in->cells, (size_t)B * 4 * sizeof(int));
    vision_forward(m, w, in->images, B);
    if (run_aux) {
        pool_cells(m->cell_feat, m->vision_out, c, B);
        ws_linear_forward(w, &m->index.aux_head, m->aux_logits, m->cell_feat, B * 4);
        out.aux = crossentropy_forward(m->aux_probs, m->aux_logits, m->aux_targets, B * 4,
                                       c->aux_classes, NULL);
    }
    if (run_lm || run_bridge_aux) bridge_forward(m, w, B);
    if (run_bridge_aux) {
        gather_queries(m->query_feat, m->bridge_out, B, c->num_queries, c->dim_query);
        ws_linear_forward(w, &m->index.bridge_aux_head, m->bridge_aux_logits, m->query_feat, B * 4);
        out.bridge_aux = crossentropy_forward(m->bridge_aux_probs, m->bridge_aux_logits,
                                              m->aux_targets, B * 4, c->aux_classes, NULL);
    }
    if (run_lm) {
        const int Nq = c->num_queries, T = c->text_len, L = model_lm_len(c);
        language_forward(m, w, in->tokens, B);
        if (in->targets != NULL) {
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < Nq; i++) m->lm_targets[b * L + i] = -1;
                memcpy(m->lm_targets + b * L + Nq, in->targets + (size_t)b * T, (size_t)T * sizeof(int));
            }
            out.task = crossentropy_forward(m->probs, m->logits, m->lm_targets, B * L,
                                            c->vocab_size, &out.task_tokens);
        }
        if (run_kd) { /* distil on the positions the task scores: the answer tokens */
            for (int i = 0; i < B * L; i++) m->kd_use[i] = m->lm_targets[i] >= 0;
            out.kd = kl_forward(m->kd_teacher, m->kd_student, m->logits, in->teacher_logits,
                                m->kd_use, B * L, c->vocab_size, lw.temperature);
        }
    }
    memset(&m->last_targets, 0, sizeof m->last_targets);
    if (run_states) {
        state_module sm[MODULE_COUNT];
        vlm_state_modules(m, B, sm);
        state_loss_forward(&m->last_targets, in->layer_map, in->teacher_states, sm,
                           lw.hidden_weight, lw.attn_weight, &out.hidden, &out.attn);
    }
    m->last_input = *in;
    m->last_weights.hidden_weight = run_states ? lw.hidden_weight : 0.0f;
    m->last_weights.attn_weight = run_states ? lw.attn_weight : 0.0f;
    m->last_weights.task_weight = (run_lm && in->targets != NULL) ? lw.task_weight : 0.0f;
    m->last_weights.kd_weight = run_kd ? lw.kd_weight : 0.0f;
    m->last_weights.temperature = lw.temperature;
    m->last_weights.aux_weight = run_aux ? lw.aux_weight : 0.0f;
    m->last_weights.bridge_aux_weight = run_bridge_aux ? lw.bridge_aux_weight : 0.0f;
    out.total = m->last_weights.task_weight * out.task + m->last_weights.aux_weight * out.aux +
                m->last_weights.bridge_aux_weight * out.bridge_aux +
                m->last_weights.kd_weight * out.kd +
                m->last_weights.hidden_weight * out.hidden + m->last_weights.attn_weight * out.attn;
    m->last_losses = out;
    return out;
}

/* ---- backward ----------------------------------------------------------------------- */

/* Whether the last forward ran the language model for a loss (the bridge output feeds it). */
static int language_scored(const vlm_loss_weights *lw) {
    return lw->task_weight > 0.0f || lw->kd_weight > 0.0f || lw->hidden_weight > 0.0f ||
           lw->attn_weight > 0.0f;
}

static void language_backward(vlm *m, const weight_set *w, int batch) {
    const model_config *c = &m->cfg;
    const param_index *pi = &m->index;
    const int Nq = c->num_queries, T = c->text_len, L = model_lm_len(c), D = c->dim_language;
    const int n = batch * L, V = c->vocab_size;
    const float *emb = pl_buffer_view(w->params, pi->token_embedding);
    float *d_emb = w->grads ? pl_buffer_view(w->grads, pi->token_embedding) : NULL;
    float *d_normed = m->scratch.d_narrow;
    const vlm_loss_weights *lw = &m->last_weights;
    memset(m->d_logits, 0, (size_t)n * V * sizeof(float));
    if (lw->task_weight > 0.0f)
        crossentropy_backward(m->d_logits, m->probs, m->lm_targets, n, V, lw->task_weight);
    if (lw->kd_weight > 0.0f)
        kl_backward(m->d_logits, m->kd_teacher, m->kd_student, m->kd_use, n, V, lw->temperature,
                    lw->kd_weight);
    /* logits = out·Eᵀ: ∂out = ∂logits·E, ∂E += ∂logitsᵀ·out. */
    pl_sgemm(false, false, n, D, V, 1.0f, m->d_logits, V, emb, D, 0.0f, d_normed, D);
    if (d_emb) pl_sgemm(true, false, V, D, n, 1.0f, m->d_logits, V, m->language_out, D, 1.0f, d_emb, D);
    memset(m->d_language, 0, (size_t)n * D * sizeof(float));
    ws_norm_backward(w, &pi->language_norm, m->d_language, d_normed,
                     last_out(m->language_acts, c->layers_language, m->language_x0),
                     m->language_mean, m->language_rstd, n, D);
    backward_blocks(m, w, MODULE_LANGUAGE, pi->language_blocks, m->d_language, NULL,
                    m->language_x0, NULL, language_shape(m, batch));
    if (w->grads) sum_rows_over_batch(pl_buffer_view(w->grads, pi->language_pos), m->d_language, batch, L, D);
    for (int b = 0; b < batch; b++) {
        const float *row = m->d_language + (size_t)b * L * D;
        memcpy(m->d_prefix + (size_t)b * Nq * D, row, (size_t)Nq * D * sizeof(float));
        if (d_emb) embedding_backward(d_emb, row + (size_t)Nq * D, m->last_input.tokens + (size_t)b * T, T, D);
    }
}

static void bridge_backward(vlm *m, const weight_set *w, int batch) {
    const model_config *c = &m->cfg;
    const param_index *pi = &m->index;
    const int n = batch * c->num_queries, D = c->dim_query;
    float *d_normed = m->scratch.d_narrow;
    memset(d_normed, 0, (size_t)n * D * sizeof(float));
    if (language_scored(&m->last_weights))
        ws_linear_backward(w, &pi->bridge_proj, d_normed, m->d_prefix, m->bridge_out, n);
    if (m->last_weights.bridge_aux_weight > 0.0f) {
        const int rows = batch * 4, K = c->aux_classes;
        memset(m->d_aux, 0, (size_t)rows * K * sizeof(float));
        crossentropy_backward(m->d_aux, m->bridge_aux_probs, m->aux_targets, rows, K,
                              m->last_weights.bridge_aux_weight);
        memset(m->d_query_feat, 0, (size_t)rows * D * sizeof(float));
        ws_linear_backward(w, &pi->bridge_aux_head, m->d_query_feat, m->d_aux, m->query_feat, rows);
        for (int b = 0; b < batch; b++) /* scatter back onto queries 0..3 */
            for (size_t k = 0; k < (size_t)4 * D; k++)
                d_normed[(size_t)b * c->num_queries * D + k] += m->d_query_feat[(size_t)b * 4 * D + k];
    }
    memset(m->d_bridge, 0, (size_t)n * D * sizeof(float));
    ws_norm_backward(w, &pi->bridge_norm, m->d_bridge, d_normed,
                     last_out(m->bridge_acts, c->layers_query, m->bridge_x0), m->bridge_mean,
                     m->bridge_rstd, n, D);
    backward_blocks(m, w, MODULE_BRIDGE, pi->bridge_blocks, m->d_bridge, m->d_vision_out,
                    m->bridge_x0, m->vision_out, bridge_shape(m, batch));
    if (w->grads)
        sum_rows_over_batch(pl_buffer_view(w->grads, pi->queries), m->d_bridge, batch,
                            c->num_queries, D);
}

static void vision_backward(vlm *m, const weight_set *w, int batch) {
    const model_config *c = &m->cfg;
    const param_index *pi = &m->index;
    const int P = model_num_patches(c), n = batch * P, D = c->dim_vision;
    if (m->last_weights.aux_weight > 0.0f) {
        const int rows = batch * 4;
        memset(m->d_aux, 0, (size_t)rows * c->aux_classes * sizeof(float));
        crossentropy_backward(m->d_aux, m->aux_probs, m->aux_targets, rows, c->aux_classes,
                              m->last_weights.aux_weight);
        memset(m->d_cell, 0, (size_t)rows * D * sizeof(float));
        ws_linear_backward(w, &pi->aux_head, m->d_cell, m->d_aux, m->cell_feat, rows);
        pool_cells_backward(m->d_vision_out, m->d_cell, c, batch);
    }
    memset(m->d_vision, 0, (size_t)n * D * sizeof(float));
    ws_norm_backward(w, &pi->vision_norm, m->d_vision, m->d_vision_out,
                     last_out(m->vision_acts, c->layers_vision, m->vision_x0), m->vision_mean,
                     m->vision_rstd, n, D);
    backward_blocks(m, w, MODULE_VISION, pi->vision_blocks, m->d_vision, NULL, m->vision_x0,
                    NULL, vision_shape(m, batch));
    if (w->grads) sum_rows_over_batch(pl_buffer_view(w->grads, pi->vision_pos), m->d_vision, batch, P, D);
    ws_linear_backward(w, &pi->patch, NULL, m->d_vision, m->patches, n);
}

void vlm_backward(vlm *m, const weight_set *w) {
    const int B = m->last_input.batch;
    const size_t vision_floats = (size_t)B * model_num_patches(&m->cfg) * m->cfg.dim_vision;
    memset(m->d_vision_out, 0, vision_floats * sizeof(float));
    const vlm_loss_weights *lw = &m->last_weights;
    const int lm = language_scored(lw);
    if (lm) language_backward(m, w, B);
    if (lm || lw->bridge_aux_weight > 0.0f) bridge_backward(m, w, B);
    if (lm || lw->aux_weight > 0.0f || lw->bridge_aux_weight > 0.0f) vision_backward(m, w, B);
}

/* ---- greedy decoding ------------------------------------------------------------------ */

void vlm_encode(vlm *m, const weight_set *w, const float *images, int batch) {
    vision_forward(m, w, images, batch);
    bridge_forward(m, w, batch);
}

void vlm_generate_full(vlm *m, const weight_set *w, const float *images, int *tokens, int batch,
                       int answer_start, int eos, int pad) {
    const model_config *c = &m->cfg;
    const int T = c->text_len, L = model_lm_len(c), V = c->vocab_size, Nq = c->num_queries;
    vlm_encode(m, w, images, batch);
    unsigned char done[batch];
    memset(done, 0, sizeof done);
    for (int b = 0; b < batch; b++)
        for (int t = answer_start + 1; t < T; t++) tokens[(size_t)b * T + t] = pad;
    for (int pos = answer_start; pos + 1 < T; pos++) {
        language_forward(m, w, tokens, batch);
        int remaining = 0;
        for (int b = 0; b < batch; b++) {
            if (done[b]) continue;
            const float *row = m->logits + ((size_t)b * L + Nq + pos) * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (row[v] > row[best]) best = v;
            tokens[(size_t)b * T + pos + 1] = best;
            if (best == eos) done[b] = 1;
            else remaining++;
        }
        if (remaining == 0) break;
    }
}
