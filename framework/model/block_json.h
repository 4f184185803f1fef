/* block_json.h - a model's per-block shape (heads, cross-attention heads, MLP width of
 * every block) as the JSON text a checkpoint's "blocks" metadata holds; see block_json.c
 * for the form. */
#ifndef PL_MODEL_BLOCK_JSON_H
#define PL_MODEL_BLOCK_JSON_H

#include "model/model_config.h"

/* Every block of cfg, uniform or not (caller frees *json with free()). */
pl_status model_blocks_to_json(const model_config *cfg, char **json, pl_error *err);

/* Reads json into cfg->blocks; cfg's scalars (layer counts, widths, heads) must already be
 * set. Checks every entry (model_config_check) and normalises a uniform shape to custom = 0. */
pl_status model_blocks_from_json(model_config *cfg, const char *json, pl_error *err);

#endif
