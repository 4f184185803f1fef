/* checkpoint.h - saving and loading a whole VLM as a safetensors file: every parameter under
 * its hierarchical name, the pruning masks of prunable weights as "<name>.mask" (when the
 * model has masks), unmerged adapter factors as "<name>.lora_a" / ".lora_b" (when it carries
 * them; adapter_kind and adapter_alpha in the metadata), the model config as JSON in the
 * metadata under "config" and every block's heads and MLP width under "blocks"
 * (model/block_json.h). A file without "blocks" (written before per-block shapes) is the
 * uniform shape its config describes. */
#ifndef PL_MODEL_CHECKPOINT_H
#define PL_MODEL_CHECKPOINT_H

#include "model/vlm.h"

/* The model config as a JSON object text (caller frees *json with free()). */
pl_status model_config_to_json(const model_config *cfg, char **json, pl_error *err);
/* Parses what model_config_to_json wrote; every field is required. */
pl_status model_config_from_json(model_config *cfg, const char *json, pl_error *err);

/* Extra metadata key/value pairs (may be NULL / 0): e.g. the stage that produced it. */
typedef struct {
    const char *key, *value;
} checkpoint_meta;

/* Writes m to path atomically. */
pl_status vlm_save(const vlm *m, const char *path, const checkpoint_meta *meta, int nmeta,
                   pl_error *err);

/* Creates m (vlm_create with max_batch) from the config and block shapes stored in path
 * and loads every parameter, and the masks when the file has them. Refused, each naming the
 * tensor: a parameter missing or of another shape; masks of only some prunable weights, or
 * with an element other than 0 or 1 (NaN included); keep flags other than 0 or 1; adapter
 * factors without the adapter_kind / adapter_alpha metadata, or not of one adapter set; any
 * tensor the model does not use (stray); NaN or infinite weights. */
pl_status vlm_load(vlm *m, const char *path, int max_batch, pl_error *err);

/* The model config and per-block shapes a checkpoint's metadata describes (no weights
 * read): for checks before a run. */
pl_status vlm_checkpoint_config(const char *path, model_config *cfg, pl_error *err);

#endif
