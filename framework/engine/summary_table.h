/* summary_table.h - the table of runs `prunelab run` prints when it ends and `prunelab
 * collect` prints: run id, each sweep alias, seed, status, then the summary metrics a reader
 * looks for first - every eval's accuracy (<tag>acc, an eval being known by its
 * <tag>caption_slots; tagged ones such as pruned_acc before the untagged acc) and, in benched
 * runs, each bench's latency at its smallest batch and fewest threads
 * (<tag>latency_ms_b<B>_t<T>, in ms) - and last a failed run's reason. Every column is as wide
 * as its widest cell; alias values longer than 24 characters are cut with "...". */
#ifndef PL_ENGINE_SUMMARY_TABLE_H
#define PL_ENGINE_SUMMARY_TABLE_H

#include <stdio.h>

#include "engine/collect.h"

/* only (n_only run ids; NULL = every row): print just these runs. */
void pl_index_print(const pl_index *idx, const char *const *only, int n_only, FILE *out);

#endif
