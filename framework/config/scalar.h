/* scalar.h - resolving YAML plain scalars to types, and canonical number text.
 *
 * prunelab resolves plain scalars with the YAML 1.2 core schema: null (~, null, empty),
 * bool (true/false in three casings), int (decimal, 0x hex, 0o octal), float (decimal,
 * exponent, .inf/-.inf; .nan is refused because a NaN can never be a valid setting).
 * Anything else, and every quoted scalar, is a string. */
#ifndef PL_CONFIG_SCALAR_H
#define PL_CONFIG_SCALAR_H

#include <stdbool.h>
#include <stddef.h>

#include "config/node.h"

/* A node for the plain scalar text[0..n). Errors (NaN, an int out of range) name pos. */
cfg_node *cfg_scalar_resolve(cfg_arena *a, const char *text, size_t n, cfg_pos pos, pl_error *err);

/* True when a plain scalar with this text would resolve to something other than a string
 * (so a serialiser must quote it to keep it a string). */
bool cfg_scalar_is_special(const char *text, size_t n);

/* Shortest "%.Ng" text that parses back to exactly v, always with a '.', 'e' or "inf" so
 * it reads back as a float: 0.5 -> "0.5", 1 -> "1.0", 1e-05 -> "1e-05", inf -> ".inf". */
void cfg_format_double(double v, char out[32]);

/* Rounds v to 12 significant digits: generated sweep values (linspace, range) use it so
 * 0.1*3 becomes 0.3 rather than 0.30000000000000004. */
double cfg_round_sig12(double v);

#endif
