/* canon.h - canonical YAML text of a config tree: the form written to a run's config.yaml
 * and the form hashed into run ids.
 *
 * Canonical means: map keys sorted bytewise, two-space block indentation, lists of
 * scalars in flow style ([a, b]), floats in their shortest round-trip form with a '.' or
 * exponent (0.5, 5e-1 and 0.50 all print as 0.5; 1e-3 prints 0.001), ints in decimal,
 * strings plain when that reads back as the same string and double-quoted otherwise.
 * The text loads back (config/yaml_load.h) into an equal tree. */
#ifndef PL_CONFIG_CANON_H
#define PL_CONFIG_CANON_H

#include "config/node.h"
#include "config/strbuf.h"

/* Appends the canonical text of node to sb (a document ending in a newline). */
void cfg_canon_append(const cfg_node *node, cfg_strbuf *sb);

/* One-line flow form for tables: 0.5, wanda, {vision: 0.5, language: 0.2}, [a, b]. */
void cfg_canon_flow(const cfg_node *node, cfg_strbuf *sb);

/* The canonical text as a new string (free with pl_free). */
char *cfg_to_yaml(const cfg_node *node, pl_error *err);

#endif
