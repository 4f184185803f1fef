/* cmd_run.c - `prunelab run EXPERIMENT.yaml [key=value ...]`: executes a sweep with the
 * engine (engine/engine.h) and exits non-zero when any run failed. Also the git provenance
 * (commit, dirty flag) the library does not look up itself. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "engine/stage.h"
#include "engine/engine.h"

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
    fprintf(stderr, "usage: prunelab run EXPERIMENT.yaml [key.path=value ...] [--quiet]\n"
                    "  runs every run of the sweep not yet completed; results go to\n"
                    "  <engine.results_dir>/<experiment>/ (see `prunelab status`, `collect`)\n");
    return 2;
}

int cmd_run(int argc, char **argv) {
    const char *file = NULL;
    int quiet = 0, n = 0;
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    if (overrides == NULL) return 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0) quiet = 1;
        else if (argv[i][0] == '-') { free(overrides); return usage(); }
        else if (file == NULL) file = argv[i];
        else overrides[n++] = argv[i];
    }
    if (file == NULL) {
        free(overrides);
        return usage();
    }
    char commit[128], dirty_line[512];
    int has_commit, dirty;
    git_line("git rev-parse HEAD 2>/dev/null", commit, sizeof commit, &has_commit);
    git_line("git status --porcelain 2>/dev/null", dirty_line, sizeof dirty_line, &dirty);
    pl_engine_options opt = {
        .git_commit = has_commit > 0 ? commit : "unknown",
        .git_dirty = has_commit <= 0 ? "unknown" : dirty > 0 ? "yes" : "no",
        .log = stderr,
        .echo = !quiet,
        .fault = getenv("PRUNELAB_TEST_FAULT"),
    };
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    pl_engine_report rep;
    int rc = 1;
    if (pl_experiment_load(file, overrides, n, &exp, &err) == PL_OK &&
        pl_engine_run(exp, &opt, &rep, &err) == PL_OK) {
        fprintf(stderr, "\n%d runs: %d completed now, %d completed earlier, %d failed",
                rep.runs, rep.completed, rep.already_completed, rep.failed);
        if (rep.runs_elsewhere > 0) fprintf(stderr, ", %d left to another process running them", rep.runs_elsewhere);
        fprintf(stderr, "; %d model stages computed, %d reused\n", rep.stages_computed, rep.stages_reused);
        rc = rep.failed > 0 ? 1 : 0;
    } else {
        pl_error_print(stderr, &err);
    }
    pl_experiment_free(exp);
    free(overrides);
    return rc;
}
