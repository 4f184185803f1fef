/* blas.h - the one door to matrix products: row-major SGEMM through OpenBLAS.
 *
 * C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, with op = transpose when the flag
 * is set; lda/ldb/ldc are row strides of the matrices as stored. Also which OpenBLAS
 * kernels would be faster on CPUs that Debian's build misidentifies (see core/startup.h). */
#ifndef PL_CORE_BLAS_H
#define PL_CORE_BLAS_H

#include <stdbool.h>

void pl_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
              int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* The same in double precision (pruning statistics). */
void pl_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc);

/* OpenBLAS's name for the kernel family in use (e.g. "SkylakeX") and its build config. */
const char *pl_blas_core_name(void);
const char *pl_blas_config(void);

/* The OPENBLAS_CORETYPE that would run faster than the kernels loaded now, or NULL. */
const char *pl_blas_better_coretype(void);

#endif
