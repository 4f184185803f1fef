/* engine_mpi.c - `prunelab run --mpi`: one sweep over the ranks of an MPI job.
 *
 * Rank 0 does everything a local run does (preflight, experiment.state, which runs to do,
 * the stage graph, failures, progress, index.tsv) except running nodes. It broadcasts the
 * runs to do; every other rank builds the same graph from them (its node numbering depends
 * only on the experiment and that list) and opens the data. Rank 0 then schedules the graph
 * with the scheduler's remote driver: a ready node goes to an idle worker as a WORK message,
 * the worker runs it in a forked child (a crashing stage fails only its runs, as
 * `engine.isolation: process` does) and answers DONE with the outcome. Every wait polls and
 * sleeps (engine/mpi_comm.h), so rank 0 costs no core. When the graph is done, rank 0
 * sends each worker WORK -1 (stop).
 *
 * The shared results directory carries the rest: workers write their run directories and
 * cache entries under the same locks as local jobs, so a rank killed mid-stage loses only
 * what it was computing, and running the same command again resumes. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "engine/engine_parts.h"
#include "engine/mpi_comm.h"

enum { TAG_WORK = 11, TAG_DONE = 12, REASON_MAX = 1024 };

typedef struct {
    int32_t node, ok;
    char reason[REASON_MAX];
} done_msg;

typedef struct {
    engine_ctx *e;
    int ranks;
    int *busy_node; /* per rank: the node it runs, or -1 */
} remote_ctx;

/* Plan message: ok flag, then one byte per run (1 = to do). */
pl_status engine_mpi_plan(engine_ctx *e, const bool *todo, pl_error *err) {
    size_t n = (size_t)e->exp->n_runs;
    uint8_t *msg = pl_alloc(n + 1, 1, err);
    if (msg == NULL) return PL_ERR_NOMEM;
    msg[0] = todo != NULL;
    for (size_t r = 0; r < n; r++) msg[1 + r] = todo != NULL && todo[r];
    pl_status st = pl_mpi_bcast(msg, n + 1, err);
    pl_free(msg);
    e->mpi_planned = true;
    e->mpi_stopped = todo == NULL; /* no plan: the workers return at once */
    return st;
}

static void stop_workers(engine_ctx *e) {
    int32_t stop = -1;
    for (int w = 1; w < pl_mpi_size(); w++) pl_mpi_send(w, TAG_WORK, &stop, sizeof stop, NULL);
    e->mpi_stopped = true;
}

void engine_mpi_release(engine_ctx *e) {
    pl_error ignored;
    if (!e->mpi_planned) engine_mpi_plan(e, NULL, &ignored);
    if (!e->mpi_stopped) stop_workers(e);
}

static pl_status remote_start(void *ctx, int n, pl_error *err) {
    remote_ctx *rc = ctx;
    for (int w = 1; w < rc->ranks; w++) {
        if (rc->busy_node[w] >= 0) continue;
        int32_t node = n;
        PL_TRY(pl_mpi_send(w, TAG_WORK, &node, sizeof node, err));
        rc->busy_node[w] = n;
        return PL_OK;
    }
    return PL_ERROR(err, PL_ERR_INTERNAL, "no idle MPI rank for node %d", n);
}

static pl_status remote_wait(void *ctx, int *n, bool *ok, char *reason, size_t cap, pl_error *err) {
    remote_ctx *rc = ctx;
    done_msg msg;
    int src;
    PL_TRY(pl_mpi_recv(TAG_DONE, &src, &msg, sizeof msg, NULL, err));
    if (src <= 0 || src >= rc->ranks || rc->busy_node[src] != msg.node)
        return PL_ERROR(err, PL_ERR_INTERNAL, "MPI rank %d reported node %d it was not given", src, (int)msg.node);
    rc->busy_node[src] = -1;
    *n = msg.node;
    *ok = msg.ok != 0;
    msg.reason[REASON_MAX - 1] = '\0';
    snprintf(reason, cap, "%s", msg.reason);
    return PL_OK;
}

pl_status engine_mpi_schedule(engine_ctx *e, const pl_sched_ops *ops, pl_sched_result *res,
                              pl_error *err) {
    remote_ctx rc = {e, pl_mpi_size(), NULL};
    if (rc.ranks < 2)
        return PL_ERROR(err, PL_ERR_CONFIG, "--mpi needs at least 2 ranks (rank 0 hands out the runs, the "
                        "others run them): mpirun -n 3 prunelab run EXPERIMENT --mpi");
    rc.busy_node = pl_alloc((size_t)rc.ranks, sizeof *rc.busy_node, err);
    if (rc.busy_node == NULL) return PL_ERR_NOMEM;
    for (int w = 0; w < rc.ranks; w++) rc.busy_node[w] = -1;
    pl_sched_remote remote = {rc.ranks - 1, &rc, remote_start, remote_wait};
    pl_sched_ops with_remote = *ops;
    with_remote.remote = &remote;
    memset(res, 0, sizeof *res);
    pl_status st = e->graph.n_nodes > 0 ? pl_schedule(&e->graph, &with_remote, res, err) : PL_OK;
    /* After a scheduling error some workers may still be running: collect their answers so
     * that their results land before rank 0 writes the index. */
    int out = 0;
    for (int w = 1; st != PL_OK && w < rc.ranks; w++) out += rc.busy_node[w] >= 0;
    for (; out > 0; out--) {
        int n;
        bool ok;
        char reason[REASON_MAX];
        pl_error ignored;
        if (remote_wait(&rc, &n, &ok, reason, sizeof reason, &ignored) != PL_OK) break;
    }
    stop_workers(e);
    pl_free(rc.busy_node);
    return st;
}

pl_status engine_mpi_worker(engine_ctx *e, pl_error *err) {
    size_t n = (size_t)e->exp->n_runs;
    uint8_t *msg = pl_alloc(n + 1, 1, err);
    bool *todo = pl_alloc(n + 1, sizeof *todo, err);
    if (msg == NULL || todo == NULL) {
        pl_free(msg);
        pl_free(todo);
        return PL_ERR_NOMEM;
    }
    pl_status st = pl_mpi_bcast(msg, n + 1, err);
    bool planned = st == PL_OK && msg[0];
    for (size_t r = 0; r < n; r++) todo[r] = msg[1 + r] != 0;
    pl_free(msg);
    if (!planned) { /* rank 0 failed before planning and reports why */
        pl_free(todo);
        return st;
    }
    e->elsewhere = pl_alloc(n + 1, sizeof *e->elsewhere, err);
    if (e->elsewhere == NULL) st = PL_ERR_NOMEM;
    if (st == PL_OK) st = engine_read_settings(e, err);
    if (st == PL_OK) st = pl_engine_dirs(e->exp, e->results, sizeof e->results, e->exp_dir, sizeof e->exp_dir, err);
    if (st == PL_OK) st = pl_graph_build(e->exp, todo, e->results, &e->memo, &e->graph, err);
    e->memo.frozen = true; /* job threads only read it now */
    bool graph = st == PL_OK;
    if (st == PL_OK) st = engine_open_data(e, todo, err);
    pl_sched_ops ops = {1, e->threads, true, NULL, e, engine_exec_node, NULL, NULL, NULL};
    /* Even after a setup error, answer every node (failed) until told to stop, so that rank 0
     * fails those runs with the reason instead of waiting forever. */
    for (;;) {
        int32_t node;
        int src;
        pl_error rerr;
        if (pl_mpi_recv(TAG_WORK, &src, &node, sizeof node, NULL, &rerr) != PL_OK) break;
        if (node < 0) break;
        done_msg done = {.node = node};
        if (st != PL_OK) {
            snprintf(done.reason, sizeof done.reason, "MPI rank %d could not set up: %.900s", pl_mpi_rank(), err->message);
        } else if (!graph || node >= e->graph.n_nodes) {
            snprintf(done.reason, sizeof done.reason, "MPI rank %d has no node %d", pl_mpi_rank(), (int)node);
        } else {
            done.ok = pl_sched_run_forked(&ops, node, done.reason, sizeof done.reason) == PL_OK;
        }
        if (pl_mpi_send(0, TAG_DONE, &done, sizeof done, &rerr) != PL_OK) break;
    }
    if (e->have_data) pl_data_close(&e->data);
    if (graph) pl_graph_free(&e->graph);
    pl_hash_memo_free(&e->memo);
    pl_free(e->elsewhere);
    pl_free(todo);
    return st;
}
