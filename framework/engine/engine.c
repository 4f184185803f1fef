/* engine.c - one `prunelab run`: settings, results directories, which runs to do, the stage
 * graph, scheduling, failure bookkeeping and the final index and summary (see engine.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "engine/cache.h"
#include "engine/cache_seal.h"
#include "engine/collect.h"
#include "engine/engine_parts.h"
#include "engine/exp_state.h"
#include "engine/fsutil.h"
#include "engine/lock.h"
#include "engine/mpi_comm.h"
#include "engine/preflight.h"
#include "engine/run_dir.h"
#include "engine/run_record.h"
#include "engine/scheduler.h"
#include "engine/settings.h"
#include "engine/stage.h"
#include "engine/summary_table.h"

static void note(const engine_ctx *e, const char *fmt, const char *a, const char *b) {
    if (e->opt->log == NULL) return;
    fprintf(e->opt->log, fmt, a, b);
    fflush(e->opt->log);
}

pl_status pl_engine_dirs(const pl_experiment *exp, char *results, size_t results_cap,
                         char *exp_dir, size_t exp_dir_cap, pl_error *err) {
    cfg_engine_settings es;
    PL_TRY(settings_engine(exp->base, &es, err));
    const char *dir = es.results_dir;
    if ((size_t)snprintf(results, results_cap, "%s", dir) >= results_cap ||
        (size_t)snprintf(exp_dir, exp_dir_cap, "%s/%s", dir, exp->name) >= exp_dir_cap)
        return PL_ERROR(err, PL_ERR_CONFIG, "engine.results_dir '%s' is too long", dir);
    return PL_OK;
}

pl_status engine_read_settings(engine_ctx *e, pl_error *err) {
    cfg_engine_settings es;
    PL_TRY(settings_engine(e->exp->base, &es, err));
    const long long jobs = es.jobs, threads = es.threads;
    e->isolate = es.isolation == CFG_ISOLATION_PROCESS;
    int cores = pl_cores();
    e->jobs = (int)(jobs < 1 ? 1 : jobs > 256 ? 256 : jobs);
    int sharing = e->jobs; /* processes of this machine running stages at once */
    if (e->opt->mpi) {     /* one stage per rank; OpenMPI says how many ranks share this node */
        const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
        sharing = local && atoi(local) > 0 ? atoi(local) : 1;
    }
    e->threads = threads > 0 ? (int)threads : (cores / sharing > 0 ? cores / sharing : 1);
    e->flush_every = es.flush_every;
    if (e->opt->log && !e->opt->mpi && e->jobs * e->threads > cores)
        fprintf(e->opt->log, "note: engine.jobs %d x engine.threads %d exceeds the %d cores, as asked\n",
                e->jobs, e->threads, cores);
    const char *f = e->opt->fault;
    if (f && *f) {
        const char *at = strstr(f, ":seed=");
        e->fault = strncmp(f, "nan:", 4) == 0 ? FAULT_NAN : strncmp(f, "crash:", 6) == 0 ? FAULT_CRASH : FAULT_NONE;
        if (e->fault == FAULT_NONE || at == NULL)
            return PL_ERROR(err, PL_ERR_INVALID, "test fault '%s': use nan:seed=N or crash:seed=N", f);
        e->fault_seed = atoll(at + 6);
    }
    return PL_OK;
}

/* The record of this invocation merged into experiment.state (engine/exp_state.h): its
 * aliases join every earlier invocation's, whatever the experiment file says now. A damaged
 * state is rebuilt from the run folders first. */
static pl_status merge_state(engine_ctx *e, pl_exp_state *state, const char *hash, bool *changed,
                             pl_error *err) {
    *changed = state->spec_sha256[0] && strcmp(state->spec_sha256, hash) != 0;
    if (state->damaged) {
        pl_index old;
        PL_TRY(pl_collect(e->exp_dir, false, &old, err));
        if (e->opt->log)
            fprintf(e->opt->log, "warning: %s/experiment.state was damaged (%s); rebuilt from the %d run "
                    "folders there\n", e->exp_dir, state->why, old.n_rows);
        pl_status st = PL_OK;
        for (int a = 0; st == PL_OK && a < old.n_axes; a++)
            st = pl_exp_state_add_alias(state, old.aliases[a], old.alias_paths[a], err);
        pl_index_free(&old);
        PL_TRY(st);
    }
    snprintf(state->spec_sha256, sizeof state->spec_sha256, "%s", hash);
    pl_free(state->spec_path);
    if ((state->spec_path = pl_strdup(e->exp->path, err)) == NULL) return PL_ERR_NOMEM;
    state->started = pl_wall_time();
    state->jobs = e->jobs, state->threads = e->threads;
    for (int a = 0; a < e->exp->n_axes; a++)
        PL_TRY(pl_exp_state_add_alias(state, e->exp->aliases[a], e->exp->paths[a], err));
    return PL_OK;
}

/* Tells at once what else the results folder holds: runs of earlier invocations (other
 * overrides, earlier versions of the file), all shown beside this one's. */
static pl_status report_earlier_runs(engine_ctx *e, bool changed, pl_error *err) {
    if (e->opt->log == NULL) return PL_OK;
    pl_index idx;
    PL_TRY(pl_collect(e->exp_dir, false, &idx, err));
    int earlier = 0;
    for (int r = 0; r < idx.n_rows; r++) {
        bool mine = false;
        for (int q = 0; q < e->exp->n_runs && !mine; q++) mine = strcmp(e->exp->runs[q].run_id, idx.rows[r].run_id) == 0;
        earlier += !mine;
    }
    FILE *log = e->opt->log;
    if (changed)
        fprintf(log, "note: %s changed since the last invocation; completed runs whose resolved config "
                "is unchanged are kept, the others get new run ids\n", e->exp->path);
    if (earlier > 0)
        fprintf(log, "note: %s holds %d run%s of earlier invocations (other overrides or versions of %s) "
                "besides this one's; index.tsv, status, export and plot show them all, with a column for "
                "every config key whose value differs between them\n", e->exp_dir, earlier,
                earlier == 1 ? "" : "s", e->exp->path);
    fflush(log);
    pl_index_free(&idx);
    return PL_OK;
}

/* Compares the experiment file with the last invocation's and records this one, holding
 * experiment.lock so that invocations starting together both keep their runs. */
static pl_status experiment_state(engine_ctx *e, bool *changed, pl_error *err) {
    char *text, hash[CFG_HASH_HEX], lock_path[ENGINE_DIR_MAX + 32];
    size_t len;
    PL_TRY(pl_read_file(e->exp->path, &text, &len, err));
    pl_status st = cfg_sha256_hex(text, len, hash, err);
    pl_free(text);
    PL_TRY(st);
    pl_exp_state_lock_path(e->exp_dir, lock_path, sizeof lock_path);
    pl_lock lock;
    PL_TRY(pl_lock_wait(lock_path, &lock, err));
    pl_exp_state state;
    st = pl_exp_state_read(e->exp_dir, &state, err);
    if (st == PL_OK) {
        st = merge_state(e, &state, hash, changed, err);
        if (st == PL_OK) st = pl_exp_state_write(e->exp_dir, &state, err);
        pl_exp_state_free(&state);
    }
    pl_lock_release(&lock);
    PL_TRY(st);
    return report_earlier_runs(e, *changed, err);
}

/* The verdict on run r, whose status says completed (engine/run_record.h); *now gets the
 * record it would have now (free it). */
static pl_status judge(engine_ctx *e, int r, const char *dir, pl_run_record *now, pl_record_verdict *verdict,
                       char *why, size_t cap, pl_error *err) {
    PL_TRY(pl_run_record_of(&e->exp->runs[r], &e->memo, now, err));
    *verdict = pl_run_judge(dir, e->results, now, why, cap);
    return PL_OK;
}

/* With the run's lock held, for a run that read as completed but not sound: judged again
 * (another process may have changed it meanwhile); an unsealed run gets its record and is
 * done; a stale or damaged one is counted and reported, to be computed again. */
static pl_status recheck_locked(engine_ctx *e, int r, const char *dir, bool *done, pl_engine_report *rep,
                                pl_error *err) {
    pl_run_status s;
    pl_run_status_read(dir, &s);
    *done = false;
    if (s.state != PL_RUN_COMPLETED) return PL_OK;
    pl_run_record now;
    pl_record_verdict verdict;
    char why[1200];
    PL_TRY(judge(e, r, dir, &now, &verdict, why, sizeof why, err));
    pl_status st = PL_OK;
    *done = verdict == PL_RECORD_SOUND || verdict == PL_RECORD_UNSEALED;
    if (verdict == PL_RECORD_UNSEALED) {
        st = pl_run_record_write(dir, &now, err);
    } else if (!*done) {
        rep->stale += verdict == PL_RECORD_STALE;
        rep->damaged += verdict == PL_RECORD_DAMAGED;
        if (e->opt->log) {
            fprintf(e->opt->log, "run %s is %s: %s; computing it again\n", e->exp->runs[r].run_id,
                    pl_record_verdict_name(verdict), why);
            fflush(e->opt->log);
        }
    }
    pl_run_record_free(&now);
    return st;
}

/* Which runs to do; prepares their directories with status queued. A completed run is done
 * when sound (engine/run_record.h); anything else about it is decided holding its lock. */
static pl_status plan_runs(engine_ctx *e, bool *todo, pl_engine_report *rep, pl_error *err) {
    const pl_experiment *exp = e->exp;
    for (int r = 0; r < exp->n_runs; r++) {
        todo[r] = false;
        bool duplicate = false;
        for (int q = 0; q < r && !duplicate; q++) duplicate = strcmp(exp->runs[q].run_id, exp->runs[r].run_id) == 0;
        if (duplicate) continue; /* the same config twice: one run directory */
        if (e->opt->only && !e->opt->only[r]) continue; /* not this invocation's share */
        char dir[ENGINE_PATH_MAX];
        engine_run_dir(e, r, dir, sizeof dir);
        pl_run_status s;
        pl_run_status_read(dir, &s);
        if (s.state == PL_RUN_COMPLETED) {
            pl_run_record now;
            pl_record_verdict verdict;
            char why[1200];
            PL_TRY(judge(e, r, dir, &now, &verdict, why, sizeof why, err));
            pl_run_record_free(&now);
            if (verdict == PL_RECORD_SOUND) {
                rep->already_completed++;
                continue;
            }
        }
        /* Another process running it keeps its lock (engine/lock.h): leave its files alone. */
        char lock_path[ENGINE_PATH_MAX + 8];
        pl_run_lock_path(dir, lock_path, sizeof lock_path);
        pl_lock lock;
        bool held, done = false;
        PL_TRY(pl_mkdirs(dir, err));
        PL_TRY(pl_lock_try(lock_path, &lock, &held, err));
        if (!held) {
            e->elsewhere[r] = true;
            note(e, "run %s is running elsewhere (another process holds %s); skipped\n",
                 exp->runs[r].run_id, lock_path);
            continue;
        }
        pl_status st = s.state == PL_RUN_COMPLETED ? recheck_locked(e, r, dir, &done, rep, err) : PL_OK;
        if (st == PL_OK && done) rep->already_completed++;
        todo[r] = st == PL_OK && !done;
        pl_run_status q = {.state = PL_RUN_QUEUED};
        if (todo[r]) st = pl_run_dir_prepare(dir, exp, r, err);
        if (todo[r] && st == PL_OK) st = pl_run_status_write(dir, &q, err);
        pl_lock_release(&lock);
        PL_TRY(st);
    }
    return PL_OK;
}

/* Scheduler callback: a node failed (or its ancestor did). Runs get their status. */
static void on_failed(void *ctx, int n, int origin, const char *reason) {
    engine_ctx *e = ctx;
    const pl_graph_node *node = &e->graph.nodes[n];
    if (node->type != PL_NODE_RUN) return;
    char dir[ENGINE_PATH_MAX];
    engine_run_dir(e, node->run, dir, sizeof dir);
    pl_run_status s;
    pl_run_status_read(dir, &s);
    s.state = PL_RUN_FAILED;
    s.finished = pl_wall_time();
    const pl_graph_node *o = &e->graph.nodes[origin];
    if (origin != n) {
        const char *kind;
        cfg_stage_at(e->exp->runs[o->run].config, o->stage, &kind);
        snprintf(s.reason, sizeof s.reason, "shared stage %d '%s' (cache key %.12s) failed: %s",
                 o->stage, kind, o->key, reason);
    } else {
        snprintf(s.reason, sizeof s.reason, "%s", reason);
    }
    pl_run_status_write(dir, &s, NULL);
    note(e, "run %s failed: %s\n", e->exp->runs[node->run].run_id, s.reason);
}

/* Scheduler callback: a node was handed out (the ETA's clock starts). */
static void on_started(void *ctx, int n) {
    engine_eta_started(ctx, n, pl_wall_time());
}

/* Scheduler callback: a node ended. After each run, one line of sweep progress with an ETA
 * from the nodes this invocation has finished so far (engine_eta.c); before any node was
 * timed (only failures so far), elapsed time per run ended. */
static void on_ended(void *ctx, int n, bool ok) {
    engine_ctx *e = ctx;
    pl_invocation_progress(&e->invocation, ++e->progress.nodes_ended);
    const pl_graph_node *node = &e->graph.nodes[n];
    double now = pl_wall_time();
    engine_eta_ended(e, n, ok, now);
    if (node->type != PL_NODE_RUN || e->opt->log == NULL) return;
    e->progress.done += ok;
    e->progress.failed += !ok;
    int ended = e->progress.done + e->progress.failed, left = e->progress.total - ended;
    double elapsed = now - e->progress.started, eta = left > 0 ? engine_eta_left(e, now) : 0;
    if (eta < 0) eta = elapsed / ended * left;
    fprintf(e->opt->log, "progress: %d/%d runs finished (%d failed)", ended, e->progress.total,
            e->progress.failed);
    if (left > 0) fprintf(e->opt->log, "; ETA about %dm%02ds", (int)(eta / 60), (int)eta % 60);
    fprintf(e->opt->log, "; %.0f s so far\n", elapsed);
    fflush(e->opt->log);
}

pl_status engine_open_data(engine_ctx *e, const bool *todo, pl_error *err) {
    for (int r = 0; r < e->exp->n_runs; r++) {
        if (!todo[r]) continue;
        pl_data_config dc;
        PL_TRY(settings_data(e->exp->runs[r].config, &dc, err));
        PL_TRY(pl_data_open(&e->data, &dc, err));
        e->have_data = true;
        return PL_OK;
    }
    return PL_OK;
}

/* Rebuilds index.tsv holding experiment.lock: one writer at a time. */
static pl_status write_index(engine_ctx *e, pl_index *idx, pl_error *err) {
    char lock_path[ENGINE_DIR_MAX + 32];
    pl_exp_state_lock_path(e->exp_dir, lock_path, sizeof lock_path);
    pl_lock lock;
    PL_TRY(pl_lock_wait(lock_path, &lock, err));
    pl_status st = pl_collect(e->exp_dir, true, idx, err);
    if (st == PL_OK) {
        st = pl_index_write(idx, e->exp_dir, err);
        if (st != PL_OK) pl_index_free(idx);
    }
    pl_lock_release(&lock);
    return st;
}

static pl_status finish_index(engine_ctx *e, pl_engine_report *rep, pl_error *err) {
    pl_index idx;
    PL_TRY(write_index(e, &idx, err));
    pl_status st = PL_OK;
    rep->completed = rep->failed = 0;
    for (int r = 0; r < idx.n_rows; r++) {
        bool current = false, elsewhere = false;
        for (int q = 0; q < e->exp->n_runs; q++)
            if (strcmp(e->exp->runs[q].run_id, idx.rows[r].run_id) == 0 && (!e->opt->only || e->opt->only[q])) {
                current = true;
                elsewhere = elsewhere || e->elsewhere[q];
            }
        if (!current || elsewhere) continue; /* another process reports those */
        rep->failed += idx.rows[r].status.state == PL_RUN_FAILED;
        rep->completed += idx.rows[r].status.state == PL_RUN_COMPLETED;
    }
    rep->completed -= rep->already_completed;
    const char **ids = pl_alloc((size_t)e->exp->n_runs + 1, sizeof *ids, NULL);
    if (e->opt->log && ids) {
        for (int q = 0; q < e->exp->n_runs; q++) ids[q] = e->exp->runs[q].run_id;
        fprintf(e->opt->log, "\n");
        pl_index_print(&idx, ids, e->exp->n_runs, e->opt->log);
        int shown = 0;
        for (int r = 0; r < idx.n_rows; r++)
            for (int q = 0; q < e->exp->n_runs; q++)
                if (strcmp(ids[q], idx.rows[r].run_id) == 0) {
                    shown++;
                    break;
                }
        if (shown < idx.n_rows)
            fprintf(e->opt->log, "(this invocation's runs; %s/index.tsv also lists %d of earlier "
                    "invocations)\n", e->exp_dir, idx.n_rows - shown);
        fflush(e->opt->log);
    }
    pl_free(ids);
    pl_index_free(&idx);
    return st;
}

/* Checks every cache entry the graph means to reuse (engine/cache_seal.h): a corrupt one is
 * moved aside and its node computed instead. An entry whose lock another process holds is
 * being written or checked there: its node waits for that process (execute.c). */
static pl_status check_cached_entries(engine_ctx *e, pl_error *err) {
    for (int n = 0; n < e->graph.n_model; n++) {
        pl_graph_node *node = &e->graph.nodes[n];
        if (!node->cached) continue;
        char lock_path[ENGINE_PATH_MAX];
        pl_cache_lock_path(e->results, node->key, lock_path, sizeof lock_path);
        pl_lock lock;
        bool held;
        PL_TRY(pl_lock_try(lock_path, &lock, &held, err));
        pl_entry_state state = PL_ENTRY_ABSENT;
        pl_status st = held ? pl_cache_check(e->results, node->key, e->opt->log, &state, err) : PL_OK;
        pl_lock_release(&lock);
        PL_TRY(st);
        node->cached = state == PL_ENTRY_GOOD;
    }
    return PL_OK;
}

/* Records the runs this invocation plans and the nodes it will run where `prunelab status`
 * finds them (engine/invocation.h). Bookkeeping for status only: when it cannot be written
 * the sweep goes on, with a warning. */
static void begin_invocation(engine_ctx *e, const bool *todo) {
    pl_error err;
    pl_error_clear(&err);
    const char **ids = pl_alloc((size_t)e->exp->n_runs + 1, sizeof *ids, &err);
    pl_status st = ids ? PL_OK : PL_ERR_NOMEM;
    int n = 0, nodes = 0;
    for (int r = 0; ids && r < e->exp->n_runs; r++)
        if (todo[r]) ids[n++] = e->exp->runs[r].run_id;
    for (int k = 0; k < e->graph.n_nodes; k++) nodes += !e->graph.nodes[k].cached;
    if (st == PL_OK) st = pl_invocation_begin(e->exp_dir, ids, n, nodes, &e->invocation, &err);
    pl_free(ids);
    if (st != PL_OK && e->opt->log) {
        fprintf(e->opt->log, "warning: no invocation record for prunelab status (%s); its "
                "waiting runs may read as interrupted\n", err.message);
        fflush(e->opt->log);
    }
}

static pl_status run(engine_ctx *e, pl_engine_report *rep, pl_error *err) {
    const pl_experiment *exp = e->exp;
    PL_TRY(pl_preflight(exp, err));
    PL_TRY(engine_read_settings(e, err));
    PL_TRY(pl_engine_dirs(exp, e->results, sizeof e->results, e->exp_dir, sizeof e->exp_dir, err));
    PL_TRY(pl_mkdirs(e->exp_dir, err));
    PL_TRY(experiment_state(e, &rep->spec_changed, err));
    bool *todo = pl_alloc((size_t)exp->n_runs + 1, sizeof *todo, err);
    e->elsewhere = pl_alloc((size_t)exp->n_runs + 1, sizeof *e->elsewhere, err);
    if (todo == NULL || e->elsewhere == NULL) {
        pl_free(todo);
        pl_free(e->elsewhere);
        return PL_ERR_NOMEM;
    }
    pl_status st = plan_runs(e, todo, rep, err);
    if (st == PL_OK) st = pl_graph_build(exp, todo, e->results, &e->memo, &e->graph, err);
    e->memo.frozen = true; /* job threads only read it now (the records of completed runs) */
    if (st == PL_OK && e->opt->mpi) st = engine_mpi_plan(e, todo, err); /* workers build it too */
    if (st == PL_OK) st = check_cached_entries(e, err);
    if (st == PL_OK && e->opt->stages_only) {
        /* Only the model stages two or more runs share; each run's own stages are left to
         * the run (its array task), as are the runs themselves. */
        e->graph.n_nodes = e->graph.n_model;
        for (int n = 0; n < e->graph.n_model; n++)
            if (e->graph.nodes[n].users < 2 && !e->graph.nodes[n].cached)
                e->graph.nodes[n].cached = true, rep->stages_reused--; /* skipped: neither computed nor reused */
    }
    if (st == PL_OK) {
        const pl_graph *g = &e->graph;
        for (int n = 0; n < g->n_model; n++) {
            rep->stages_reused += g->nodes[n].cached;
            rep->stages_computed += !g->nodes[n].cached;
        }
    }
    if (st == PL_OK && e->opt->log) {
        fprintf(e->opt->log,
                "experiment %s: %d runs, %d completed earlier, %d to run", exp->name, exp->n_runs,
                rep->already_completed, e->graph.n_nodes - e->graph.n_model);
        if (rep->stale + rep->damaged > 0)
            fprintf(e->opt->log, " (%d of them stale, %d damaged)", rep->stale, rep->damaged);
        fprintf(e->opt->log, "; %d model stages to compute, %d reused from %s/cache; ", rep->stages_computed,
                rep->stages_reused, e->results);
        if (e->opt->mpi) fprintf(e->opt->log, "%d MPI ranks running stages x %d threads\n", pl_mpi_size() - 1, e->threads);
        else fprintf(e->opt->log, "%d jobs x %d threads\n", e->jobs, e->threads);
        fflush(e->opt->log);
    }
    if (st == PL_OK && e->graph.n_nodes > 0) begin_invocation(e, todo);
    if (st == PL_OK && e->graph.n_nodes > 0 && !e->opt->mpi) st = engine_open_data(e, todo, err);
    if (st == PL_OK && (e->graph.n_nodes > 0 || e->opt->mpi)) {
        pl_sched_ops ops = {e->jobs, e->threads, e->isolate, NULL, e, engine_exec_node, on_failed, on_ended,
                            on_started};
        e->progress.total = e->graph.n_nodes - e->graph.n_model;
        e->progress.started = pl_wall_time();
        if (st == PL_OK) st = engine_eta_open(e, e->opt->mpi ? pl_mpi_size() - 1 : e->jobs, err);
        pl_sched_result res;
        if (st == PL_OK && e->opt->mpi) st = engine_mpi_schedule(e, &ops, &res, err);
        else if (st == PL_OK) st = pl_schedule(&e->graph, &ops, &res, err);
    }
    pl_invocation_end(&e->invocation);
    engine_eta_close(e);
    if (e->have_data) pl_data_close(&e->data);
    rep->stages_computed -= e->computed_elsewhere;
    rep->stages_reused += e->computed_elsewhere;
    for (int r = 0; r < exp->n_runs; r++) rep->runs_elsewhere += e->elsewhere[r];
    if (st == PL_OK) st = finish_index(e, rep, err);
    pl_graph_free(&e->graph);
    pl_hash_memo_free(&e->memo);
    pl_free(todo);
    pl_free(e->elsewhere);
    return st;
}

pl_status pl_engine_enqueue(const pl_experiment *exp, const bool *which, FILE *log, pl_error *err) {
    pl_engine_options opt = {.log = log, .only = which};
    pl_engine_report rep = {0};
    engine_ctx *e = pl_alloc(1, sizeof *e, err);
    if (e == NULL) return PL_ERR_NOMEM;
    e->invocation.lock.fd = -1; /* not begun */
    e->exp = exp;
    e->opt = &opt;
    bool changed;
    bool *todo = pl_alloc((size_t)exp->n_runs + 1, sizeof *todo, err);
    e->elsewhere = pl_alloc((size_t)exp->n_runs + 1, sizeof *e->elsewhere, err);
    pl_status st = todo && e->elsewhere ? engine_read_settings(e, err) : PL_ERR_NOMEM;
    if (st == PL_OK) st = pl_engine_dirs(exp, e->results, sizeof e->results, e->exp_dir, sizeof e->exp_dir, err);
    if (st == PL_OK) st = pl_mkdirs(e->exp_dir, err);
    if (st == PL_OK) st = experiment_state(e, &changed, err);
    if (st == PL_OK) st = plan_runs(e, todo, &rep, err);
    pl_hash_memo_free(&e->memo);
    pl_free(todo);
    pl_free(e->elsewhere);
    pl_free(e);
    return st;
}

pl_status pl_engine_run(const pl_experiment *exp, const pl_engine_options *opt,
                        pl_engine_report *report, pl_error *err) {
    pl_engine_options none = {0};
    engine_ctx *e = pl_alloc(1, sizeof *e, err);
    if (e == NULL) return PL_ERR_NOMEM;
    e->invocation.lock.fd = -1; /* not begun */
    e->exp = exp;
    e->opt = opt ? opt : &none;
    memset(report, 0, sizeof *report);
    report->runs = exp->n_runs;
    pl_status st;
    if (e->opt->mpi && pl_mpi_rank() > 0) {
        st = engine_mpi_worker(e, err);
    } else {
        st = run(e, report, err);
        if (e->opt->mpi) engine_mpi_release(e); /* after an error, workers may still wait */
    }
    pl_free(e);
    return st;
}
