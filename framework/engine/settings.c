/* settings.c - what a run's experiment-level sections give the lower layers, beyond what
 * their tables bind (config/settings_types.h): the checks between keys and what the data
 * and the tokenizer fix (see settings.h). */
#include "engine/settings.h"

#include <stdio.h>
#include <string.h>

#include "config/bind.h"
#include "config/settings_types.h"
#include "core/gemm_bf16.h"
#include "data/tokenizer.h"

/* data.dataset: files needs data.tsv and data.images; fashion_scenes refuses them, so a
 * forgotten `dataset: files` never trains on the generated scenes by mistake. */
static pl_status check_data_source(const cfg_data_settings *ds, pl_error *err) {
    const pl_data_config *dc = &ds->config;
    const char *empty = dc->tsv[0] == '\0' ? "data.tsv" : dc->images[0] == '\0' ? "data.images" : NULL;
    const char *set = dc->tsv[0] != '\0' ? "data.tsv" : dc->images[0] != '\0' ? "data.images" : NULL;
    const bool files = strcmp(ds->dataset, "files") == 0;
    if (files && empty != NULL)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "data.dataset is files but %s is empty; set data.tsv to your TSV of "
                        "samples and data.images to their IDX file or PGM directory",
                        empty);
    if (!files && set != NULL)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "%s is set but data.dataset is %s; set data.dataset: files to use your "
                        "own data, or remove %s",
                        set, ds->dataset, set);
    return PL_OK;
}

pl_status settings_data(const cfg_node *run, pl_data_config *out, pl_error *err) {
    cfg_data_settings ds = {.dataset = "fashion_scenes"};
    pl_data_config_default(&ds.config);
    ds.config.tsv[0] = ds.config.images[0] = '\0';
    PL_TRY(cfg_bind_section(run, "data", &ds, err));
    PL_TRY(check_data_source(&ds, err));
    *out = ds.config;
    return pl_data_config_check(out, err);
}

/* model.blocks (optional): the listed blocks' units over the uniform shape. The schema has
 * checked each list's length and every count's range. */
static pl_status get_blocks(const cfg_node *blocks, model_config *out, pl_error *err) {
    if (blocks == NULL) return PL_OK;
    model_blocks_make_custom(out);
    for (int m = 0; m < MODULE_COUNT; m++) {
        const cfg_node *list = cfg_map_get(blocks, module_name((pl_module)m));
        for (int l = 0; list != NULL && l < list->u.list.count && l < module_layers(out, (pl_module)m); l++)
            PL_TRY(cfg_bind(&CFG_BLOCK, list->u.list.items[l], &out->blocks.dims[m][l], err));
    }
    model_blocks_normalise(out);
    return PL_OK;
}

pl_status settings_model(const cfg_node *run, const pl_data_config *data, model_config *out,
                         pl_error *err) {
    cfg_model_settings ms = {0};
    PL_TRY(model_config_preset(&ms.shape, "tiny", err)); /* fields the schema does not expose */
    PL_TRY(cfg_bind_section(run, "model", &ms, err));
    *out = ms.shape;
    out->vocab_size = PL_VOCAB_SIZE;
    out->text_len = data->text_len;
    out->aux_classes = CELL_CLASSES;
    PL_TRY(get_blocks(ms.blocks, out, err));
    if (out->image_size != SCENE_SIDE)
        return PL_ERROR(err, PL_ERR_CONFIG,
                        "model.image_size is %d but fashion scenes are %d pixels square",
                        out->image_size, SCENE_SIDE);
    return model_config_check(out, err);
}

pl_status settings_precision(const cfg_node *run, train_precision *out, pl_error *err) {
    *out = TRAIN_FP32;
    cfg_numerics_settings ns = {0};
    PL_TRY(cfg_bind_section(run, "numerics", &ns, err));
    if (ns.precision == NULL || strcmp(ns.precision->u.s, "bf16") != 0) return PL_OK;
    /* Refused rather than run slowly in emulation or silently in FP32 under a bf16 run id. */
    char why[256];
    if (!pl_bf16_supported(why, sizeof why))
        return cfg_error_at(err, ns.precision->pos, "numerics.precision = bf16, but %s; remove the key (or "
                            "set fp32) to train in FP32", why);
    *out = TRAIN_BF16;
    return PL_OK;
}

pl_status settings_engine(const cfg_node *base, cfg_engine_settings *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    return cfg_bind_section(base, "engine", out, err);
}
