/* sweep_eta.h - how long a sweep has left, from the nodes it has finished so far.
 *
 * The nodes left are grouped by kind (the stage they compute, or a run's own evaluation,
 * and whether they must run alone), each kind timed on its own ended nodes: a node not
 * started yet costs its kind's mean, one in flight that mean less how long it has been going
 * (never below zero). Nodes that may run beside others share the `slots`; nodes that run
 * alone add their time after them. Elapsed time per finished run would count a parallel
 * sweep's work twice (with two jobs the first run to end has a second one nearly done beside
 * it) and charge a stage every run shares, done once up front, to every run left. */
#ifndef PL_ENGINE_SWEEP_ETA_H
#define PL_ENGINE_SWEEP_ETA_H

#include <stdbool.h>

typedef struct {
    double mean;         /* seconds an ended node of this kind took on average */
    bool alone;          /* its nodes run with nothing beside them */
    int waiting;         /* nodes not started */
    int running;         /* nodes in flight ... */
    const double *ages;  /* ... and how long each has been going */
} pl_eta_kind;

/* Seconds until every node of the n kinds is done with `slots` going at once (>= 1); >= 0. */
double pl_sweep_eta(const pl_eta_kind *kinds, int n, int slots);

#endif
