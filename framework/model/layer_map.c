/* layer_map.c - the identity layer map (see layer_map.h). */
#include "model/layer_map.h"

void vlm_layer_map_identity(vlm_layer_map *map, const model_config *cfg) {
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        const int layers = module_layers(cfg, (pl_module)mod);
        for (int k = 0; k < VLM_MAX_LAYERS; k++) map->teacher[mod][k] = k < layers ? k : -1;
    }
}
