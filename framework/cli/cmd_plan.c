/* cmd_plan.c - `prunelab plan FILE [key=value ...]`: the expanded run table (run id, group
 * id, each alias's value, seed) and the run count, without running anything. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "config/experiment.h"
#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/engine.h"
#include "engine/preflight.h"
#include "engine/status.h"

/* What a results store knows about a run (engine/status.h supplies it). */
typedef struct {
    const char *(*status)(const pl_run *run, void *ctx); /* "done", "failed", or NULL = to run */
    void *ctx;
} plan_status;

typedef struct {
    const char *results, *experiment;
    pl_hash_memo memo;
} plan_known;

static const char *known_status(const pl_run *run, void *ctx) {
    plan_known *k = ctx;
    return pl_status_of_run(k->results, k->experiment, run, &k->memo);
}

enum { PLAN_CELL_MAX = 40 };

static int print_plan(FILE *out, const pl_experiment *exp, const plan_status *known, pl_error *err) {
    int cols = exp->n_axes;
    /* every alias value as text, once, to size the columns */
    char **cells = pl_alloc((size_t)exp->n_runs * (size_t)(cols ? cols : 1), sizeof *cells, err);
    int *width = pl_alloc((size_t)(cols ? cols : 1), sizeof *width, err);
    if (cells == NULL || width == NULL) {
        pl_free(cells);
        pl_free(width);
        return 1;
    }
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    for (int c = 0; c < cols; c++) width[c] = (int)strlen(exp->aliases[c]);
    int ok = 1;
    for (int r = 0; r < exp->n_runs && ok; r++)
        for (int c = 0; c < cols; c++) {
            cfg_strbuf_reset(&sb);
            /* an axis that only some cases set has no value in the others */
            if (exp->runs[r].values[c] != NULL) cfg_canon_flow(exp->runs[r].values[c], &sb);
            else cfg_strbuf_puts(&sb, "-");
            char *text = sb.status == PL_OK ? pl_strdup(sb.data ? sb.data : "", err) : NULL;
            if (text == NULL) {
                ok = 0;
                break;
            }
            if (strlen(text) > PLAN_CELL_MAX) /* a whole pipeline as a value: its start */
                memcpy(text + PLAN_CELL_MAX - 3, "...", 4);
            cells[(size_t)r * cols + c] = text;
            if ((int)strlen(text) > width[c]) width[c] = (int)strlen(text);
        }
    cfg_strbuf_free(&sb);
    if (ok) {
        fprintf(out, "experiment %s (%s)\n\n%-12s  %-12s", exp->name, exp->path, "run", "group");
        for (int c = 0; c < cols; c++) fprintf(out, "  %-*s", width[c], exp->aliases[c]);
        fprintf(out, "  %4s%s\n", "seed", known ? "  status" : "");
        int done = 0, redo = 0;
        for (int r = 0; r < exp->n_runs; r++) {
            const pl_run *run = &exp->runs[r];
            fprintf(out, "%-12s  %-12s", run->run_id, run->group_id);
            for (int c = 0; c < cols; c++) fprintf(out, "  %-*s", width[c], cells[(size_t)r * cols + c]);
            fprintf(out, "  %4lld", run->seed);
            if (known) {
                const char *s = known->status(run, known->ctx);
                done += s != NULL && strcmp(s, "done") == 0;
                redo += s != NULL && (strcmp(s, "stale") == 0 || strcmp(s, "damaged") == 0);
                fprintf(out, "  %s", s ? s : "to run");
            }
            fputc('\n', out);
        }
        fprintf(out, "\n%d run%s: %d configuration%s x %d seed%s", exp->n_runs, exp->n_runs == 1 ? "" : "s",
                exp->n_groups, exp->n_groups == 1 ? "" : "s", exp->sweep->n_seeds, exp->sweep->n_seeds == 1 ? "" : "s");
        if (known) fprintf(out, "; %d done, %d to run", done, exp->n_runs - done);
        if (known && redo > 0) fprintf(out, " (%d of them stale or damaged: run computes them again)", redo);
        fputc('\n', out);
    }
    for (int r = 0; r < exp->n_runs && cols; r++)
        for (int c = 0; c < cols; c++) pl_free(cells[(size_t)r * cols + c]);
    pl_free(cells);
    pl_free(width);
    return ok ? 0 : 1;
}

int cmd_plan(int argc, char **argv) {
    int code;
    pl_experiment *exp = cli_load_experiment(
        argc, argv,
        "usage: prunelab plan FILE [key.path=value ...]\n"
        "  prints the runs the experiment FILE expands into, without running them;\n"
        "  key.path=a,b,c adds an axis\n",
        &code);
    if (exp == NULL) return code;
    pl_error err;
    pl_error_clear(&err);
    char results[1024], exp_dir[1024];
    plan_known known = {results, exp->name, {0}};
    plan_status hook = {known_status, &known};
    int have_dirs = pl_engine_dirs(exp, results, sizeof results, exp_dir, sizeof exp_dir, &err) == PL_OK;
    int rc = print_plan(stdout, exp, have_dirs ? &hook : NULL, &err);
    pl_hash_memo_free(&known.memo);
    if (rc != 0) pl_error_print(stderr, &err);
    pl_error_clear(&err);
    if (rc == 0 && pl_preflight(exp, &err) != PL_OK) { /* the table is still worth showing */
        fprintf(stderr, "prunelab plan: warning: `prunelab run` would refuse this experiment:\n");
        pl_error_print(stderr, &err);
    }
    pl_experiment_free(exp);
    return rc;
}
