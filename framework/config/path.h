/* path.h - dotted key paths: lookups, typed getters and path-copying edits.
 *
 * A path is keys joined by '.': `model.dim_vision`, `data.question_mix.count`. Inside a
 * list a segment is either an index (`pipeline.2` is the third list item, as written) or
 * a stage kind: in a list of one-key maps such as `pipeline`, `prune` selects the item
 * `{prune: {...}}` and yields its settings map, and `eval#1` selects the second `eval`
 * (`eval#0` is the first). A bare kind that occurs twice is ambiguous and refused.
 * So `pipeline.prune.sparsity.vision` and `pipeline.1.prune.sparsity.vision` can name the
 * same value. */
#ifndef PL_CONFIG_PATH_H
#define PL_CONFIG_PATH_H

#include <stdbool.h>

#include "config/node.h"

enum { CFG_PATH_MAX = 512, CFG_PATH_SEGMENTS = 32 };

/* The node at path, or NULL when it is absent or the path does not fit the tree. */
const cfg_node *cfg_get(const cfg_node *root, const char *path);

/* Like cfg_get, with a message naming the path when it fails (PL_ERR_CONFIG). */
pl_status cfg_lookup(const cfg_node *root, const char *path, const cfg_node **out, pl_error *err);

/* Typed getters for resolved trees. cfg_get_float accepts ints; each fails with a message
 * naming the path when the key is absent or has another type. */
pl_status cfg_get_int(const cfg_node *root, const char *path, long long *out, pl_error *err);
pl_status cfg_get_float(const cfg_node *root, const char *path, double *out, pl_error *err);
pl_status cfg_get_bool(const cfg_node *root, const char *path, bool *out, pl_error *err);
pl_status cfg_get_string(const cfg_node *root, const char *path, const char **out, pl_error *err);

/* A new root equal to root with the value at path replaced by value. Missing map keys along
 * the way are created (as maps); list items and pipeline stages must already exist. */
pl_status cfg_set(cfg_arena *a, const cfg_node *root, const char *path, cfg_node *value,
                  cfg_node **out, pl_error *err);

/* Pipeline helpers: the number of stages and stage i's kind and settings map. */
int cfg_stage_count(const cfg_node *root);
const cfg_node *cfg_stage_at(const cfg_node *root, int i, const char **kind);

/* Splits path into at most CFG_PATH_SEGMENTS segments in buf (a copy); returns the count,
 * or -1 when the path is empty, too long or has an empty segment. */
int cfg_path_split(const char *path, char buf[CFG_PATH_MAX], char *segs[CFG_PATH_SEGMENTS]);

/* True when seg is a list index (only digits). */
bool cfg_path_is_index(const char *seg);

/* For a list segment: the item index it selects and whether it selected by kind (then the
 * item's settings map is meant). Returns false with a reason in err when it selects none. */
bool cfg_path_list_index(const cfg_node *list, const char *seg, int *index, bool *by_kind,
                         pl_error *err);

#endif
