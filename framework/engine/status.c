/* status.c - experiment progress and ETA from status files (see status.h). */
#include "engine/status.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "engine/collect.h"
#include "engine/fsutil.h"
#include "engine/invocation.h"
#include "engine/lock.h"
#include "engine/loss_trend.h"
#include "engine/run_record.h"
#include "engine/slurm.h"

/* ETA: the latest invocation's completion rate (completed since it started / time since)
 * applied to the runs left. */
static void print_eta(const pl_index *idx, const pl_live_invocations *live, int done_now,
                      int left, double now, FILE *out) {
    if (left == 0) return;
    if ((idx->started <= 0 || done_now == 0) && live->nodes_done > 0 &&
        live->nodes_done < live->nodes_total && live->started > 0) {
        /* Before any run completes: the live invocations' stages and runs ended so far, each
         * counted as one unit of work (a rough guide when stages differ much in cost). */
        const double spent = now - live->started;
        const double eta = spent / live->nodes_done * (live->nodes_total - live->nodes_done);
        fprintf(out, "ETA: about %dm%02ds from stage-level progress (%d of %d stages and runs "
                "ended in %.0f s)\n", (int)(eta / 60), (int)eta % 60, live->nodes_done,
                live->nodes_total, spent);
        return;
    }
    if (idx->started <= 0 || done_now == 0) {
        fprintf(out, "ETA: unknown until a run completes\n");
        return;
    }
    double eta = (now - idx->started) / done_now * left;
    fprintf(out, "ETA: about %dm%02ds (%d runs completed in %.0f s by %d job%s)\n", (int)(eta / 60),
            (int)eta % 60, done_now, now - idx->started, idx->jobs, idx->jobs == 1 ? "" : "s");
}

/* A run whose status says running was interrupted (killed, or its machine went down) when
 * its heartbeat is stale and no process holds its lock; a process that holds it is only
 * slow to beat (a long step). Runs of older prunelab versions have no lock file: the
 * heartbeat alone decides. */
static bool is_interrupted(const char *exp_dir, const pl_index_row *row, double now) {
    if (now - row->status.heartbeat <= PL_HEARTBEAT_STALE_SECONDS) return false;
    char dir[4096], lock[4096 + 8];
    snprintf(dir, sizeof dir, "%s/runs/%s", exp_dir, row->run_id);
    pl_run_lock_path(dir, lock, sizeof lock);
    bool held = false;
    pl_lock_query(lock, &held, NULL); /* unreadable: treat as not held, the heartbeat decides */
    return !held;
}

/* The run's summary value of name, or NaN. */
static double summary_value(const pl_index_row *row, const char *name) {
    for (int i = 0; i < row->summary.count; i++)
        if (strcmp(row->summary.names[i], name) == 0) return row->summary.values[i];
    return NAN;
}

pl_status pl_status_print(const char *exp_dir, FILE *out, pl_error *err) {
    pl_index idx;
    /* Checks exp_dir first (engine/exp_state.h); summaries: the loss flag below. */
    PL_TRY(pl_collect(exp_dir, true, &idx, err));
    if (idx.n_rows == 0) {
        fprintf(out, "%s: no runs yet\n", exp_dir);
        pl_index_notes(&idx, exp_dir, out);
        pl_slurm_status_print(exp_dir, out);
        pl_index_free(&idx);
        return PL_OK;
    }
    double now = pl_wall_time();
    int count[PL_RUN_STATE_COUNT] = {0}, done_now = 0, interrupted = 0, n_waiting = 0;
    /* A live invocation that still plans a run whose heartbeat went stale is making it wait
     * (for a shared stage or a job slot): not interrupted (engine/invocation.h). */
    pl_live_invocations live;
    pl_status st = pl_invocations_read(exp_dir, &live, err);
    bool *gone = st == PL_OK ? pl_alloc(2 * (size_t)idx.n_rows, sizeof *gone, err) : NULL;
    if (gone == NULL) {
        pl_invocations_free(&live);
        pl_index_free(&idx);
        return st == PL_OK ? PL_ERR_NOMEM : st;
    }
    bool *waiting = gone + idx.n_rows;
    for (int r = 0; r < idx.n_rows; r++) {
        const pl_run_status *s = &idx.rows[r].status;
        gone[r] = s->state == PL_RUN_RUNNING && is_interrupted(exp_dir, &idx.rows[r], now);
        if (gone[r] && pl_invocations_plan(&live, idx.rows[r].run_id))
            gone[r] = false, waiting[r] = true;
        n_waiting += waiting[r];
        interrupted += gone[r];
        count[s->state] += !gone[r];
        done_now += s->state == PL_RUN_COMPLETED && s->finished >= idx.started;
    }
    fprintf(out, "%s: %d runs: %d done, %d running", exp_dir, idx.n_rows, count[PL_RUN_COMPLETED],
            count[PL_RUN_RUNNING]);
    if (n_waiting) fprintf(out, " (%d of them waiting)", n_waiting);
    fprintf(out, ", ");
    if (interrupted) fprintf(out, "%d interrupted, ", interrupted);
    fprintf(out, "%d failed, ", count[PL_RUN_FAILED]);
    if (count[PL_RUN_STALE] + count[PL_RUN_DAMAGED] > 0)
        fprintf(out, "%d stale, %d damaged, ", count[PL_RUN_STALE], count[PL_RUN_DAMAGED]);
    fprintf(out, "%d queued\n", count[PL_RUN_QUEUED] + count[PL_RUN_UNKNOWN]);
    for (int r = 0; r < idx.n_rows; r++) {
        const pl_index_row *row = &idx.rows[r];
        const pl_run_status *s = &row->status;
        if (gone[r]) {
            fprintf(out, "  interrupted  %s  heartbeat %.0f s ago and no process holds it; "
                    "prunelab run resumes it\n", row->run_id, now - s->heartbeat);
        } else if (waiting[r]) {
            fprintf(out, "  waiting  %s  for a stage or a job slot of a live invocation; last "
                    "progress %.0f s ago\n", row->run_id, now - s->heartbeat);
        } else if (s->state == PL_RUN_RUNNING) {
            fprintf(out, "  running  %s  for %.0f s, heartbeat %.0f s ago\n", row->run_id,
                    now - s->started, now - s->heartbeat);
        } else if (s->state == PL_RUN_FAILED) {
            fprintf(out, "  failed   %s  %s\n", row->run_id, s->reason);
        } else if (s->state == PL_RUN_STALE || s->state == PL_RUN_DAMAGED) {
            fprintf(out, "  %-8s %s  %s; prunelab run computes it again\n", pl_run_state_name(s->state),
                    row->run_id, s->reason);
        } else if (summary_value(row, PL_LOSS_FLAG) == 1.0) {
            fprintf(out, "  warning  %s  a training stage's loss did not decrease (%s = 1; its "
                    "log.txt says which)\n", row->run_id, PL_LOSS_FLAG);
        }
    }
    int left = count[PL_RUN_RUNNING] + count[PL_RUN_QUEUED] + count[PL_RUN_UNKNOWN];
    if (count[PL_RUN_RUNNING] || count[PL_RUN_QUEUED]) print_eta(&idx, &live, done_now, left, now, out);
    pl_index_notes(&idx, exp_dir, out); /* the per-run lines above say the rest */
    pl_slurm_status_print(exp_dir, out);
    pl_invocations_free(&live);
    pl_free(gone); /* and waiting, its second half */
    pl_index_free(&idx);
    return PL_OK;
}

const char *pl_status_of_run(const char *results, const char *experiment, const pl_run *run,
                             pl_hash_memo *memo) {
    char dir[4096];
    pl_run_dir_path(results, experiment, run->run_id, dir, sizeof dir);
    pl_run_status s;
    pl_run_status_read(dir, &s);
    switch (s.state) {
    case PL_RUN_COMPLETED: break;
    case PL_RUN_FAILED: return "failed";
    case PL_RUN_RUNNING: return "running";
    default: return NULL;
    }
    pl_run_record now;
    const bool known = pl_run_record_of(run, memo, &now, NULL) == PL_OK;
    char why[1024];
    const pl_record_verdict v = pl_run_judge(dir, results, known ? &now : NULL, why, sizeof why);
    if (known) pl_run_record_free(&now);
    return v == PL_RECORD_STALE ? "stale" : v == PL_RECORD_DAMAGED ? "damaged" : "done";
}
