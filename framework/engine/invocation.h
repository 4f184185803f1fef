/* invocation.h - what a live `prunelab run` of an experiment has promised to do, for
 * `prunelab status` to read.
 *
 * While an invocation works it holds the lock (engine/lock.h) on one file of its own,
 * <exp_dir>/invocations/<host>-<pid>-<time>.runs, which lists the run ids it plans to do
 * and a progress line (model stages and runs ended so far, of how many, since when). The
 * kernel drops the lock when the process dies however it dies, so a file whose lock nobody
 * holds is a killed invocation's: the next invocation removes it.
 *
 * What it tells status: a run marked running whose heartbeat is stale and whose own lock
 * nobody holds is interrupted, unless a live invocation still plans it; then it is waiting
 * (for a shared stage another run computes, or for a job slot), and the live invocation's
 * stage-level progress gives an ETA before any run has completed.
 *
 *   pl_invocation inv;
 *   PL_TRY(pl_invocation_begin(exp_dir, ids, n, nodes, &inv, err));
 *   ... pl_invocation_progress(&inv, ended) as nodes end ...
 *   pl_invocation_end(&inv);
 */
#ifndef PL_ENGINE_INVOCATION_H
#define PL_ENGINE_INVOCATION_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/error.h"
#include "engine/lock.h"

typedef struct {
    pl_lock lock;   /* held on path while the invocation lives */
    char path[1400];
    int nodes_total;
    double started; /* wall time */
    pid_t owner;    /* the process that began it */
} pl_invocation;

/* Removes the files of dead invocations, then writes and locks this one's: the run ids it
 * plans (n_runs of them) and nodes_total (model stages to compute plus runs). */
pl_status pl_invocation_begin(const char *exp_dir, const char *const *run_ids, int n_runs,
                              int nodes_total, pl_invocation *inv, pl_error *err);

/* Records that nodes_done of the nodes have ended (best effort: a failed write only makes
 * status's ETA older). */
void pl_invocation_progress(pl_invocation *inv, int nodes_done);

/* Removes the file and drops the lock (a never-begun invocation, or a call from a forked
 * child, is left alone). */
void pl_invocation_end(pl_invocation *inv);

/* In a forked child (engine.isolation: process): closes the child's copy of the lock's
 * descriptor, so that the record dies with the invocation's own process even while a child
 * lives on. Does nothing in the owner. */
void pl_invocation_leave(pl_invocation *inv);

/* The live invocations of an experiment, as status sees them. */
typedef struct {
    int n_live;              /* invocations whose lock is held */
    int n_runs, cap_runs;
    char **runs;             /* the run ids they plan */
    int nodes_done, nodes_total; /* summed over them */
    double started;          /* the earliest of them began (0 = none) */
} pl_live_invocations;

/* Reads <exp_dir>/invocations/ (a missing folder: no live invocation). */
pl_status pl_invocations_read(const char *exp_dir, pl_live_invocations *out, pl_error *err);

/* Whether a live invocation plans run_id. */
bool pl_invocations_plan(const pl_live_invocations *live, const char *run_id);

void pl_invocations_free(pl_live_invocations *live);

#endif
