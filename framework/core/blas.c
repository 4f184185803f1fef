/* blas.c - row-major SGEMM wrapper and OpenBLAS kernel selection. */
#define _GNU_SOURCE
#include "core/blas.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void pl_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
              int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                ldc);
}

void pl_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc) {
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                ldc);
}

const char *pl_blas_core_name(void) { return openblas_get_corename(); }
const char *pl_blas_config(void) { return openblas_get_config(); }

static int is_avx512_core(const char *name) {
    return strcmp(name, "SkylakeX") == 0 || strcmp(name, "Cooperlake") == 0 ||
           strcmp(name, "SapphireRapids") == 0;
}

const char *pl_blas_better_coretype(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || is_avx512_core(openblas_get_corename())) return NULL;
    /* Debian 12's OpenBLAS 0.3.21 does not know AMD Zen 4/5 and falls back to its Haswell
     * (AVX2) kernels, about half the speed of its SkylakeX (AVX-512) kernels there; some
     * images even preset OPENBLAS_CORETYPE=Haswell. On an AVX-512 CPU SkylakeX is never
     * the slower choice. */
    return "SkylakeX";
}
