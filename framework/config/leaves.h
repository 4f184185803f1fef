/* leaves.h - a config tree as its leaves: every scalar (and every list that is not a
 * pipeline) named by the dotted path config/path.h reads back, with its one-line flow text.
 *
 * Map keys join by '.'; an item of a list of one-key maps (a pipeline) is named by its
 * kind, or kind#k when the kind occurs more than once (`pipeline.eval#1.samples`); any
 * other list is one leaf (`[vision, language]`). What `prunelab collect` compares between
 * runs to show every key whose value differs. */
#ifndef PL_CONFIG_LEAVES_H
#define PL_CONFIG_LEAVES_H

#include "config/node.h"

/* Called per leaf; a status other than PL_OK stops the walk and is returned. */
typedef pl_status (*cfg_leaf_fn)(void *ctx, const char *path, const cfg_node *leaf, pl_error *err);

/* Walks tree's leaves in map key order, skipping the subtrees that are (pointer-equal to)
 * one of skip[0..n_skip). */
pl_status cfg_leaves(const cfg_node *tree, const cfg_node *const *skip, int n_skip, cfg_leaf_fn fn,
                     void *ctx, pl_error *err);

#endif
