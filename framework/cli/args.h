/* args.h - small helpers the subcommands share for parsing their options. */
#ifndef PL_CLI_ARGS_H
#define PL_CLI_ARGS_H

/* Parses value (of option `flag`) as a whole number in [lo, hi]; on anything else prints
 * "prunelab <command>: <flag> expects a whole number from lo to hi, got 'value'" and
 * returns 0. */
int cli_int(const char *command, const char *flag, const char *value, long long lo,
            long long hi, long long *out);

#endif
