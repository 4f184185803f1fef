/* cmd_help.c - `prunelab help <topic>`: reference text generated from the library, today
 * `help config [section]` from the config schema. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "config/schema.h"
#include "engine/stage.h"

int cmd_help(int argc, char **argv) {
    if (argc >= 1 && strcmp(argv[0], "config") == 0) {
        pl_error err;
        pl_error_clear(&err);
        if (cfg_schema_help(stdout, pl_stage_catalog(), argc >= 2 ? argv[1] : NULL, &err) != PL_OK) {
            pl_error_print(stderr, &err);
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "prunelab: no help topic '%s'; try `prunelab help` or `prunelab help config [section]`\n",
            argc >= 1 ? argv[0] : "");
    return 2;
}
