/* interp.h - `${dotted.path}` and `${env:VAR}` interpolation in string values.
 *
 * A string that is exactly one reference takes the referenced value with its type (a
 * number stays a number, a map stays a map; `${env:VAR}` is typed like a plain YAML
 * scalar). References inside longer text are spliced in as text, and must name scalars.
 * Paths are absolute from the root of the run's config (pipeline stages addressed as in
 * config/path.h). `$${` writes a literal `${`. Missing targets, unset variables and cycles
 * are errors naming the referencing value's position. */
#ifndef PL_CONFIG_INTERP_H
#define PL_CONFIG_INTERP_H

#include "config/node.h"

pl_status cfg_interpolate(cfg_arena *a, const cfg_node *root, cfg_node **out, pl_error *err);

#endif
