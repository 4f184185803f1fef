/* startup.c - environment defaults applied by re-executing once (see startup.h). */
#define _GNU_SOURCE
#include "core/startup.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"

void pl_startup(char **argv) {
    const char *opt = getenv("PRUNELAB_STARTUP");
    if ((opt != NULL && strcmp(opt, "0") == 0) || getenv("PRUNELAB_STARTED") != NULL) return;
    int changed = 0;
    const char *coretype = pl_blas_better_coretype();
    if (coretype != NULL && setenv("OPENBLAS_CORETYPE", coretype, 1) == 0) changed = 1;
    if (getenv("OMP_WAIT_POLICY") == NULL && getenv("GOMP_SPINCOUNT") == NULL &&
        setenv("GOMP_SPINCOUNT", PL_GOMP_SPINCOUNT, 1) == 0)
        changed = 1;
    if (!changed || setenv("PRUNELAB_STARTED", "1", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* execv failed: carry on with what is loaded. */
}
