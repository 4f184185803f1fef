/* status.c - experiment progress and ETA from status files (see status.h). */
#include "engine/status.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/collect.h"
#include "engine/fsutil.h"
#include "engine/loss_trend.h"

/* ETA: the latest invocation's completion rate (completed since it started / time since)
 * applied to the runs left. */
static void print_eta(const pl_index *idx, int done_now, int left, double now, FILE *out) {
    if (left == 0) return;
    if (idx->started <= 0 || done_now == 0) {
        fprintf(out, "ETA: unknown until a run of this invocation completes\n");
        return;
    }
    double eta = (now - idx->started) / done_now * left;
    fprintf(out, "ETA: about %dm%02ds (%d runs completed in %.0f s by %d job%s)\n", (int)(eta / 60),
            (int)eta % 60, done_now, now - idx->started, idx->jobs, idx->jobs == 1 ? "" : "s");
}

/* The run's summary value of name, or NaN. */
static double summary_value(const pl_index_row *row, const char *name) {
    for (int i = 0; i < row->summary.count; i++)
        if (strcmp(row->summary.names[i], name) == 0) return row->summary.values[i];
    return NAN;
}

pl_status pl_status_print(const char *exp_dir, FILE *out, pl_error *err) {
    struct stat sb;
    if (stat(exp_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return PL_ERROR(err, PL_ERR_IO, "%s %s; give the folder prunelab run writes an experiment's "
                        "results to, results/<experiment> (such as results/quickstart)", exp_dir,
                        stat(exp_dir, &sb) != 0 ? "does not exist" : "is not a directory");
    pl_index idx;
    PL_TRY(pl_collect(exp_dir, true, &idx, err)); /* summaries: the loss flag below */
    if (idx.n_rows == 0) {
        fprintf(out, "%s: no runs yet\n", exp_dir);
        pl_index_free(&idx);
        return PL_OK;
    }
    double now = pl_wall_time();
    int count[PL_RUN_FAILED + 1] = {0}, done_now = 0, stale = 0;
    for (int r = 0; r < idx.n_rows; r++) {
        const pl_run_status *s = &idx.rows[r].status;
        count[s->state]++;
        done_now += s->state == PL_RUN_COMPLETED && s->finished >= idx.started;
    }
    fprintf(out, "%s: %d runs: %d done, %d running, %d failed, %d queued", exp_dir, idx.n_rows,
            count[PL_RUN_COMPLETED], count[PL_RUN_RUNNING], count[PL_RUN_FAILED],
            count[PL_RUN_QUEUED] + count[PL_RUN_UNKNOWN]);
    fputc('\n', out);
    for (int r = 0; r < idx.n_rows; r++) {
        const pl_index_row *row = &idx.rows[r];
        const pl_run_status *s = &row->status;
        if (s->state == PL_RUN_RUNNING) {
            double age = now - s->heartbeat;
            bool is_stale = age > PL_HEARTBEAT_STALE_SECONDS;
            stale += is_stale;
            fprintf(out, "  running  %s  for %.0f s, heartbeat %.0f s ago%s\n", row->run_id,
                    now - s->started, age, is_stale ? " (stale: interrupted? re-run to resume)" : "");
        } else if (s->state == PL_RUN_FAILED) {
            fprintf(out, "  failed   %s  %s\n", row->run_id, s->reason);
        } else if (summary_value(row, PL_LOSS_FLAG) == 1.0) {
            fprintf(out, "  warning  %s  a training stage's loss did not decrease (%s = 1; its "
                    "log.txt says which)\n", row->run_id, PL_LOSS_FLAG);
        }
    }
    int left = count[PL_RUN_RUNNING] - stale + count[PL_RUN_QUEUED] + count[PL_RUN_UNKNOWN];
    if (stale < count[PL_RUN_RUNNING] || count[PL_RUN_QUEUED]) print_eta(&idx, done_now, left, now, out);
    pl_index_free(&idx);
    return PL_OK;
}

const char *pl_status_of_run(const char *results, const char *experiment, const char *run_id) {
    char dir[4096];
    pl_run_dir_path(results, experiment, run_id, dir, sizeof dir);
    pl_run_status s;
    pl_run_status_read(dir, &s);
    switch (s.state) {
    case PL_RUN_COMPLETED: return "done";
    case PL_RUN_FAILED: return "failed";
    case PL_RUN_RUNNING: return "running";
    default: return NULL;
    }
}
