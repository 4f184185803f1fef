/* cmd_slurm.c - `prunelab slurm EXPERIMENT.yaml [key=value ...] [--dry-run]`: submits the
 * sweep's runs that still need doing as Slurm jobs and returns at once (engine/slurm.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "engine/slurm.h"
#include "engine/stage.h"

static int usage(void) {
    fprintf(stderr, "usage: prunelab slurm EXPERIMENT.yaml [key.path=value ...] [--dry-run]\n"
                    "  submits the runs not yet completed and not in a pending or running task: the shared\n"
                    "  model stages first (one job), then the runs as an array that waits for it;\n"
                    "  resources from engine.slurm.* (runs_per_task, concurrency, cpus_per_task, time, mem,\n"
                    "  partition, account), settable on the command line. --dry-run writes the scripts\n"
                    "  and prints the sbatch commands without submitting. Follow with `prunelab status`.\n");
    return 2;
}

int cmd_slurm(int argc, char **argv) {
    const char *file = NULL;
    bool dry_run = false;
    int n = 0;
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    if (overrides == NULL) return 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) dry_run = true;
        else if (argv[i][0] == '-') { free(overrides); return usage(); }
        else if (file == NULL) file = argv[i];
        else overrides[n++] = argv[i];
    }
    if (file == NULL) {
        free(overrides);
        return usage();
    }
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    pl_slurm_report rep;
    pl_slurm_options opt = {dry_run, overrides, n, stderr};
    int rc = 1;
    if (pl_experiment_load(file, overrides, n, &exp, &err) == PL_OK && pl_slurm_submit(exp, &opt, &rep, &err) == PL_OK) {
        rc = 0;
        if (rep.submitted == 0) {
            fprintf(stderr, "nothing to submit\n");
        } else if (dry_run) {
            fprintf(stderr, "dry run: %d runs in %d tasks written to %s (nothing submitted)\n", rep.submitted,
                    rep.tasks, rep.dir);
        } else {
            if (rep.stages_job[0]) printf("stages job %s: %d shared model stages\n", rep.stages_job, rep.shared_stages);
            printf("run array %s: %d runs in %d tasks%s\n", rep.array_job, rep.submitted, rep.tasks,
                   rep.stages_job[0] ? ", after the stages job" : "");
            fprintf(stderr, "scripts, run table and logs: %s\nprogress: prunelab status %s\n", rep.dir, rep.exp_dir);
        }
    } else {
        pl_error_print(stderr, &err);
    }
    pl_experiment_free(exp);
    free(overrides);
    return rc;
}
