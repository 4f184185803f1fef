/* override.h - command-line overrides `key.path=value` and ad-hoc axes `key.path=a,b,c`.
 *
 * The key must name a schema key (with "did you mean" otherwise). The value is typed by the
 * schema: for string and choice keys the text is taken as it is; otherwise it is read as a
 * YAML plain scalar (2e-3 is a float, 4 an int, true a bool); text starting with '[' or '{'
 * is read as YAML flow (a list or map). An empty value is refused; `key=""` sets a text key
 * to the empty string. A value with commas outside brackets is a list of
 * values and becomes a sweep axis named after the key's last segment. Positions in errors
 * are "<override N>:1:col". */
#ifndef PL_CONFIG_OVERRIDE_H
#define PL_CONFIG_OVERRIDE_H

#include <stdbool.h>

#include "config/schema.h"
#include "config/sweep.h"

/* Applies override number index (1-based, for messages). *axis describes the value: a
 * one-item list with single set (the value is also set in *out), or the list of
 * alternatives (then *out is root unchanged). Overrides of sweep.* keys are set, never axes. */
pl_status cfg_override_apply(cfg_arena *a, const cfg_stage_catalog *stages, const cfg_node *root,
                             const char *text, int index, cfg_node **out, cfg_extra_axis *axis,
                             pl_error *err);

#endif
