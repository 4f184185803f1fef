/* fuzz_override.c - libFuzzer target for command-line overrides (config/override.h): each
 * line of the input is one `key.path=value` argument, applied in turn to a small
 * experiment, must be applied or refused with an error, never crash or leak. A tree that
 * takes every override is then filled with defaults, interpolated and checked. What an
 * applied override reports as its values must be a list, of one item when it is single. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/interp.h"
#include "config/override.h"
#include "config/schema.h"
#include "config/yaml_load.h"
#include "engine/stage.h"

static const char EXPERIMENT[] =
    "pipeline:\n"
    "  - pretrain: {steps: 10, batch_size: 4}\n"
    "  - prune: {method: wanda, sparsity: {vision: 0.5, language: 0.5}}\n"
    "  - finetune: {steps: 5}\n"
    "  - eval: {samples: 16}\n"
    "  - eval: {samples: 8, tag: final_}\n"
    "sweep:\n"
    "  axes:\n"
    "    sv: {path: pipeline.prune.sparsity.vision, values: [0.3, 0.5]}\n"
    "  seeds: [0, 1]\n"
    "engine: {jobs: 1, threads: 1}\n";

enum { MAX_LINES = 8, MAX_LINE = 512 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cfg_arena a;
    cfg_arena_init(&a);
    pl_error err;
    pl_error_clear(&err);
    cfg_node *root;
    if (cfg_load_string(&a, EXPERIMENT, sizeof EXPERIMENT - 1, "fuzz.yaml", &root, &err) != PL_OK) abort();
    size_t at = 0;
    bool all_applied = true;
    for (int line = 1; line <= MAX_LINES && at < size; line++) {
        char text[MAX_LINE + 1];
        size_t n = 0;
        while (at < size && data[at] != '\n' && n < MAX_LINE) text[n++] = (char)data[at++];
        while (at < size && data[at] != '\n') at++; /* the rest of an overlong line */
        at++;
        text[n] = '\0';
        if (memchr(text, '\0', n) != NULL) continue; /* argv strings hold no NUL */
        cfg_node *next;
        cfg_extra_axis axis;
        memset(&axis, 0, sizeof axis);
        if (cfg_override_apply(&a, pl_stage_catalog(), root, text, line, &next, &axis, &err) != PL_OK) {
            all_applied = false;
            continue;
        }
        if (axis.values != NULL &&
            (axis.values->kind != CFG_LIST || (axis.single && axis.values->u.list.count != 1)))
            abort();
        root = next;
    }
    cfg_validator *v = all_applied ? cfg_validator_new(&a, pl_stage_catalog(), &err) : NULL;
    cfg_node *filled, *resolved, *checked;
    if (v != NULL && cfg_fill_defaults(v, root, &filled, &err) == PL_OK &&
        cfg_interpolate(&a, filled, &resolved, &err) == PL_OK)
        (void)cfg_check(v, resolved, &checked, &err);
    cfg_arena_free(&a);
    return 0;
}
