/* threads.c - thread-count settings shared by OpenMP kernels and OpenBLAS. */
#include "core/threads.h"

#include <omp.h>

/* Provided by OpenBLAS (declared here: cblas.h from the openmp build declares it too, but we
 * keep this file independent of the BLAS header). */
void openblas_set_num_threads(int num_threads);

int pl_cores(void) { return omp_get_num_procs(); }

void pl_threads_set(int n) {
    if (n < 1) n = 1;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int pl_threads_get(void) { return omp_get_max_threads(); }
