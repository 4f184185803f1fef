/* scheduler.h - running the nodes of a stage graph, each after its parent, `jobs` at a time.
 *
 * Two drivers share the bookkeeping:
 *   threads    jobs == 1: nodes run one after another in the calling thread.
 *              jobs > 1: an outer `omp parallel num_threads(jobs)` region; each of its
 *              threads takes ready nodes off a shared list (mutex + condition variable).
 *              Nested parallelism is enabled (max active levels 2), so a job's kernels run
 *              an inner team of `threads`.
 *   processes  the calling thread forks one child per node (at most `jobs` alive), waits for
 *              them with waitpid on their own pids, and turns a child killed by a signal
 *              into a failed node ("crashed: signal 6 (Aborted)"). Nothing but the node
 *              runs in a child, which ends with _exit.
 *   remote     `remote` is set: nodes go to `remote->slots` workers elsewhere (MPI ranks,
 *              engine/mpi_run.h). The scheduler hands a ready node over with start() and
 *              blocks in wait() until some worker reports one; exec is not called here.
 * Every job (thread or child) calls pl_threads_set(threads) before its first node.
 *
 * A node that fails fails every node that depends on it, with the same reason. */
#ifndef PL_ENGINE_SCHEDULER_H
#define PL_ENGINE_SCHEDULER_H

#include <stdbool.h>

#include "engine/graph.h"

/* Workers elsewhere that run nodes (the remote driver). */
typedef struct {
    int slots; /* nodes that may be out at once */
    void *ctx;
    /* Hands node n to a free worker. */
    pl_status (*start)(void *ctx, int n, pl_error *err);
    /* Blocks until a worker reports a node: *n, whether it succeeded, and if not why. */
    pl_status (*wait)(void *ctx, int *n, bool *ok, char *reason, size_t cap, pl_error *err);
} pl_sched_remote;

typedef struct {
    int jobs, threads;
    bool processes;
    const pl_sched_remote *remote; /* NULL: threads or processes */
    void *ctx;
    /* Runs node n (in a job thread or a child process). */
    pl_status (*exec)(void *ctx, int n, pl_error *err);
    /* Called once per node that ends failed: `origin` is the node that failed (n itself
     * or an ancestor) and reason its message. Serialised: one call at a time, from the
     * scheduling side (a job thread holding the lock, or the parent process). */
    void (*failed)(void *ctx, int n, int origin, const char *reason);
    /* Called once per node when it ends, succeeded (ok) or failed (after `failed`), with
     * the same serialisation; may be NULL. */
    void (*ended)(void *ctx, int n, bool ok);
    /* Called once per node as it is handed to a job, child or worker, with the same
     * serialisation; may be NULL. */
    void (*started)(void *ctx, int n);
} pl_sched_ops;

typedef struct {
    int executed;  /* nodes that ran and succeeded */
    int failed;    /* nodes that failed or whose ancestor failed */
} pl_sched_result;

pl_status pl_schedule(const pl_graph *g, const pl_sched_ops *ops, pl_sched_result *res,
                      pl_error *err);

/* Runs node n in one forked child (ops->exec with ops->threads threads there) and waits for
 * it: PL_OK when it succeeded, otherwise an error status with the child's message, or how
 * it crashed, in reason. For a worker that must survive a crashing stage (MPI ranks); the
 * child is killed if the caller dies first. */
pl_status pl_sched_run_forked(const pl_sched_ops *ops, int n, char *reason, size_t cap);

#endif
