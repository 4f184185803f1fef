/* block_json.c - a model's per-block shape as JSON, the form checkpoints carry it in (their
 * "blocks" metadata entry):
 *   {"vision": [{"heads": 4, "ffn": 256}, ...],
 *    "bridge": [{"heads": 4, "cross_heads": 4, "ffn": 256}, ...],
 *    "language": [...]}
 * one entry per block of each module, in order. */
#include "model/block_json.h"

#include <string.h>

#include "core/json.h"

pl_status model_blocks_to_json(const model_config *cfg, char **json, pl_error *err) {
    pl_json_buf buf = {0};
    pl_status st = pl_json_buf_printf(&buf, err, "{");
    for (int m = 0; st == PL_OK && m < MODULE_COUNT; m++) {
        st = pl_json_buf_printf(&buf, err, "%s\"%s\": [", m ? ", " : "", module_name((pl_module)m));
        for (int l = 0; st == PL_OK && l < module_layers(cfg, (pl_module)m); l++) {
            const block_dims d = model_block(cfg, (pl_module)m, l);
            if (m == MODULE_BRIDGE)
                st = pl_json_buf_printf(&buf, err, "%s{\"heads\": %d, \"cross_heads\": %d, "
                                        "\"ffn\": %d}", l ? ", " : "", d.heads, d.cross_heads, d.ffn);
            else
                st = pl_json_buf_printf(&buf, err, "%s{\"heads\": %d, \"ffn\": %d}", l ? ", " : "",
                                        d.heads, d.ffn);
        }
        if (st == PL_OK) st = pl_json_buf_printf(&buf, err, "]");
    }
    if (st == PL_OK) st = pl_json_buf_printf(&buf, err, "}");
    if (st != PL_OK) {
        pl_json_buf_free(&buf);
        return st;
    }
    *json = buf.data;
    return PL_OK;
}

/* One unit count of an entry: a non-negative integer (range checks are model_config_check's). */
static pl_status read_count(const pl_json *entry, const char *key, int required, int *out,
                            const char *mod, int layer, pl_error *err) {
    const pl_json *v = pl_json_get(entry, key);
    if (v == NULL && !required) {
        *out = 0;
        return PL_OK;
    }
    if (v == NULL || v->type != PL_JSON_NUMBER || !v->is_int || v->integer < -(1 << 24) ||
        v->integer > 1 << 24)
        return PL_ERROR(err, PL_ERR_FORMAT, "blocks.%s[%d] lacks an integer \"%s\"", mod, layer, key);
    *out = (int)v->integer;
    return PL_OK;
}

pl_status model_blocks_from_json(model_config *cfg, const char *json, pl_error *err) {
    pl_json *root;
    PL_TRY(pl_json_parse(json, strlen(json), &root, err));
    pl_status st = PL_OK;
    if (root->type != PL_JSON_OBJECT)
        st = PL_ERROR(err, PL_ERR_FORMAT, "blocks is not a JSON object");
    memset(&cfg->blocks, 0, sizeof cfg->blocks);
    cfg->blocks.custom = 1;
    for (int m = 0; st == PL_OK && m < MODULE_COUNT; m++) {
        const char *mod = module_name((pl_module)m);
        const pl_json *list = pl_json_get(root, mod);
        const int layers = module_layers(cfg, (pl_module)m);
        if (list == NULL || list->type != PL_JSON_ARRAY)
            st = PL_ERROR(err, PL_ERR_FORMAT, "blocks has no list \"%s\"", mod);
        else if ((int)list->count != layers || layers > VLM_MAX_LAYERS)
            st = PL_ERROR(err, PL_ERR_FORMAT, "blocks.%s lists %zu blocks but the model config "
                          "has %d", mod, list->count, layers);
        for (int l = 0; st == PL_OK && l < layers; l++) {
            const pl_json *e = &list->items[l];
            block_dims *d = &cfg->blocks.dims[m][l];
            if (e->type != PL_JSON_OBJECT)
                st = PL_ERROR(err, PL_ERR_FORMAT, "blocks.%s[%d] is not an object", mod, l);
            if (st == PL_OK) st = read_count(e, "heads", 1, &d->heads, mod, l, err);
            if (st == PL_OK) st = read_count(e, "cross_heads", m == MODULE_BRIDGE, &d->cross_heads,
                                             mod, l, err);
            if (st == PL_OK) st = read_count(e, "ffn", 1, &d->ffn, mod, l, err);
        }
    }
    pl_json_free(root);
    if (st != PL_OK) return st;
    PL_TRY(model_config_check(cfg, err));
    model_blocks_normalise(cfg);
    return PL_OK;
}
