/* test_engine_order.c - the scheduler goes run by run: a run's node starts as soon as its
 * last model stage is done, before the model stages of later runs, with the thread and the
 * process drivers, and with some model stages already cached. */
#include <criterion/criterion.h>

#include "engine/graph.h"
#include "engine/scheduler.h"

typedef struct {
    int order[16], count;
} order_ctx;

static pl_status exec_ok(void *ctx, int n, pl_error *err) {
    (void)ctx, (void)n, (void)err;
    return PL_OK;
}

static void no_failure(void *ctx, int n, int origin, const char *reason) {
    (void)ctx, (void)n, (void)origin;
    cr_assert_fail("unexpected failure: %s", reason);
}

static void record_end(void *ctx, int n, bool ok) {
    order_ctx *c = ctx;
    cr_assert(ok);
    if (c->count < 16) c->order[c->count++] = n;
}

/* Three runs sharing one pruned model, each with its own recovery (graph.h numbering: model
 * nodes first, in the order their first run needs them, then the run nodes). */
static void sweep_graph(pl_graph_node nodes[7], pl_graph *g) {
    const pl_graph_node shape[7] = {
        {.type = PL_NODE_MODEL, .run = 0, .stage = 0, .parent = -1}, /* prune, shared */
        {.type = PL_NODE_MODEL, .run = 0, .stage = 1, .parent = 0},  /* finetune, run 0 */
        {.type = PL_NODE_MODEL, .run = 1, .stage = 1, .parent = 0},  /* finetune, run 1 */
        {.type = PL_NODE_MODEL, .run = 2, .stage = 1, .parent = 0},  /* finetune, run 2 */
        {.type = PL_NODE_RUN, .run = 0, .parent = 1},
        {.type = PL_NODE_RUN, .run = 1, .parent = 2},
        {.type = PL_NODE_RUN, .run = 2, .parent = 3},
    };
    for (int i = 0; i < 7; i++) nodes[i] = shape[i];
    *g = (pl_graph){.nodes = nodes, .n_nodes = 7, .n_model = 4, .n_runs = 3};
}

/* Schedules g with `jobs` jobs, recording the order nodes end in c; the nodes executed. */
static int schedule_in_order(const pl_graph *g, int jobs, bool processes, order_ctx *c) {
    pl_sched_ops ops = {.jobs = jobs, .threads = 1, .processes = processes, .ctx = c,
                        .exec = exec_ok, .failed = no_failure, .ended = record_end};
    pl_sched_result res;
    cr_assert_eq(pl_schedule(g, &ops, &res, NULL), PL_OK);
    return res.executed;
}

static void check_run_by_run(bool processes) {
    pl_graph_node nodes[7];
    pl_graph g;
    sweep_graph(nodes, &g);
    order_ctx c = {0};
    cr_assert_eq(schedule_in_order(&g, 1, processes, &c), 7);
    const int expected[7] = {0, 1, 4, 2, 5, 3, 6};
    cr_assert_eq(c.count, 7);
    for (int i = 0; i < 7; i++)
        cr_assert_eq(c.order[i], expected[i], "step %d ran node %d, expected %d", i, c.order[i],
                     expected[i]);
}

Test(engine_order, threads_finish_each_run_before_starting_the_next) { check_run_by_run(false); }

Test(engine_order, processes_finish_each_run_before_starting_the_next) { check_run_by_run(true); }

/* Cached model nodes count as done from the start: run 1, whose stages are all cached,
 * goes before run 2's recovery is computed. */
Test(engine_order, a_cached_model_stage_is_skipped_and_order_kept) {
    pl_graph_node nodes[7];
    pl_graph g;
    sweep_graph(nodes, &g);
    nodes[0].cached = true; /* the shared pruned model exists already */
    nodes[2].cached = true; /* so does run 1's recovery */
    order_ctx c = {0};
    cr_assert_eq(schedule_in_order(&g, 1, false, &c), 5);
    const int expected[5] = {1, 4, 5, 3, 6};
    cr_assert_eq(c.count, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(c.order[i], expected[i]);
}

/* The started callback (what the sweep's ETA times runs by): once per node that runs, before
 * that node ends, with each driver; never for a cached node. */
typedef struct {
    int started[8], ended[8], ends_before_start;
} start_ctx;

static void count_start(void *ctx, int n) {
    start_ctx *c = ctx;
    c->started[n]++;
}

static void count_end(void *ctx, int n, bool ok) {
    start_ctx *c = ctx;
    cr_assert(ok);
    c->ended[n]++;
    c->ends_before_start += c->started[n] == 0;
}

static void check_started_once(int jobs, bool processes) {
    pl_graph_node nodes[7];
    pl_graph g;
    sweep_graph(nodes, &g);
    nodes[2].cached = true;
    start_ctx c = {0};
    pl_sched_ops ops = {.jobs = jobs, .threads = 1, .processes = processes, .ctx = &c,
                        .exec = exec_ok, .failed = no_failure, .ended = count_end,
                        .started = count_start};
    pl_sched_result res;
    cr_assert_eq(pl_schedule(&g, &ops, &res, NULL), PL_OK);
    for (int n = 0; n < 7; n++) {
        cr_expect_eq(c.started[n], n == 2 ? 0 : 1, "node %d started %d times", n, c.started[n]);
        cr_expect_eq(c.ended[n], n == 2 ? 0 : 1, "node %d ended %d times", n, c.ended[n]);
    }
    cr_expect_eq(c.ends_before_start, 0);
}

Test(engine_order, started_once_per_node_one_job) { check_started_once(1, false); }

Test(engine_order, started_once_per_node_two_jobs) { check_started_once(2, false); }

Test(engine_order, started_once_per_node_processes) { check_started_once(2, true); }

/* What the README says of runs that time a bench stage (their run nodes run alone): with
 * several jobs on threads they wait for the serial pass after every model stage. */
Test(engine_order, alone_run_nodes_wait_for_the_serial_pass_with_job_threads) {
    pl_graph_node nodes[7];
    pl_graph g;
    sweep_graph(nodes, &g);
    for (int n = 4; n < 7; n++) nodes[n].alone = true;
    order_ctx c = {0};
    cr_assert_eq(schedule_in_order(&g, 2, false, &c), 7);
    cr_assert_eq(c.count, 7);
    for (int i = 0; i < 4; i++) cr_expect_lt(c.order[i], 4, "step %d ran node %d", i, c.order[i]);
    for (int i = 4; i < 7; i++) cr_expect_eq(c.order[i], i, "step %d ran node %d", i, c.order[i]);
}
