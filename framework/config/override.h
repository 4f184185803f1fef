/* override.h - command-line overrides `key.path=value` and ad-hoc axes `key.path=a,b,c`.
 *
 * The key must name a schema key (with "did you mean" otherwise). The value is typed by the
 * schema: for string and choice keys the text is taken as it is; otherwise it is read as a
 * YAML plain scalar (2e-3 is a float, 4 an int, true a bool); text starting with '[' or '{'
 * is read as YAML flow (a list or map). A value with commas outside brackets is a list of
 * values and becomes a sweep axis named after the key's last segment. Positions in errors
 * are "<override N>:1:col". */
#ifndef PL_CONFIG_OVERRIDE_H
#define PL_CONFIG_OVERRIDE_H

#include <stdbool.h>

#include "config/sweep.h"

/* Applies override number index (1-based, for messages). When the value is a list of
 * alternatives, *is_axis is set, *axis describes it and *out is root unchanged. */
pl_status cfg_override_apply(cfg_arena *a, const cfg_node *root, const char *text, int index,
                             cfg_node **out, cfg_extra_axis *axis, bool *is_axis, pl_error *err);

#endif
