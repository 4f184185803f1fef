/* run_select.h - `prunelab run --runs-from FILE --task N`: which runs of an experiment one
 * Slurm array task runs. FILE is the run table `prunelab slurm` writes (engine/slurm.h):
 * TSV lines "task<TAB>run_id", '#' comments. */
#ifndef PL_CLI_RUN_SELECT_H
#define PL_CLI_RUN_SELECT_H

#include <stdbool.h>

#include "config/experiment.h"

/* only[r] = run r of exp is listed for task; fails when the file cannot be read or lists a
 * run id the experiment does not have (its file or overrides changed since submission). */
pl_status pl_run_select(const pl_experiment *exp, const char *file, long task, bool *only, pl_error *err);

#endif
