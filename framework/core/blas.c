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

void pl_blas_prefer_fast_kernels(char **argv) {
    const char *opt = getenv("PRUNELAB_BLAS_AUTO");
    if (opt != NULL && strcmp(opt, "0") == 0) return;
    if (getenv("PRUNELAB_BLAS_REEXECED") != NULL) return; /* never loop */
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || is_avx512_core(openblas_get_corename())) return;
    /* Debian 12's OpenBLAS 0.3.21 does not know AMD Zen 4/5 and falls back to its Haswell
     * (AVX2) kernels, about half the speed of its SkylakeX (AVX-512) kernels there. Some
     * images also preset OPENBLAS_CORETYPE=Haswell; on an AVX-512 CPU we override that too,
     * since it is never the faster choice. PRUNELAB_BLAS_AUTO=0 keeps the environment. */
    if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) != 0) return;
    if (setenv("PRUNELAB_BLAS_REEXECED", "1", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* execv failed: carry on with the kernels already loaded. */
}
