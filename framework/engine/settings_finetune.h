/* settings_finetune.h - a run's validated `finetune` (or `distill`) stage section ->
 * finetune_config. */
#ifndef PL_ENGINE_SETTINGS_FINETUNE_H
#define PL_ENGINE_SETTINGS_FINETUNE_H

#include "config/node.h"
#include "tune/finetune.h"

typedef struct {
    finetune_config train;
    int merge;             /* fold the adapters into W at the end */
    const char *teacher;   /* "same" or a checkpoint path */
} finetune_settings;

pl_status settings_finetune(const cfg_node *stage, const cfg_node *run, finetune_settings *out,
                            pl_error *err);

/* A `distill` section's training keys -> finetune_config (full training of the student's
 * weights with finetune's loss; the scheme is read by the stage). */
pl_status settings_distill(const cfg_node *stage, const cfg_node *run, finetune_config *out,
                           pl_error *err);

/* A `loraprune` section's training keys -> finetune_config: LoRA on the qkv, proj, fc1 and
 * fc2 layers of every module, the task loss alone (the pruning keys are read by the stage). */
pl_status settings_loraprune_training(const cfg_node *stage, const cfg_node *run,
                                      finetune_config *out, pl_error *err);

#endif
