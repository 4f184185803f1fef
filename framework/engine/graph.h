/* graph.h - the stage graph of a sweep: one node per unique model-producing stage instance
 * (keyed by engine/cache.h, shared by every run whose pipeline prefix has that key) and one
 * node per run still to do, which replays the run's cached stages into its metrics.h5 and
 * runs its per-run stages (eval, bench). Every node waits for at most one other node (its
 * parent: the previous model stage), so the graph is a forest.
 *
 * Model nodes come first, in the order their first run needs them; run nodes follow in run
 * table order. A model node whose output is already in the cache is marked `cached` and is
 * not executed. Completed runs get no node at all. */
#ifndef PL_ENGINE_GRAPH_H
#define PL_ENGINE_GRAPH_H

#include <stdbool.h>

#include "config/experiment.h"
#include "engine/fsutil.h"
#include "engine/stage.h"

typedef enum { PL_NODE_MODEL, PL_NODE_RUN } pl_node_type;

typedef struct {
    pl_node_type type;
    int run;       /* model node: the first run (table order) that needs it; run node: its run */
    int stage;     /* model node: its pipeline index */
    int parent;    /* the node this one waits for, or -1 */
    bool cached;   /* model node whose output already exists */
    bool alone;    /* run node holding a runs_alone stage (bench): nothing else may run then */
    int users;     /* model node: runs to do whose pipeline needs it (shared when 2 or more) */
    char key[CFG_HASH_HEX];
} pl_graph_node;

typedef struct {
    pl_graph_node *nodes;
    int n_nodes, n_model;
    int n_runs;
    int *run_node;    /* per run: its run node, or -1 (nothing to do) */
    int *offset;      /* per run: where its stages start in keys / stage_node */
    char (*keys)[CFG_HASH_HEX]; /* per run and stage: the cache key (todo runs only) */
    int *stage_node;  /* per run and stage: the model node, or -1 for per-run stages */
} pl_graph;

/* todo[r]: run r must be (re)run. results: the results directory (for cache lookups).
 * memo (may be NULL) remembers the content hashes of the files the keys read. */
pl_status pl_graph_build(const pl_experiment *exp, const bool *todo, const char *results,
                         pl_hash_memo *memo, pl_graph *g, pl_error *err);
void pl_graph_free(pl_graph *g);

/* True when node a is node b or depends on it, directly or not. */
bool pl_graph_depends(const pl_graph *g, int a, int b);

#endif
