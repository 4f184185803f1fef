/* graph.c - building the stage graph of a sweep (see graph.h). */
#include "engine/graph.h"

#include <string.h>

#include "core/alloc.h"
#include "engine/cache.h"

void pl_graph_free(pl_graph *g) {
    pl_free(g->nodes);
    pl_free(g->run_node);
    pl_free(g->offset);
    pl_free(g->keys);
    pl_free(g->stage_node);
    memset(g, 0, sizeof *g);
}

static int find_model(const pl_graph *g, const char *key) {
    for (int i = 0; i < g->n_model; i++)
        if (strcmp(g->nodes[i].key, key) == 0) return i;
    return -1;
}

pl_status pl_graph_build(const pl_experiment *exp, const bool *todo, const char *results,
                         pl_hash_memo *memo, pl_graph *g, pl_error *err) {
    memset(g, 0, sizeof *g);
    int total = 0, runs = exp->n_runs;
    g->n_runs = runs;
    g->run_node = pl_alloc((size_t)runs + 1, sizeof *g->run_node, err);
    g->offset = pl_alloc((size_t)runs + 1, sizeof *g->offset, err);
    if (g->run_node == NULL || g->offset == NULL) goto nomem;
    for (int r = 0; r < runs; r++) {
        g->offset[r] = total;
        total += cfg_stage_count(exp->runs[r].config);
    }
    g->offset[runs] = total;
    g->keys = pl_alloc((size_t)total + 1, sizeof *g->keys, err);
    g->stage_node = pl_alloc((size_t)total + 1, sizeof *g->stage_node, err);
    /* at most one model node per stage plus one run node per run */
    g->nodes = pl_alloc((size_t)total + (size_t)runs + 1, sizeof *g->nodes, err);
    if (g->keys == NULL || g->stage_node == NULL || g->nodes == NULL) goto nomem;
    pl_hash_memo own = {0};
    if (memo == NULL) memo = &own;
    for (int r = 0; r < runs; r++) {
        g->run_node[r] = -1;
        if (!todo[r]) continue;
        int parent = -1;
        for (int i = 0; i < g->offset[r + 1] - g->offset[r]; i++) {
            int at = g->offset[r] + i;
            const char *kind;
            cfg_stage_at(exp->runs[r].config, i, &kind);
            const pl_stage_kind *k = pl_stage_find(kind);
            pl_status st = k != NULL ? pl_cache_key(&exp->runs[r], i, memo, g->keys[at], err)
                                     : PL_ERROR(err, PL_ERR_CONFIG, "stage kind '%s' is not implemented", kind);
            if (st != PL_OK) {
                pl_hash_memo_free(&own);
                pl_graph_free(g);
                return st;
            }
            g->stage_node[at] = -1;
            if (!k->produces_model) continue;
            int n = find_model(g, g->keys[at]);
            if (n < 0) {
                n = g->n_model++;
                pl_graph_node *node = &g->nodes[n];
                node->type = PL_NODE_MODEL, node->run = r, node->stage = i, node->parent = parent;
                memcpy(node->key, g->keys[at], CFG_HASH_HEX);
                node->cached = pl_cache_has(results, node->key);
            }
            g->stage_node[at] = parent = n;
            g->nodes[n].users++;
        }
    }
    pl_hash_memo_free(&own);
    /* run nodes after every model node: move nothing, just append */
    g->n_nodes = g->n_model;
    for (int r = 0; r < runs; r++) {
        if (!todo[r]) continue;
        int last = -1;
        bool alone = false;
        for (int at = g->offset[r]; at < g->offset[r + 1]; at++) {
            if (g->stage_node[at] >= 0) last = g->stage_node[at];
            const char *kind;
            cfg_stage_at(exp->runs[r].config, at - g->offset[r], &kind);
            const pl_stage_kind *k = pl_stage_find(kind);
            alone = alone || (k != NULL && k->runs_alone);
        }
        pl_graph_node *node = &g->nodes[g->n_nodes];
        node->type = PL_NODE_RUN, node->run = r, node->stage = -1, node->parent = last;
        node->alone = alone;
        g->run_node[r] = g->n_nodes++;
    }
    return PL_OK;
nomem:
    pl_graph_free(g);
    return PL_ERR_NOMEM;
}

bool pl_graph_depends(const pl_graph *g, int a, int b) {
    for (int n = a; n >= 0; n = g->nodes[n].parent)
        if (n == b) return true;
    return false;
}
