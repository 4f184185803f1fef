/* main.c - the prunelab command: picks fast BLAS kernels, then dispatches a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/blas.h"
#include "core/startup.h"

static const pl_command COMMANDS[] = {
    {"version", cmd_version, "print the version, BLAS kernels and thread count"},
    {"train", cmd_train, "train the teacher of an experiment and save it as a checkpoint"},
    {"eval", cmd_eval, "evaluate a checkpoint: exact-match accuracy per question type"},
    {"data", cmd_data, "data show: samples and an image; data baseline: majority answers; data vocab: the words"},
    {"validate", cmd_validate, "check an experiment file and every run of its sweep"},
    {"plan", cmd_plan, "print the runs an experiment expands into, without running them"},
    {"export", cmd_export, "write an experiment's results as TSV (per run, or mean/std/n over seeds)"},
    {"plot", cmd_plot, "draw the figures an experiment declares (PNG and PDF via gnuplot)"},
    {"run", cmd_run, "run an experiment's sweep (skips completed runs, redoes stale ones; shared stages cached)"},
    {"slurm", cmd_slurm, "submit an experiment's sweep to Slurm: shared stages first, then a run array"},
    {"status", cmd_status, "progress of results/<experiment>: done, running, failed, stale, damaged, queued, ETA"},
    {"collect", cmd_collect, "rebuild results/<experiment>/index.tsv from the run directories"},
};
static const int COMMAND_COUNT = (int)(sizeof COMMANDS / sizeof COMMANDS[0]);

static void print_usage(FILE *out) {
    fprintf(out, "usage: prunelab <command> [arguments]\n\ncommands:\n");
    for (int i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "this list; `help config [section]` for the config reference");
}

int main(int argc, char **argv) {
    pl_startup(argv);
    if (argc > 2 && strcmp(argv[1], "help") == 0) return cmd_help(argc - 2, argv + 2);
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0) return COMMANDS[i].run(argc - 2, argv + 2);
    fprintf(stderr, "prunelab: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
