/* calibrate.h - where each prunable linear layer's input lives after a forward pass, and
 * running calibration scenes through the model to accumulate those inputs' statistics.
 *
 * Order (the calibration levels): vision blocks 0..Lv-1, bridge blocks 0..Lq-1, language
 * blocks 0..Ll-1; inside a block qkv, proj, [cross_q, cross_kv, cross_proj], fc1, fc2 -
 * the order of param_block_linears. Inputs: qkv ← ln_attn, proj ← attn_y,
 * cross_q ← ln_cross, cross_kv ← vision_out (the encoder's output), cross_proj ← cross_y,
 * fc1 ← ln_mlp, fc2 ← gelu. A block sublayer without units (no heads, no MLP width) has
 * no sites. */
#ifndef PL_PRUNE_CALIBRATE_H
#define PL_PRUNE_CALIBRATE_H

#include <stdint.h>

#include "data/dataset.h"
#include "model/vlm.h"
#include "prune/stats.h"

typedef struct {
    linear_ref ref;
    pl_module module;
    int level;           /* the block's place in the order above */
    const float *input;  /* the activation view holding the layer's input after a forward */
    int tokens;          /* input rows per sample */
} prune_site;

/* Fills sites (may be NULL to count) in the order above; returns the count, which equals
 * param_block_linears'. */
int prune_sites(const vlm *m, prune_site *sites);

/* Runs calib scenes first .. first+count-1 through m (its masks, if enabled) in batches of
 * m->max_batch and adds the inputs of sites[lo..hi) into stats[lo..hi) (sites whose stats
 * were not initialised are skipped). Runs only as much
 * of the model as those sites need (vision alone when they are all in the encoder). */
pl_status prune_calibrate(vlm *m, const pl_data *data, int64_t first, int count,
                          const prune_site *sites, int lo, int hi, prune_stats *stats,
                          pl_error *err);

#endif
