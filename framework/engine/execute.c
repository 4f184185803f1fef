/* execute.c - running one node of the stage graph: a model stage (load the parent model
 * from the cache, run the stage, record its metrics, store its output in the cache) or a
 * run (metrics.h5 with every stage: cached ones replayed, per-run ones executed). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "config/arena.h"
#include "config/canon.h"
#include "core/alloc.h"
#include "core/gemm_bf16.h"
#include "core/timing.h"
#include "engine/cache.h"
#include "engine/cache_seal.h"
#include "engine/engine_parts.h"
#include "engine/fsutil.h"
#include "engine/lock.h"
#include "engine/loss_trend.h"
#include "engine/record.h"
#include "engine/run_dir.h"
#include "engine/run_record.h"
#include "engine/settings.h"
#include "engine/stage.h"
#include "io/h5_run.h"
#include "model/checkpoint.h"

enum { HEARTBEAT_SECONDS = 2 };

void engine_run_dir(const engine_ctx *e, int r, char *buf, size_t cap) {
    pl_run_dir_path(e->results, e->exp->name, e->exp->runs[r].run_id, buf, cap);
}

void engine_touch_run(const engine_ctx *e, int r) {
    char dir[ENGINE_PATH_MAX];
    engine_run_dir(e, r, dir, sizeof dir);
    pl_run_status s;
    pl_run_status_read(dir, &s);
    if (s.state == PL_RUN_COMPLETED) return; /* another process finished it meanwhile */
    double now = pl_wall_time();
    if (s.state != PL_RUN_RUNNING) s.started = now;
    s.state = PL_RUN_RUNNING;
    s.heartbeat = now;
    s.finished = 0;
    s.reason[0] = '\0';
    pl_run_status_write(dir, &s, NULL); /* a missed heartbeat is not worth failing a run */
}

/* Progress of a node: heartbeats for the runs waiting on it, echo to the log. */
typedef struct {
    const engine_ctx *e;
    int node;          /* model node (its dependents get heartbeats) */
    int run;           /* run node: its run; else -1 */
    double last_beat;
    char prefix[64];
    const pl_metrics_sink *inner; /* run nodes: the metrics.h5 sink */
    bool echo;
} progress_ctx;

static void beat(progress_ctx *p) {
    double now = pl_now();
    if (now - p->last_beat < HEARTBEAT_SECONDS) return;
    p->last_beat = now;
    const pl_graph *g = &p->e->graph;
    if (p->run >= 0) {
        engine_touch_run(p->e, p->run);
        return;
    }
    for (int r = 0; r < g->n_runs; r++) {
        if (g->run_node[r] < 0) continue;
        for (int at = g->offset[r]; at < g->offset[r + 1]; at++)
            if (g->stage_node[at] == p->node) {
                engine_touch_run(p->e, r);
                break;
            }
    }
}

static void on_progress(void *ctx, const char *line) {
    progress_ctx *p = ctx;
    if (p->inner) pl_metric_progress(p->inner, line);
    if (p->echo && p->e->opt->log) {
        fprintf(p->e->opt->log, "[%s] %s\n", p->prefix, line);
        fflush(p->e->opt->log);
    }
    beat(p);
}

/* Forwards metrics to p->inner and progress through on_progress. */
static pl_status fwd_step(void *ctx, const char *n, int64_t s, double v, pl_error *err) {
    beat(ctx); /* every logged step keeps the heartbeat fresh, not just progress lines */
    return pl_metric_step(((progress_ctx *)ctx)->inner, n, s, v, err);
}
static pl_status fwd_eval(void *ctx, const char *n, int64_t s, double v, pl_error *err) {
    beat(ctx);
    return pl_metric_eval(((progress_ctx *)ctx)->inner, n, s, v, err);
}
static pl_status fwd_summary(void *ctx, const char *n, double v, pl_error *err) {
    return pl_metric_summary(((progress_ctx *)ctx)->inner, n, v, err);
}

/* A view of the shared data with this run's data config (or its own copy when the run
 * reads other images or another TSV). */
static pl_status data_for(const engine_ctx *e, const cfg_node *config, pl_data *view, bool *own,
                          pl_error *err) {
    pl_data_config dc;
    PL_TRY(settings_data(config, &dc, err));
    *own = !e->have_data || !pl_data_same_source(&e->data.config, &dc);
    if (*own) return pl_data_open(view, &dc, err);
    *view = e->data;
    view->config = dc;
    return PL_OK;
}

static bool fault_hits(const engine_ctx *e, engine_fault kind, int r) {
    return e->fault == kind && e->exp->runs[r].seed == e->fault_seed;
}

/* TEST ONLY: the stage section with lr = 1e30, so the weights overflow and the loss turns
 * NaN/inf within a few steps (engine.h, pl_engine_options.fault). */
static const cfg_node *nan_section(cfg_arena *a, const cfg_node *section, pl_error *err) {
    cfg_node *nan_lr = cfg_new_float(a, 1e30, section->pos, err), *out;
    if (nan_lr == NULL || cfg_set(a, section, "lr", nan_lr, &out, err) != PL_OK) return NULL;
    return out;
}

static pl_status load_model(const engine_ctx *e, const char *key, int batch, vlm *m, pl_error *err) {
    char path[ENGINE_PATH_MAX];
    pl_cache_model_path(e->results, key, path, sizeof path);
    return vlm_load(m, path, batch, err);
}

static pl_status run_model_stage(engine_ctx *e, const pl_graph_node *node, const pl_data *data,
                                 pl_record *rec, vlm *in, vlm *out, pl_error *err) {
    const pl_run *run = &e->exp->runs[node->run];
    const char *kind;
    const cfg_node *section = cfg_stage_at(run->config, node->stage, &kind);
    const pl_stage_kind *k = pl_stage_find(kind);
    bool have_in = node->parent >= 0;
    if (have_in)
        PL_TRY(load_model(e, e->graph.nodes[node->parent].key, pl_stage_input_batch(k, section), in, err));
    cfg_arena arena;
    cfg_arena_init(&arena);
    pl_status st = PL_OK;
    if (fault_hits(e, FAULT_NAN, node->run) && strcmp(kind, "pretrain") == 0) {
        section = nan_section(&arena, section, err);
        if (section == NULL) st = err ? err->status : PL_ERR_NOMEM;
    }
    pl_metrics_sink sink = pl_record_sink(rec);
    if (st == PL_OK) st = k->run(have_in ? in : NULL, section, run->config, data, out, &sink, err);
    cfg_arena_free(&arena);
    if (st == PL_OK && out->params.data == NULL)
        st = PL_ERROR(err, PL_ERR_INTERNAL, "stage '%s' reported success but produced no model", kind);
    if (st == PL_OK) st = pl_loss_trend_note(rec, kind, err); /* saved and replayed with the rest */
    if (st != PL_OK) return st;
    char path[ENGINE_PATH_MAX];
    PL_TRY(pl_cache_unseal(e->results, node->key, err));
    pl_cache_record_path(e->results, node->key, path, sizeof path);
    PL_TRY(pl_record_save(rec, path, err)); /* metrics, model, seal: see cache_seal.h */
    pl_cache_model_path(e->results, node->key, path, sizeof path);
    checkpoint_meta meta[] = {{"stage", kind}, {"cache_key", node->key}, {"first_run", run->run_id}};
    PL_TRY(vlm_save(out, path, meta, 3, err));
    return pl_cache_seal(e->results, node->key, err);
}

static void log_line(const engine_ctx *e, const char *fmt, const char *a, const char *b) {
    if (e->opt->log == NULL) return;
    fprintf(e->opt->log, fmt, a, b);
    fflush(e->opt->log);
}

/* Takes the lock of the node's cache entry (engine/lock.h), waiting while another process
 * holds it. *reuse when the entry exists and is good by then (the lock is released again):
 * another process computed it since this one planned. */
static pl_status lock_entry(engine_ctx *e, const pl_graph_node *node, const char *kind,
                            pl_lock *lock, bool *reuse, pl_error *err) {
    char path[ENGINE_PATH_MAX], dir[ENGINE_DIR_MAX + 8];
    snprintf(dir, sizeof dir, "%s/cache", e->results);
    PL_TRY(pl_mkdirs(dir, err));
    pl_cache_lock_path(e->results, node->key, path, sizeof path);
    bool held;
    *reuse = false;
    PL_TRY(pl_lock_try(path, lock, &held, err));
    char key[16];
    snprintf(key, sizeof key, "%.12s", node->key);
    if (!held) {
        log_line(e, "stage %s (cache key %s): another process is computing it; waiting\n", kind, key);
        PL_TRY(pl_lock_wait(path, lock, err));
    }
    pl_entry_state state;
    pl_status st = pl_cache_check(e->results, node->key, e->opt->log, &state, err);
    *reuse = st == PL_OK && state == PL_ENTRY_GOOD;
    if (st != PL_OK || *reuse) pl_lock_release(lock);
    if (*reuse) {
        __atomic_add_fetch(&e->computed_elsewhere, 1, __ATOMIC_RELAXED);
        log_line(e, "stage %s (cache key %s): computed by another process; reusing it\n", kind, key);
    }
    return st;
}

/* exec_model with the entry's lock held. */
static pl_status compute_model(engine_ctx *e, const pl_graph_node *node, const pl_run *run,
                               const char *kind, int n, pl_error *err) {
    progress_ctx p = {.e = e, .node = n, .run = -1, .last_beat = -1e9, .echo = e->opt->echo};
    snprintf(p.prefix, sizeof p.prefix, "%.12s %s", node->key, kind);
    beat(&p);
    if (e->opt->log) {
        fprintf(e->opt->log, "stage %s (cache key %.12s, first needed by run %s): computing\n", kind,
                node->key, run->run_id);
        fflush(e->opt->log);
    }
    pl_data data;
    bool own;
    PL_TRY(data_for(e, run->config, &data, &own, err));
    pl_record rec;
    pl_record_init(&rec);
    rec.on_progress = on_progress, rec.progress_ctx = &p;
    vlm in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    pl_status st = run_model_stage(e, node, &data, &rec, &in, &out, err);
    vlm_free(&in);
    vlm_free(&out);
    pl_record_free(&rec);
    if (own) pl_data_close(&data);
    return st;
}

static pl_status exec_model(engine_ctx *e, int n, pl_error *err) {
    const pl_graph_node *node = &e->graph.nodes[n];
    const pl_run *run = &e->exp->runs[node->run];
    const char *kind;
    cfg_stage_at(run->config, node->stage, &kind);
    pl_lock lock;
    bool reuse;
    PL_TRY(lock_entry(e, node, kind, &lock, &reuse, err));
    if (reuse) return PL_OK;
    pl_status st = compute_model(e, node, run, kind, n, err);
    pl_lock_release(&lock);
    return st;
}

/* ---- run nodes ------------------------------------------------------------------------- */

typedef struct {
    engine_ctx *e;
    int r;
    pl_h5_run *h5;
    FILE *log;
    pl_data data;
    const char *last_key; /* the latest model stage's key */
} run_state;

static pl_status run_stage(run_state *rs, int i, pl_error *err) {
    engine_ctx *e = rs->e;
    const pl_graph *g = &e->graph;
    const pl_run *run = &e->exp->runs[rs->r];
    const char *kind;
    const cfg_node *section = cfg_stage_at(run->config, i, &kind);
    const pl_stage_kind *k = pl_stage_find(kind);
    int at = g->offset[rs->r] + i, m = g->stage_node[at];
    char *yaml = cfg_to_yaml(section, err);
    if (yaml == NULL) return PL_ERR_NOMEM;
    pl_h5_stage_info info = {kind, yaml, g->keys[at],
                             m >= 0 && (g->nodes[m].cached || g->nodes[m].run != rs->r)};
    pl_h5_stage *st5;
    pl_status st = pl_h5_stage_begin(rs->h5, &info, &st5, err);
    pl_free(yaml);
    PL_TRY(st);
    pl_metrics_sink h5sink = pl_h5_stage_sink(st5, rs->log, false);
    progress_ctx p = {.e = e, .node = -1, .run = rs->r, .last_beat = -1e9, .inner = &h5sink};
    pl_metrics_sink sink = {&p, fwd_step, fwd_eval, fwd_summary, on_progress};
    if (m >= 0) { /* cached model stage: replay what it reported */
        char path[ENGINE_PATH_MAX];
        pl_cache_record_path(e->results, g->keys[at], path, sizeof path);
        pl_record rec;
        pl_record_init(&rec);
        st = pl_record_load(&rec, path, err);
        if (st == PL_OK) st = pl_record_replay(&rec, &sink, err);
        pl_record_free(&rec);
        rs->last_key = g->keys[at];
    } else {
        p.echo = e->opt->echo;
        snprintf(p.prefix, sizeof p.prefix, "run %s %s", run->run_id, kind);
        vlm in, out;
        memset(&in, 0, sizeof in);
        memset(&out, 0, sizeof out);
        st = rs->last_key ? load_model(e, rs->last_key, pl_stage_input_batch(k, section), &in, err)
                          : PL_ERROR(err, PL_ERR_CONFIG, "no model before this stage");
        if (st == PL_OK) st = k->run(&in, section, run->config, &rs->data, &out, &sink, err);
        vlm_free(&in);
        vlm_free(&out);
    }
    if (st != PL_OK) pl_error_wrap(err, "stage %d '%s'", i, kind);
    pl_error end_err;
    pl_status end = pl_h5_stage_end(st5, st == PL_OK ? "completed" : "failed", &end_err);
    if (st == PL_OK && end != PL_OK) {
        *err = end_err;
        st = end;
    }
    return st;
}

static pl_status run_all_stages(run_state *rs, const char *dir, pl_error *err) {
    engine_ctx *e = rs->e;
    const pl_run *run = &e->exp->runs[rs->r];
    char path[ENGINE_PATH_MAX + 16];
    char *yaml = cfg_to_yaml(run->config, err);
    if (yaml == NULL) return PL_ERR_NOMEM;
    char numerics[256] = "";
    for (int i = 0, at = 0; i < cfg_stage_count(run->config); i++) {
        const char *kind;
        const cfg_node *section = cfg_stage_at(run->config, i, &kind);
        const pl_stage_kind *k = pl_stage_find(kind);
        const int version = k != NULL ? pl_stage_numerics(k, section) : 0;
        if (version == 0 || strstr(numerics, kind) != NULL) continue;
        int w = snprintf(numerics + at, sizeof numerics - (size_t)at, "%s%s=%d", at ? ", " : "",
                         kind, version);
        if (w < 0 || at + w >= (int)sizeof numerics) break;
        at += w;
    }
    train_precision precision;
    char precision_text[128] = "fp32";
    if (settings_precision(run->config, &precision, err) != PL_OK) {
        pl_free(yaml);
        return PL_ERR_CONFIG;
    }
    if (precision == TRAIN_BF16) pl_bf16_describe(precision_text, sizeof precision_text);
    pl_h5_run_info info = {run->run_id, e->exp->name, yaml, (uint64_t)run->seed,
                           e->opt->git_commit, e->opt->git_dirty, e->jobs, e->threads,
                           e->flush_every, 5.0, numerics, precision_text};
    snprintf(path, sizeof path, "%s/metrics.h5", dir);
    pl_status st = pl_h5_run_create(path, &info, &rs->h5, err);
    pl_free(yaml);
    PL_TRY(st);
    int n = cfg_stage_count(run->config);
    for (int i = 0; i < n && st == PL_OK; i++) st = run_stage(rs, i, err);
    pl_error close_err;
    pl_status closed = pl_h5_run_close(rs->h5, st == PL_OK ? "completed" : "failed",
                                       st == PL_OK ? NULL : err->message, &close_err);
    rs->h5 = NULL;
    if (st == PL_OK && closed != PL_OK) {
        *err = close_err;
        st = closed;
    }
    return st;
}

/* Takes the run's lock; *skip when another process holds it (running elsewhere) or has
 * completed the run since this one planned (the lock is not held then). */
static pl_status lock_run(engine_ctx *e, int r, const char *dir, pl_lock *lock, bool *skip,
                          pl_error *err) {
    char path[ENGINE_PATH_MAX + 8];
    pl_run_lock_path(dir, path, sizeof path);
    bool held;
    PL_TRY(pl_lock_try(path, lock, &held, err));
    const char *id = e->exp->runs[r].run_id;
    if (!held) {
        e->elsewhere[r] = true; /* each run has one node: no other job writes this flag */
        log_line(e, "run %s is running elsewhere (another process holds %s); skipped\n", id, path);
        *skip = true;
        return PL_OK;
    }
    pl_run_status s;
    char h5[ENGINE_PATH_MAX + 16];
    pl_run_status_read(dir, &s);
    snprintf(h5, sizeof h5, "%s/metrics.h5", dir);
    *skip = s.state == PL_RUN_COMPLETED && pl_file_exists(h5);
    if (*skip) {
        e->elsewhere[r] = true;
        pl_lock_release(lock);
        log_line(e, "run %s was completed by another process; %s\n", id, "skipped");
    }
    return PL_OK;
}

/* exec_run with the run's lock held: only this process writes its files. */
static pl_status run_locked(engine_ctx *e, int r, const char *dir, pl_error *err) {
    char path[ENGINE_PATH_MAX + 16];
    engine_touch_run(e, r);
    if (fault_hits(e, FAULT_CRASH, r)) abort(); /* TEST ONLY: see pl_engine_options.fault */
    run_state rs = {.e = e, .r = r};
    snprintf(path, sizeof path, "%s/log.txt", dir);
    rs.log = fopen(path, "a");
    if (rs.log == NULL) return PL_ERROR(err, PL_ERR_IO, "%s: cannot open for appending", path);
    fprintf(rs.log, "--- run %s started at unix time %.0f\n", e->exp->runs[r].run_id, pl_wall_time());
    bool own;
    pl_status st = data_for(e, e->exp->runs[r].config, &rs.data, &own, err);
    if (st == PL_OK) {
        st = run_all_stages(&rs, dir, err);
        if (own) pl_data_close(&rs.data);
    }
    if (st == PL_OK)
        fprintf(rs.log, "--- run %s completed\n", e->exp->runs[r].run_id);
    else /* the log keeps where prunelab raised the error, whatever PRUNELAB_DEBUG says */
        fprintf(rs.log, "--- run %s failed: %s (raised at %s:%d)\n", e->exp->runs[r].run_id, err->message,
                err->src_file ? err->src_file : "?", err->src_line);
    fclose(rs.log);
    if (st != PL_OK) return st;
    /* The record (what the run was computed from, metrics.h5 sealed) before the status says
     * completed: a run is never completed without one (engine/run_record.h). */
    pl_run_record rec;
    PL_TRY(pl_run_record_of(&e->exp->runs[r], &e->memo, &rec, err));
    st = pl_run_record_write(dir, &rec, err);
    pl_run_record_free(&rec);
    PL_TRY(st);
    pl_run_status s;
    pl_run_status_read(dir, &s);
    s.state = PL_RUN_COMPLETED;
    s.finished = s.heartbeat = pl_wall_time();
    return pl_run_status_write(dir, &s, err);
}

static pl_status exec_run(engine_ctx *e, int n, pl_error *err) {
    int r = e->graph.nodes[n].run;
    char dir[ENGINE_PATH_MAX];
    engine_run_dir(e, r, dir, sizeof dir);
    pl_lock lock;
    bool skip;
    PL_TRY(lock_run(e, r, dir, &lock, &skip, err));
    if (skip) return PL_OK;
    pl_status st = run_locked(e, r, dir, err);
    pl_lock_release(&lock);
    return st;
}

pl_status engine_exec_node(void *ctx, int n, pl_error *err) {
    engine_ctx *e = ctx;
    pl_invocation_leave(&e->invocation); /* only in a forked child (engine/invocation.h) */
    return e->graph.nodes[n].type == PL_NODE_MODEL ? exec_model(e, n, err) : exec_run(e, n, err);
}
