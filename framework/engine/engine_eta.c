/* engine_eta.c - the clocks behind the sweep's ETA: each node of the graph is timed from
 * the moment the scheduler hands it out to its end, and grouped by kind (the stage kind it
 * computes, "run" for a run's own evaluation, and whether it runs alone), so the nodes left
 * can be costed by the mean of their kind's ended nodes (engine/sweep_eta.h). */
#include "engine/engine_parts.h"

#include <string.h>

#include "config/path.h"
#include "core/alloc.h"

/* The kind's name of node n: its stage kind, or "run". */
static const char *kind_name(const engine_ctx *e, int n) {
    const pl_graph_node *node = &e->graph.nodes[n];
    if (node->type == PL_NODE_RUN) return "run";
    const char *kind = "?";
    cfg_stage_at(e->exp->runs[node->run].config, node->stage, &kind);
    return kind;
}

pl_status engine_eta_open(engine_ctx *e, int slots, pl_error *err) {
    engine_eta *t = &e->eta;
    size_t nodes = (size_t)e->graph.n_nodes + 1;
    t->slots = slots;
    t->kind = pl_alloc(nodes, sizeof *t->kind, err);
    t->started = pl_alloc(nodes, sizeof *t->started, err);
    t->ended = pl_alloc(nodes, sizeof *t->ended, err);
    t->seconds = pl_alloc(nodes, sizeof *t->seconds, err);
    t->timed = pl_alloc(nodes, sizeof *t->timed, err);
    t->left = pl_alloc(nodes, sizeof *t->left, err);
    t->ages = pl_alloc(nodes, sizeof *t->ages, err);
    const char **names = pl_alloc(nodes, sizeof *names, err);
    if (!t->kind || !t->started || !t->ended || !t->seconds || !t->timed || !t->left || !t->ages ||
        !names) {
        pl_free(names);
        return PL_ERR_NOMEM;
    }
    for (int n = 0; n < e->graph.n_nodes; n++) {
        const char *name = kind_name(e, n);
        bool alone = e->graph.nodes[n].alone;
        int k = 0;
        while (k < t->n_kinds && (strcmp(names[k], name) != 0 || t->left[k].alone != alone)) k++;
        if (k == t->n_kinds) names[t->n_kinds] = name, t->left[t->n_kinds++].alone = alone;
        t->kind[n] = k;
    }
    pl_free(names);
    return PL_OK;
}

void engine_eta_started(engine_ctx *e, int n, double now) {
    if (e->eta.started != NULL) e->eta.started[n] = now;
}

void engine_eta_ended(engine_ctx *e, int n, bool ok, double now) {
    engine_eta *t = &e->eta;
    if (t->ended == NULL) return;
    t->ended[n] = true;
    if (ok && t->started[n] > 0) {
        t->seconds[t->kind[n]] += now - t->started[n];
        t->timed[t->kind[n]]++;
    }
}

double engine_eta_left(engine_ctx *e, double now) {
    engine_eta *t = &e->eta;
    if (t->ended == NULL) return -1.0;
    /* A kind none of whose nodes has ended yet costs the mean of all timed nodes. */
    double all_seconds = 0.0;
    int all_timed = 0;
    for (int k = 0; k < t->n_kinds; k++) all_seconds += t->seconds[k], all_timed += t->timed[k];
    if (all_timed == 0) return -1.0;
    for (int k = 0; k < t->n_kinds; k++) {
        t->left[k].mean = t->timed[k] > 0 ? t->seconds[k] / t->timed[k] : all_seconds / all_timed;
        t->left[k].waiting = t->left[k].running = 0;
    }
    /* Each kind's ages side by side in the scratch, in kind order. */
    int at = 0;
    for (int k = 0; k < t->n_kinds; k++) {
        t->left[k].ages = t->ages + at;
        for (int n = 0; n < e->graph.n_nodes; n++) {
            if (t->kind[n] != k || t->ended[n] || e->graph.nodes[n].cached) continue;
            if (t->started[n] > 0) t->ages[at++] = now - t->started[n], t->left[k].running++;
            else t->left[k].waiting++;
        }
    }
    return pl_sweep_eta(t->left, t->n_kinds, t->slots);
}

void engine_eta_close(engine_ctx *e) {
    engine_eta *t = &e->eta;
    pl_free(t->kind), pl_free(t->started), pl_free(t->ended), pl_free(t->seconds);
    pl_free(t->timed), pl_free(t->left), pl_free(t->ages);
    memset(t, 0, sizeof *t);
}
