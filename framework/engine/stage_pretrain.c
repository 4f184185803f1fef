/* stage_pretrain.c - the pretrain stage: a fresh VLM initialised from the run's seed and
 * trained by tune/pretrain.h with the stage's phases. */
#include <stdint.h>

#include "engine/settings.h"
#include "engine/stage.h"
#include "tune/pretrain.h"

pl_status stage_pretrain(vlm *in, const cfg_node *section, const cfg_node *run,
                         const pl_data *data, vlm *out, const pl_metrics_sink *sink,
                         pl_error *err) {
    (void)in; /* pretrain starts from nothing */
    model_config mc;
    pretrain_config pc;
    long long seed;
    PL_TRY(settings_model(run, &data->config, &mc, err));
    PL_TRY(settings_pretrain(section, &pc, err));
    PL_TRY(cfg_get_int(run, "seed", &seed, err));
    PL_TRY(vlm_create(out, &mc, pc.batch_size, err));
    vlm_init(out, (uint64_t)seed);
    return pretrain_run(out, data, &pc, sink, err);
}
