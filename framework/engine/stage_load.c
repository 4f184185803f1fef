/* stage_load.c - the load stage: start a pipeline from a saved prunelab checkpoint (e.g. the
 * quickstart's shipped teacher), optionally checking the file's SHA-256 first. The file's
 * contents are part of the stage's cache key (engine/cache.c), so a changed file is never
 * served from an old cache entry. */
#include <stdio.h>
#include <string.h>

#include "config/bind.h"
#include "config/schema_keys.h"
#include "engine/fsutil.h"
#include "engine/settings.h"
#include "engine/stage.h"
#include "model/checkpoint.h"

/* ---- settings (the `load` section of an experiment) ---- */

typedef struct {
    const char *path, *sha256;
} load_settings;

static const cfg_key LOAD_KEYS[] = {
    {K("path", CFG_T_STRING, NULL), AT_TEXT(load_settings, path),
     .help = "a prunelab checkpoint (safetensors), relative to the working directory"},
    {K("sha256", CFG_T_STRING, ""), AT_TEXT(load_settings, sha256),
     .help = "the file's expected SHA-256 in hex ('' = not checked)"},
};
SECTION(LOAD, "load", "start the pipeline from a saved model instead of pretraining", LOAD_KEYS, false);


static pl_status stage_load(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                     vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    (void)in, (void)sink;
    load_settings ls = {0};
    PL_TRY(cfg_bind(&LOAD, section, &ls, err));
    const char *path = ls.path, *want = ls.sha256;
    if (want[0] != '\0') {
        char have[65] = {0};
        PL_TRY(pl_file_sha256(path, have, err));
        if (strcmp(have, want) != 0)
            return PL_ERROR(err, PL_ERR_CONFIG,
                            "%s has SHA-256 %s but load.sha256 expects %s: the file changed; "
                            "regenerate it or update the expected hash", path, have, want);
    }
    model_config expected;
    PL_TRY(settings_model(run, &data->config, &expected, err));
    PL_TRY(vlm_load(out, path, 64, err));
    /* The model's shape is the checkpoint's (a pruned, compacted or distilled model loads
     * like any other); it must only agree with what the data and the run fix. */
    const model_config *got = &out->cfg;
    const struct {
        const char *key;
        int have, want;
    } agree[] = {{"model.image_size", got->image_size, expected.image_size},
                 {"model.patch_size", got->patch_size, expected.patch_size},
                 {"the vocabulary size", got->vocab_size, expected.vocab_size},
                 {"data.text_len", got->text_len, expected.text_len},
                 {"the cell classes", got->aux_classes, expected.aux_classes}};
    for (size_t i = 0; i < sizeof agree / sizeof agree[0]; i++)
        if (agree[i].have != agree[i].want) {
            vlm_free(out);
            return PL_ERROR(err, PL_ERR_CONFIG, "%s holds a model with %s %d but the run needs %d "
                            "(`prunelab eval %s` prints the file's model)", path, agree[i].key,
                            agree[i].have, agree[i].want, path);
        }
    return PL_OK;
}

const pl_stage_kind PL_STAGE_LOAD = {.schema = &LOAD, .run = stage_load, .produces_model = true, .starts_pipeline = true, .files = {{"path"}}};
