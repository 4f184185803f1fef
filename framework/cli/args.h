/* args.h - small helpers the subcommands share for parsing their options. */
#ifndef PL_CLI_ARGS_H
#define PL_CLI_ARGS_H

#include "engine/stage.h"

/* Parses value (of option `flag`) as a whole number in [lo, hi]; on anything else prints
 * "prunelab <command>: <flag> expects a whole number from lo to hi, got 'value'" and
 * returns 0. */
int cli_int(const char *command, const char *flag, const char *value, long long lo,
            long long hi, long long *out);

/* For commands of the form `FILE [key.path=value ...]`: prints usage (and returns NULL) when
 * argv[0] is missing or an option, prints the error (and returns NULL) when the experiment
 * does not load; *exit_code is 2 or 1 then. */
pl_experiment *cli_load_experiment(int argc, char **argv, const char *usage, int *exit_code);

#endif
