/* threads.h - how many threads OpenMP kernels and OpenBLAS use.
 *
 * prunelab links the OpenMP build of OpenBLAS, so one setting (omp_set_num_threads in the
 * calling thread) governs both our kernels and SGEMM. */
#ifndef PL_CORE_THREADS_H
#define PL_CORE_THREADS_H

/* Cores available to this process. */
int pl_cores(void);
/* Sets the thread count for subsequent kernels and BLAS calls made by this thread. */
void pl_threads_set(int n);
int pl_threads_get(void);

#endif
