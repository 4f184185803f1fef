/* test_engine_bench.c - the bench stage through the engine (every latency and throughput
 * summary metric named as documented, parameters and FLOPs), its FLOP count against a
 * count by hand, the scheduler running a node that must run alone while nothing else
 * runs, and bad bench settings refused at validation with file:line. */
#include "engine_testutil.h"

#include <pthread.h>
#include <time.h>

#include "engine/graph.h"
#include "engine/scheduler.h"
#include "model/vlm.h"
#include "tune/latency.h"

Test(engine_bench, bench_reports_latency_throughput_and_flops, .timeout = 120) {
    char dir[64], override[128], index[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(override, sizeof override, "engine.results_dir=%s", dir);
    const char *ov[] = {override};
    pl_experiment *exp = NULL;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("tests/data/engine/bench.yaml", ov, 1, &exp, &err), PL_OK, "%s", err.message);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.completed, 2);
    snprintf(index, sizeof index, "%s/bench/index.tsv", dir);
    const char *id = exp->runs[0].run_id;
    const char *names[] = {"latency_ms_b1_t1", "latency_q1_ms_b1_t1", "latency_q3_ms_b1_t1",
                           "throughput_b1_t1", "latency_ms_b2_t1", "throughput_b2_t1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const double v = index_value(index, "run_id", id, names[i]);
        cr_assert(isfinite(v) && v > 0.0, "%s = %g", names[i], v);
    }
    cr_assert(index_value(index, "run_id", id, "latency_q1_ms_b1_t1") <=
              index_value(index, "run_id", id, "latency_q3_ms_b1_t1"));
    const double params = index_value(index, "run_id", id, "params");
    cr_assert(params > 5.4e5 && params < 5.6e5, "the tiny model: %g", params);
    cr_assert_leq(index_value(index, "run_id", id, "nonzero_params"), params);
    cr_assert_gt(index_value(index, "run_id", id, "flops_per_sample"), 1e6);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* The FLOP count of a one-block-per-module model without attention anywhere but the
 * language block, by hand. */
Test(engine_bench, decode_flops_follow_the_shapes) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = c.dim_query = c.dim_language = 8, c.heads = 2, c.num_queries = 2;
    c.layers_vision = c.layers_query = c.layers_language = 1;
    c.image_size = 14, c.patch_size = 7, c.vocab_size = 5, c.text_len = 4, c.aux_classes = 0;
    model_blocks_make_custom(&c);
    c.blocks.dims[MODULE_VISION][0] = (block_dims){0, 0, 3};
    c.blocks.dims[MODULE_BRIDGE][0] = (block_dims){0, 0, 0};
    c.blocks.dims[MODULE_LANGUAGE][0] = (block_dims){1, 0, 0};
    vlm m;
    cr_assert_eq(vlm_create(&m, &c, 1, NULL), PL_OK);
    /* vision: 4 patches: patch 2·49·8 + mlp 2·(8·3 + 3·8) per patch; bridge: proj 2·8·8 per
     * query (2); language, answer_start 1: prompt P = 2 + 2 = 4 positions, then one step
     * (text positions 2, 3: the step for position 2 runs at p = 4). Attention width 4:
     * qkv 2·8·12, proj 2·4·8 per row; pairs P² = 16 (the causal product is computed whole)
     * then p + 1 = 5; head 2·8·5 per row. */
    const double vision = 4 * (2.0 * 49 * 8 + 2.0 * (8 * 3 + 3 * 8));
    const double bridge = 2 * (2.0 * 8 * 8);
    const double row = 2.0 * 8 * 12 + 2.0 * 4 * 8 + 2.0 * 8 * 5;
    const double language = 4 * row + 4.0 * 4 * 16 + 1 * row + 4.0 * 4 * 5; /* prompt: all P² pairs */
    cr_assert_float_eq(latency_decode_flops(&m, 1), vision + bridge + language, 1e-6);
    vlm_free(&m);
}

/* A scheduler test: node 1 runs alone (graph.h); nodes 0, 2, 3 may share. Every node
 * records how many others ran during it. */
typedef struct {
    pthread_mutex_t mu;
    int running, overlap[4];
} alone_ctx;

static pl_status exec_node(void *ctx, int n, pl_error *err) {
    (void)err;
    alone_ctx *c = ctx;
    pthread_mutex_lock(&c->mu);
    int others = c->running++;
    if (others > c->overlap[n]) c->overlap[n] = others;
    pthread_mutex_unlock(&c->mu);
    nanosleep(&(struct timespec){0, 30 * 1000 * 1000}, NULL);
    pthread_mutex_lock(&c->mu);
    if (c->running - 1 > c->overlap[n]) c->overlap[n] = c->running - 1;
    c->running--;
    pthread_mutex_unlock(&c->mu);
    return PL_OK;
}

static void no_failure(void *ctx, int n, int origin, const char *reason) {
    (void)ctx, (void)n, (void)origin;
    cr_assert_fail("unexpected failure: %s", reason);
}

Test(engine_bench, a_node_that_runs_alone_runs_alone) {
    pl_graph_node nodes[4] = {{.type = PL_NODE_RUN, .parent = -1},
                              {.type = PL_NODE_RUN, .parent = -1, .alone = true},
                              {.type = PL_NODE_RUN, .parent = -1},
                              {.type = PL_NODE_RUN, .parent = -1}};
    pl_graph g = {.nodes = nodes, .n_nodes = 4};
    alone_ctx c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    pl_sched_ops ops = {.jobs = 2, .threads = 1, .ctx = &c, .exec = exec_node, .failed = no_failure};
    pl_sched_result res;
    cr_assert_eq(pl_schedule(&g, &ops, &res, NULL), PL_OK);
    cr_assert_eq(res.executed, 4);
    cr_assert_eq(c.overlap[1], 0, "the alone node shared the machine with %d others", c.overlap[1]);
    cr_assert_gt(c.overlap[2] + c.overlap[3], 0, "the others still run two at a time");
}
