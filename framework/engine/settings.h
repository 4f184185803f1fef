/* settings.h - turning a run's resolved, validated config tree into the plain structs the
 * lower layers take (model_config, pl_data_config, pretrain_config, ...). The schema has
 * already checked types and ranges; these functions only copy, and report the path of any
 * value they cannot use. */
#ifndef PL_ENGINE_SETTINGS_H
#define PL_ENGINE_SETTINGS_H

#include "config/node.h"
#include "data/dataset.h"
#include "model/model_config.h"
#include "tune/pretrain.h"

pl_status settings_data(const cfg_node *run, pl_data_config *out, pl_error *err);
/* The model shape; vocabulary and text length come from the data config. */
pl_status settings_model(const cfg_node *run, const pl_data_config *data, model_config *out,
                         pl_error *err);
/* A pretrain stage's section (the node cfg_stage_at returns). */
pl_status settings_pretrain(const cfg_node *stage, pretrain_config *out, pl_error *err);
/* numerics.precision of a run (absent: FP32); bf16 on a CPU without BF16 products is a
 * config error at the key's position. */
pl_status settings_precision(const cfg_node *run, train_precision *out, pl_error *err);

#endif
