/* yaml_load.h - reading YAML text into a typed cfg_node tree with libyaml.
 *
 * On top of libyaml: scalar typing (config/scalar.h), `<<` merge keys (explicit keys win,
 * earlier merge sources beat later ones), anchors and aliases (shared, not copied; an alias
 * to its own enclosing node is refused as a cycle; trees expanding past CFG_MAX_WEIGHT nodes
 * are refused), duplicate keys refused, one document per file, tabs and syntax errors
 * reported as file:line:col. */
#ifndef PL_CONFIG_YAML_LOAD_H
#define PL_CONFIG_YAML_LOAD_H

#include <stddef.h>

#include "config/node.h"

/* Parses text[0..len) named name (used in positions). An empty document gives a null node. */
pl_status cfg_load_string(cfg_arena *a, const char *text, size_t len, const char *name,
                          cfg_node **root, pl_error *err);

/* Reads and parses the file at path; positions name the path as given. */
pl_status cfg_load_file(cfg_arena *a, const char *path, cfg_node **root, pl_error *err);

#endif
