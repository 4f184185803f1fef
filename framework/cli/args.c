/* args.c - option parsing helpers for the subcommands (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int cli_int(const char *command, const char *flag, const char *value, long long lo,
            long long hi, long long *out) {
    char *end = NULL;
    errno = 0;
    long long v = value ? strtoll(value, &end, 10) : 0;
    if (value == NULL || end == value || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "prunelab %s: %s expects a whole number from %lld to %lld, got '%s'\n",
                command, flag, lo, hi, value ? value : "");
        return 0;
    }
    *out = v;
    return 1;
}

pl_experiment *cli_load_experiment(int argc, char **argv, const char *usage, int *exit_code) {
    if (argc < 1 || argv[0][0] == '-') {
        fputs(usage, stderr);
        *exit_code = 2;
        return NULL;
    }
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    if (pl_experiment_load(argv[0], (const char *const *)argv + 1, argc - 1, &exp, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        *exit_code = 1;
        return NULL;
    }
    *exit_code = 0;
    return exp;
}
