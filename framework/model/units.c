/* units.c - keep flags of heads and neurons and the rows and columns they own (see units.h). */
#include "model/units.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

static const char *const KIND_NAMES[UNIT_KIND_COUNT] = {"heads", "cross_heads", "neurons"};
static const char *const KIND_TENSORS[UNIT_KIND_COUNT] = {"attn.heads", "cross.heads",
                                                          "mlp.neurons"};

const char *unit_kind_name(unit_kind k) { return KIND_NAMES[k]; }

int block_units(const block_ref *b, unit_kind k) {
    return k == UNIT_HEADS ? b->heads : k == UNIT_CROSS_HEADS ? b->cross_heads : b->ffn;
}

static int add(unit_linear *out, int n, const block_ref *b, linear_ref ref, unit_kind k,
               int along_cols, int sections) {
    if (!linear_present(&ref)) return n;
    out[n] = (unit_linear){ref, k, along_cols, sections, k == UNIT_NEURONS ? 1 : b->head_dim,
                           block_units(b, k)};
    return n + 1;
}

int unit_linears_of_block(const block_ref *b, unit_linear out[UNIT_LINEARS_MAX]) {
    int n = 0;
    n = add(out, n, b, b->qkv, UNIT_HEADS, 0, 3);
    n = add(out, n, b, b->proj, UNIT_HEADS, 1, 1);
    if (b->has_cross) {
        n = add(out, n, b, b->cross_q, UNIT_CROSS_HEADS, 0, 1);
        n = add(out, n, b, b->cross_kv, UNIT_CROSS_HEADS, 0, 2);
        n = add(out, n, b, b->cross_proj, UNIT_CROSS_HEADS, 1, 1);
    }
    n = add(out, n, b, b->fc1, UNIT_NEURONS, 0, 1);
    return add(out, n, b, b->fc2, UNIT_NEURONS, 1, 1);
}

static void clear_index(unit_masks *u) {
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < VLM_MAX_LAYERS; l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) u->tensor[m][l][k] = -1;
}

static pl_status build(unit_masks *u, const model_config *cfg, const param_index *pi,
                       pl_error *err) {
    char name[2 * PL_NAME_MAX];
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(cfg, (pl_module)m); l++)
            for (int k = 0; k < UNIT_KIND_COUNT; k++) {
                const int n = block_units(&param_blocks(pi, (pl_module)m)[l], (unit_kind)k);
                if (n <= 0) continue;
                snprintf(name, sizeof name, "%s.blocks.%d.%s", module_name((pl_module)m), l,
                         KIND_TENSORS[k]);
                PL_TRY(pl_layout_add(u->layout, name, 1, (int[]){n}, &u->tensor[m][l][k], err));
            }
    PL_TRY(pl_buffer_alloc(&u->keep, u->layout, err));
    for (size_t i = 0; i < u->layout->total; i++) u->keep.data[i] = 1.0f;
    return PL_OK;
}

pl_status unit_masks_enable(unit_masks *u, const model_config *cfg, const param_index *pi,
                            pl_error *err) {
    if (u->layout != NULL) return PL_OK;
    memset(u, 0, sizeof *u);
    clear_index(u);
    u->layout = pl_alloc(1, sizeof *u->layout, err);
    if (u->layout == NULL) return PL_ERR_NOMEM;
    pl_layout_init(u->layout);
    pl_status st = build(u, cfg, pi, err);
    if (st != PL_OK) unit_masks_free(u);
    return st;
}

void unit_masks_free(unit_masks *u) {
    pl_buffer_free(&u->keep);
    if (u->layout) pl_layout_free(u->layout);
    pl_free(u->layout);
    memset(u, 0, sizeof *u);
}

float *unit_masks_keep(const unit_masks *u, pl_module m, int layer, unit_kind k) {
    if (u->layout == NULL || u->tensor[m][layer][k] < 0) return NULL;
    return pl_buffer_view(&u->keep, u->tensor[m][layer][k]);
}

int unit_masks_kept(const unit_masks *u, const block_ref *b, pl_module m, int layer, unit_kind k) {
    const int n = block_units(b, k);
    const float *keep = unit_masks_keep(u, m, layer, k);
    if (keep == NULL) return n;
    int kept = 0;
    for (int i = 0; i < n; i++) kept += keep[i] != 0.0f;
    return kept;
}

/* Zeros the channels of removed units in one [out, in] matrix (rows or columns). */
static void zero_removed(float *x, const unit_linear *ul, const float *keep) {
    const int out = ul->ref.out, in = ul->ref.in;
    if (!ul->along_cols) {
        for (int r = 0; r < out; r++)
            if (keep[unit_of_channel(ul, r)] == 0.0f) memset(x + (size_t)r * in, 0, (size_t)in * sizeof *x);
        return;
    }
    for (int r = 0; r < out; r++)
        for (int c = 0; c < in; c++)
            if (keep[unit_of_channel(ul, c)] == 0.0f) x[(size_t)r * in + c] = 0.0f;
}

void unit_masks_apply(const unit_masks *u, const param_index *pi, const model_config *cfg,
                      pl_buffer *params, pl_buffer *masks) {
    if (u->layout == NULL) return;
    unit_linear uls[UNIT_LINEARS_MAX];
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(cfg, (pl_module)m); l++) {
            const int n = unit_linears_of_block(&param_blocks(pi, (pl_module)m)[l], uls);
            for (int i = 0; i < n; i++) {
                const float *keep = unit_masks_keep(u, (pl_module)m, l, uls[i].kind);
                if (keep == NULL) continue;
                if (masks && masks->data) zero_removed(pl_buffer_view(masks, uls[i].ref.weight), &uls[i], keep);
                if (params) zero_removed(pl_buffer_view(params, uls[i].ref.weight), &uls[i], keep);
            }
        }
}

int unit_masks_linear_keep(const unit_masks *u, const param_index *pi, const model_config *cfg,
                           int t, float *rows, float *cols) {
    if (u->layout == NULL) return 0;
    unit_linear uls[UNIT_LINEARS_MAX];
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(cfg, (pl_module)m); l++) {
            const int n = unit_linears_of_block(&param_blocks(pi, (pl_module)m)[l], uls);
            for (int i = 0; i < n; i++) {
                if (uls[i].ref.weight != t) continue;
                const float *keep = unit_masks_keep(u, (pl_module)m, l, uls[i].kind);
                for (int r = 0; r < uls[i].ref.out; r++) rows[r] = 1.0f;
                for (int c = 0; c < uls[i].ref.in; c++) cols[c] = 1.0f;
                float *side = uls[i].along_cols ? cols : rows;
                const int channels = uls[i].along_cols ? uls[i].ref.in : uls[i].ref.out;
                for (int c = 0; keep && c < channels; c++)
                    side[c] = keep[unit_of_channel(&uls[i], c)];
                return 1;
            }
        }
    return 0;
}
