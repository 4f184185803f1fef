/* cmd_version.c - `prunelab version`: what build and kernels this binary runs with. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "core/blas.h"
#include "core/gemm_bf16.h"
#include "core/threads.h"

#define PRUNELAB_VERSION "0.1.0"

int cmd_version(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("prunelab %s\n", PRUNELAB_VERSION);
    printf("openblas: %s (kernels: %s)\n", pl_blas_config(), pl_blas_core_name());
    char bf16[256];
    if (pl_bf16_supported(bf16, sizeof bf16)) pl_bf16_describe(bf16, sizeof bf16);
    else snprintf(bf16, sizeof bf16, "bf16: unavailable (%s)", pl_bf16_isa_name());
    printf("numerics.precision %s\n", bf16);
    const char *wait = getenv("OMP_WAIT_POLICY"), *spin = getenv("GOMP_SPINCOUNT");
    printf("threads: %d of %d cores (OpenMP wait policy: %s, spin count: %s)\n", pl_threads_get(),
           pl_cores(), wait ? wait : "default", spin ? spin : "default");
    return 0;
}
