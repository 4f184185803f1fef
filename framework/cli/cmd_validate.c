/* cmd_validate.c - `prunelab validate FILE [key=value ...]`: load, compose and check an
 * experiment and every run of its sweep, without running anything: the schema, then the
 * checks `prunelab run` makes before it starts (engine/preflight.h). */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "config/experiment.h"
#include "engine/preflight.h"

int cmd_validate(int argc, char **argv) {
    int code;
    pl_experiment *exp = cli_load_experiment(
        argc, argv,
        "usage: prunelab validate FILE [key.path=value ...]\n"
        "  checks the experiment FILE and every run of its sweep against the schema\n"
        "  (prunelab help config lists the sections and keys)\n",
        &code);
    if (exp == NULL) return code;
    pl_error err;
    pl_error_clear(&err);
    if (pl_preflight(exp, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        pl_experiment_free(exp);
        return 1;
    }
    printf("%s: valid; %d run%s (%d configuration%s x %d seed%s)", argv[0], exp->n_runs,
           exp->n_runs == 1 ? "" : "s", exp->n_groups, exp->n_groups == 1 ? "" : "s",
           exp->sweep->n_seeds, exp->sweep->n_seeds == 1 ? "" : "s");
    for (int i = 0; i < exp->sweep->n_dims; i++)
        printf("%s%s (%d)", i ? ", " : "; dimensions: ", exp->sweep->dims[i].name, exp->sweep->dims[i].size);
    printf("\n");
    pl_experiment_free(exp);
    return 0;
}
