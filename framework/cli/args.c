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
