/* engine_parts.h - the state one engine invocation shares between engine.c (setup,
 * scheduling, report) and execute.c (running one node). Internal to engine/. */
#ifndef PL_ENGINE_ENGINE_PARTS_H
#define PL_ENGINE_ENGINE_PARTS_H

#include "data/dataset.h"
#include "engine/engine.h"
#include "engine/graph.h"

enum { ENGINE_DIR_MAX = 1024, ENGINE_PATH_MAX = 4096 };

typedef enum { FAULT_NONE, FAULT_NAN, FAULT_CRASH } engine_fault;

typedef struct {
    const pl_experiment *exp;
    const pl_engine_options *opt;
    pl_graph graph;
    char results[ENGINE_DIR_MAX], exp_dir[ENGINE_DIR_MAX];
    int jobs, threads, flush_every;
    pl_data data;           /* opened once; nodes use views with their run's data config */
    bool have_data;
    engine_fault fault;
    long long fault_seed;
    int computed_elsewhere; /* model nodes another process computed while we waited (atomic) */
    bool *elsewhere;        /* per run: left to another process, which runs or ran it */
    struct {                /* run nodes ended so far (scheduler thread / parent only) */
        int total, done, failed;
        double started;     /* wall time when scheduling began */
    } progress;
} engine_ctx;

/* Runs node n of e->graph (scheduler exec callback). */
pl_status engine_exec_node(void *ctx, int n, pl_error *err);

/* Marks run r running (started when it was not already) with a fresh heartbeat. */
void engine_touch_run(const engine_ctx *e, int r);

/* The run's directory. */
void engine_run_dir(const engine_ctx *e, int r, char *buf, size_t cap);

#endif
