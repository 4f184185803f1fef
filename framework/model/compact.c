/* compact.c - copying a structurally pruned model's kept units into a smaller shape (see
 * compact.h). */
#include "model/compact.h"

#include <string.h>

#include "core/alloc.h"

void vlm_merge_carried_adapters(vlm *m) {
    if (m->adapters.kind == ADAPTER_NONE) return;
    adapters_merge(&m->adapters, &m->index, &m->params, &m->masks);
    adapters_free(&m->adapters);
}

model_config vlm_compact_config(const vlm *src) {
    model_config c = src->cfg;
    model_blocks_make_custom(&c);
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(&c, (pl_module)m); l++) {
            const block_ref *b = &param_blocks(&src->index, (pl_module)m)[l];
            block_dims *d = &c.blocks.dims[m][l];
            d->heads = unit_masks_kept(&src->units, b, (pl_module)m, l, UNIT_HEADS);
            d->cross_heads = unit_masks_kept(&src->units, b, (pl_module)m, l, UNIT_CROSS_HEADS);
            d->ffn = unit_masks_kept(&src->units, b, (pl_module)m, l, UNIT_NEURONS);
        }
    model_blocks_normalise(&c);
    return c;
}

/* The buffers a tensor is copied between: parameters, and masks when both models have them. */
typedef struct {
    const vlm *src;
    vlm *dst;
} copy_job;

static void copy_tensor(const copy_job *j, int ts, int td) {
    const size_t n = j->dst->index.layout.tensors[td].count;
    memcpy(pl_buffer_view(&j->dst->params, td), pl_buffer_view(&j->src->params, ts), n * sizeof(float));
    if (j->src->masks.data != NULL)
        memcpy(pl_buffer_view(&j->dst->masks, td), pl_buffer_view(&j->src->masks, ts), n * sizeof(float));
}

/* Every destination tensor whose source twin (same name) has the same shape, whole. */
static pl_status copy_same_shapes(const copy_job *j, pl_error *err) {
    const pl_layout *ls = &j->src->index.layout, *ld = &j->dst->index.layout;
    for (int td = 0; td < ld->count; td++) {
        const int ts = pl_layout_find(ls, ld->tensors[td].name);
        if (ts < 0)
            return PL_ERROR(err, PL_ERR_INTERNAL, "compaction made tensor %s, which the source model "
                            "lacks", ld->tensors[td].name);
        if (ls->tensors[ts].count == ld->tensors[td].count) copy_tensor(j, ts, td);
    }
    return PL_OK;
}

/* src channels of the kept units of ul, in order: the channels dst's matrix has. */
static int kept_channels(const unit_linear *ul, const float *keep, int *channels) {
    const int span = ul->units * ul->width;
    int n = 0;
    for (int sec = 0; sec < ul->sections; sec++)
        for (int u = 0; u < ul->units; u++)
            for (int k = 0; keep[u] != 0.0f && k < ul->width; k++) channels[n++] = sec * span + u * ul->width + k;
    return n;
}

/* dst[i] = src[pick(i)] over rows (with the bias) or columns of one unit matrix. */
static void copy_selected(const pl_buffer *from, pl_buffer *to, const unit_linear *ul, int ws,
                          int bs, int wd, int bd, const int *channels, int n) {
    const float *w = pl_buffer_view(from, ws);
    float *out = pl_buffer_view(to, wd);
    const int in = ul->ref.in, rows = ul->ref.out;
    if (!ul->along_cols) {
        for (int i = 0; i < n; i++) memcpy(out + (size_t)i * in, w + (size_t)channels[i] * in, (size_t)in * sizeof(float));
        if (bs >= 0 && bd >= 0)
            for (int i = 0; i < n; i++) pl_buffer_view(to, bd)[i] = pl_buffer_view(from, bs)[channels[i]];
        return;
    }
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < n; i++) out[(size_t)r * n + i] = w[(size_t)r * in + channels[i]];
}

/* The unit matrices that lost units: their kept rows or columns. */
static pl_status copy_kept_units(const copy_job *j, pl_error *err) {
    const vlm *src = j->src;
    const pl_layout *ld = &j->dst->index.layout;
    unit_linear uls[UNIT_LINEARS_MAX];
    int *channels = NULL;
    size_t cap = 0;
    for (int m = 0; m < MODULE_COUNT; m++)
        for (int l = 0; l < module_layers(&src->cfg, (pl_module)m); l++) {
            const int n = unit_linears_of_block(&param_blocks(&src->index, (pl_module)m)[l], uls);
            for (int i = 0; i < n; i++) {
                const float *keep = unit_masks_keep(&src->units, (pl_module)m, l, uls[i].kind);
                const char *name = src->index.layout.tensors[uls[i].ref.weight].name;
                const int wd = pl_layout_find(ld, name);
                if (keep == NULL || wd < 0 ||
                    ld->tensors[wd].count == src->index.layout.tensors[uls[i].ref.weight].count)
                    continue; /* nothing kept (no matrix) or nothing removed (copied whole) */
                const size_t need = (size_t)(uls[i].along_cols ? uls[i].ref.in : uls[i].ref.out);
                if (need > cap) {
                    pl_free(channels);
                    channels = pl_alloc(need, sizeof *channels, err);
                    if (channels == NULL) return PL_ERR_NOMEM;
                    cap = need;
                }
                const int count = kept_channels(&uls[i], keep, channels);
                const int bs = uls[i].ref.bias;
                const int bd = bs >= 0 ? pl_layout_find(ld, src->index.layout.tensors[bs].name) : -1;
                copy_selected(&src->params, &j->dst->params, &uls[i], uls[i].ref.weight, bs, wd, bd,
                              channels, count);
                if (src->masks.data != NULL)
                    copy_selected(&src->masks, &j->dst->masks, &uls[i], uls[i].ref.weight, -1, wd, -1,
                                  channels, count);
            }
        }
    pl_free(channels);
    return PL_OK;
}

pl_status vlm_compact(const vlm *src, vlm *dst, pl_error *err) {
    if (src->adapters.kind != ADAPTER_NONE)
        return PL_ERROR(err, PL_ERR_INVALID, "compaction needs the adapters merged first "
                        "(vlm_merge_carried_adapters)");
    const model_config cfg = vlm_compact_config(src);
    PL_TRY(vlm_create(dst, &cfg, src->max_batch, err));
    pl_status st = src->masks.data != NULL ? vlm_enable_masks(dst, err) : PL_OK;
    const copy_job j = {src, dst};
    if (st == PL_OK) st = copy_same_shapes(&j, err);
    if (st == PL_OK) st = copy_kept_units(&j, err);
    if (st != PL_OK) vlm_free(dst);
    return st;
}
