/* settings.h - a run's experiment-level sections as the structs the lower layers take
 * (pl_data_config, model_config, the training precision, the engine's settings): each
 * section's table binds its keys (config/settings_types.h); these add what lies between
 * keys (data.dataset against data.tsv, per-block shapes, whether this CPU runs bf16). */
#ifndef PL_ENGINE_SETTINGS_H
#define PL_ENGINE_SETTINGS_H

#include "config/node.h"
#include "config/settings_types.h"
#include "data/dataset.h"
#include "model/model_config.h"
#include "tune/pretrain.h"

pl_status settings_data(const cfg_node *run, pl_data_config *out, pl_error *err);
/* The model shape; vocabulary and text length come from the data config. */
pl_status settings_model(const cfg_node *run, const pl_data_config *data, model_config *out,
                         pl_error *err);
/* numerics.precision of a run (absent: FP32); bf16 on a CPU without BF16 products is a
 * config error at the key's position. */
pl_status settings_precision(const cfg_node *run, train_precision *out, pl_error *err);
/* engine.* of an experiment's base. */
pl_status settings_engine(const cfg_node *base, cfg_engine_settings *out, pl_error *err);

#endif
