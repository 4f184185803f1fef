/* engine_parts.h - the state one engine invocation shares between engine.c (setup,
 * scheduling, report) and execute.c (running one node). Internal to engine/. */
#ifndef PL_ENGINE_ENGINE_PARTS_H
#define PL_ENGINE_ENGINE_PARTS_H

#include "data/dataset.h"
#include "engine/engine.h"
#include "engine/graph.h"
#include "engine/invocation.h"
#include "engine/scheduler.h"
#include "engine/sweep_eta.h"

enum { ENGINE_DIR_MAX = 1024, ENGINE_PATH_MAX = 4096 };

typedef enum { FAULT_NONE, FAULT_NAN, FAULT_CRASH } engine_fault;

/* The clocks of the sweep's ETA (engine_eta.c): every node timed by its kind, the stage it
 * computes (a run node: its run's own evaluation) and whether it runs alone. Scheduler side
 * only (a job thread holding the scheduler's lock, or the parent process). */
typedef struct {
    int slots;            /* nodes that go at once: jobs, or MPI workers */
    int n_kinds;
    int *kind;            /* per node */
    double *started;      /* per node: wall time it started here, 0 = not yet */
    bool *ended;          /* per node */
    double *seconds;      /* per kind: summed over its nodes that succeeded after starting here */
    int *timed;           /* per kind: how many */
    pl_eta_kind *left;    /* per kind: scratch */
    double *ages;         /* per node: scratch */
} engine_eta;

typedef struct {
    const pl_experiment *exp;
    const pl_engine_options *opt;
    pl_graph graph;
    char results[ENGINE_DIR_MAX], exp_dir[ENGINE_DIR_MAX];
    int jobs, threads, flush_every;
    bool isolate;           /* engine.isolation: process (a forked child per node) */
    pl_data data;           /* opened once; nodes use views with their run's data config */
    bool have_data;
    engine_fault fault;
    long long fault_seed;
    int computed_elsewhere; /* model nodes another process computed while we waited (atomic) */
    bool *elsewhere;        /* per run: left to another process, which runs or ran it */
    pl_hash_memo memo;      /* content hashes of the files the keys read; frozen (read only)
                               once the graph is built, so job threads may share it */
    bool mpi_planned;       /* MPI rank 0: the workers have been told the plan */
    bool mpi_stopped;       /* ... and told to stop */
    struct {                /* run nodes ended so far (scheduler thread / parent only) */
        int total, done, failed;
        int nodes_ended;    /* every node: model stages and runs */
        double started;     /* wall time when scheduling began */
    } progress;
    engine_eta eta;
    pl_invocation invocation; /* what status reads about this live invocation */
} engine_ctx;

/* engine.threads resolved against the cores (and jobs), the fault hook; in engine.c. */
pl_status engine_read_settings(engine_ctx *e, pl_error *err);
/* Opens the data the first run to do uses (once per invocation). */
pl_status engine_open_data(engine_ctx *e, const bool *todo, pl_error *err);

/* MPI mode, rank 0 (engine_mpi.c): engine_mpi_plan tells the workers which runs to do
 * (they build the same graph from it); engine_mpi_schedule hands them its nodes and stops
 * them; engine_mpi_release, after an error, frees workers still waiting for either. */
pl_status engine_mpi_plan(engine_ctx *e, const bool *todo, pl_error *err);
pl_status engine_mpi_schedule(engine_ctx *e, const pl_sched_ops *ops, pl_sched_result *res,
                              pl_error *err);
void engine_mpi_release(engine_ctx *e);
/* MPI mode, every other rank: waits for the plan, then runs the nodes rank 0 sends, each
 * in a forked child, until told to stop. */
pl_status engine_mpi_worker(engine_ctx *e, pl_error *err);

/* The ETA's clocks (engine_eta.c): open once the graph is built (slots: nodes that go at
 * once), then a call as each node starts and ends; engine_eta_left gives the seconds the
 * sweep has left, or a negative value while no node of any kind has been timed. */
pl_status engine_eta_open(engine_ctx *e, int slots, pl_error *err);
void engine_eta_started(engine_ctx *e, int n, double now);
void engine_eta_ended(engine_ctx *e, int n, bool ok, double now);
double engine_eta_left(engine_ctx *e, double now);
void engine_eta_close(engine_ctx *e);

/* Runs node n of e->graph (scheduler exec callback). */
pl_status engine_exec_node(void *ctx, int n, pl_error *err);

/* Marks run r running (started when it was not already) with a fresh heartbeat. */
void engine_touch_run(const engine_ctx *e, int r);

/* The run's directory. */
void engine_run_dir(const engine_ctx *e, int r, char *buf, size_t cap);

#endif
