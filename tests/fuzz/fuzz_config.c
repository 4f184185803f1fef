/* fuzz_config.c - libFuzzer target for the config loader: any bytes must either load or be
 * refused with an error, never crash or leak. What loads is also run through defaults,
 * interpolation, the schema checks and the canonical serialiser, whose text must load back
 * into an equal tree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/canon.h"
#include "config/interp.h"
#include "config/schema.h"
#include "config/yaml_load.h"
#include "core/alloc.h"
#include "engine/stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cfg_arena a;
    cfg_arena_init(&a);
    pl_error err;
    pl_error_clear(&err);
    cfg_node *root;
    if (cfg_load_string(&a, (const char *)data, size, "fuzz.yaml", &root, &err) == PL_OK) {
        char *text = cfg_to_yaml(root, &err);
        if (text != NULL) {
            cfg_node *back;
            if (cfg_load_string(&a, text, strlen(text), "canonical.yaml", &back, &err) != PL_OK ||
                !cfg_equal(root, back))
                abort(); /* canonical text must load back equal */
            pl_free(text);
        }
        cfg_validator *v = cfg_validator_new(&a, pl_stage_catalog(), &err);
        cfg_node *filled, *resolved, *checked;
        if (v != NULL && root->kind == CFG_MAP && cfg_fill_defaults(v, root, &filled, &err) == PL_OK &&
            cfg_interpolate(&a, filled, &resolved, &err) == PL_OK)
            (void)cfg_check(v, resolved, &checked, &err);
    }
    cfg_arena_free(&a);
    return 0;
}
