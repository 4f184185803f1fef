/* compose.h - building one config tree from an experiment file and the files it lists.
 *
 * A file may start with `defaults: [a.yaml, b.yaml]` (paths relative to that file). Those
 * files are composed first (recursively), merged in order with the last winning, and the
 * file's own keys are merged over them. Merging is deep for maps; lists and scalars are
 * replaced whole. A `stages:` block gives per-kind defaults that every pipeline stage of that
 * kind is merged over. */
#ifndef PL_CONFIG_COMPOSE_H
#define PL_CONFIG_COMPOSE_H

#include "config/node.h"

/* Loads path and everything its defaults: lists pull in. The result has no `defaults` key. */
pl_status cfg_compose_file(cfg_arena *a, const char *path, cfg_node **out, pl_error *err);

/* over merged onto base: maps deeply, anything else replaced by over. */
pl_status cfg_merge(cfg_arena *a, const cfg_node *base, const cfg_node *over, cfg_node **out,
                    pl_error *err);

/* Merges each pipeline stage over `stages.<kind>` and drops the `stages` key. */
pl_status cfg_apply_stage_defaults(cfg_arena *a, const cfg_node *root, cfg_node **out,
                                   pl_error *err);

#endif
