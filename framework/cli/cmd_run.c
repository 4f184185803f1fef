/* cmd_run.c - `prunelab run EXPERIMENT.yaml [key=value ...]`: executes a sweep with the
 * engine (engine/engine.h) and exits non-zero when any run failed. Also the git provenance
 * (commit, dirty flag) the library does not look up itself.
 *
 *   --mpi                  under mpirun: rank 0 hands out the runs, the other ranks run them
 *   --stages-only          compute the shared model stages, run no run (Slurm's stages job)
 *   --runs-from FILE --task N   only the runs FILE lists for task N (a Slurm array task) */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_select.h"
#include "engine/engine.h"
#include "engine/mpi_comm.h"
#include "engine/stage.h"

/* The first line git prints for cmd, or "" when git or the checkout is absent. */
static void git_line(const char *cmd, char *buf, size_t cap, int *any_output) {
    buf[0] = '\0';
    *any_output = 0;
    FILE *p = popen(cmd, "r");
    if (p == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, p)) {
        if (!*any_output) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(buf, cap, "%s", line);
        }
        *any_output = 1;
    }
    if (pclose(p) != 0) buf[0] = '\0', *any_output = -1;
}

static int usage(void) {
    fprintf(stderr, "usage: prunelab run EXPERIMENT.yaml [key.path=value ...] [--quiet] [--mpi]\n"
                    "                    [--stages-only] [--runs-from FILE --task N]\n"
                    "  runs every run of the sweep not yet completed, and again those completed from inputs\n"
                    "  that changed since (stale) or whose metrics.h5 no longer verifies (damaged); results go to\n"
                    "  <engine.results_dir>/<experiment>/ (see `prunelab status`, `collect`)\n"
                    "  --mpi: under `mpirun -n N`, rank 0 hands out runs and ranks 1..N-1 run them\n"
                    "  --stages-only: compute the shared model stages only (what `prunelab slurm` submits first)\n"
                    "  --runs-from FILE --task N: only the runs the run table FILE lists for task N\n");
    return 2;
}

typedef struct {
    const char *file, *runs_from;
    long task;
    bool quiet, mpi, stages_only, has_task;
    int n;
    const char **overrides;
} run_args;

static bool parse(int argc, char **argv, run_args *a) {
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0) a->quiet = true;
        else if (strcmp(argv[i], "--mpi") == 0) a->mpi = true;
        else if (strcmp(argv[i], "--stages-only") == 0) a->stages_only = true;
        else if (strcmp(argv[i], "--runs-from") == 0 && i + 1 < argc) a->runs_from = argv[++i];
        else if (strcmp(argv[i], "--task") == 0 && i + 1 < argc) {
            char *end;
            a->task = strtol(argv[++i], &end, 10);
            if (*end || a->task < 0) {
                fprintf(stderr, "prunelab run: --task takes a task number, not '%s'\n", argv[i]);
                return false;
            }
            a->has_task = true;
        } else if (argv[i][0] == '-') return false;
        else if (a->file == NULL) a->file = argv[i];
        else a->overrides[a->n++] = argv[i];
    }
    if ((a->runs_from != NULL) != a->has_task) {
        fprintf(stderr, "prunelab run: --runs-from and --task go together\n");
        return false;
    }
    return a->file != NULL;
}

static int execute(const run_args *a) {
    char commit[128], dirty_line[512];
    int has_commit, dirty;
    git_line("git rev-parse HEAD 2>/dev/null", commit, sizeof commit, &has_commit);
    git_line("git status --porcelain 2>/dev/null", dirty_line, sizeof dirty_line, &dirty);
    bool worker = a->mpi && pl_mpi_rank() > 0;
    pl_engine_options opt = {
        .git_commit = has_commit > 0 ? commit : "unknown",
        .git_dirty = has_commit <= 0 ? "unknown" : dirty > 0 ? "yes" : "no",
        .log = stderr,
        .echo = !a->quiet,
        .fault = getenv("PRUNELAB_TEST_FAULT"),
        .stages_only = a->stages_only,
        .mpi = a->mpi,
    };
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    pl_engine_report rep;
    bool *only = NULL;
    int rc = 1;
    pl_status st = pl_experiment_load(a->file, a->overrides, a->n, &exp, &err);
    if (st == PL_OK && a->runs_from) {
        only = calloc((size_t)exp->n_runs + 1, sizeof *only);
        st = only ? pl_run_select(exp, a->runs_from, a->task, only, &err) : PL_ERR_NOMEM;
        opt.only = only;
    }
    if (st != PL_OK && a->mpi) { /* the other ranks would wait for this one forever */
        pl_error_print(stderr, &err);
        pl_mpi_abort(1);
    }
    if (st == PL_OK && (st = pl_engine_run(exp, &opt, &rep, &err)) == PL_OK) {
        if (!worker) {
            fprintf(stderr, "\n%d runs: %d completed now, %d completed earlier, %d failed", rep.runs, rep.completed,
                    rep.already_completed, rep.failed);
            if (rep.stale + rep.damaged > 0)
                fprintf(stderr, " (%d stale and %d damaged runs were run again)", rep.stale, rep.damaged);
            if (rep.runs_elsewhere > 0) fprintf(stderr, ", %d left to another process running them", rep.runs_elsewhere);
            fprintf(stderr, "; %d model stages computed, %d reused\n", rep.stages_computed, rep.stages_reused);
        }
        rc = rep.failed > 0 && !worker ? 1 : 0;
    } else if (st != PL_OK) {
        if (worker) fprintf(stderr, "MPI rank %d: ", pl_mpi_rank());
        pl_error_print(stderr, &err);
    }
    free(only);
    pl_experiment_free(exp);
    return rc;
}

int cmd_run(int argc, char **argv) {
    run_args a = {0};
    a.overrides = calloc((size_t)argc + 1, sizeof *a.overrides);
    if (a.overrides == NULL) return 1;
    if (!parse(argc, argv, &a)) {
        free(a.overrides);
        return usage();
    }
    pl_error err;
    pl_error_clear(&err);
    if (a.mpi && pl_mpi_init(NULL, NULL, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        free(a.overrides);
        return 1;
    }
    int rc = execute(&a);
    if (a.mpi) pl_mpi_finalize();
    free(a.overrides);
    return rc;
}
