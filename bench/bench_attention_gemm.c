/* bench_attention_gemm.c - attention's per-head matrix products through OpenBLAS (what
 * nn/attention.c calls) against libxsmm's JIT small-matrix kernels, the other small-GEMM
 * library Debian ships, on the shapes of the `small` preset (run by make bench-kernels).
 *
 * The step runs these products inside attention's parallel loop over (sample, head) pairs,
 * one thread per pair, on strided views of the fused QKV buffer (row stride 3·C) and of the
 * per-pair score tile. This program does the same: every thread repeats one product on its
 * own buffers, and the GFLOP/s are of all threads together. It also says whether libxsmm's
 * result has the same bits as OpenBLAS's: if it did not, switching would change every number
 * a stage computes.
 *
 * libxsmm is column-major; a row-major product C = op(A)·op(B) is the column-major
 * Cᵀ = op(B)ᵀ·op(A)ᵀ, so the operands swap and a row-major transposed B becomes a
 * column-major transposed A, which libxsmm 1.17's JIT does not generate (dispatch returns
 * NULL; reported as "no kernel"). */
#include <cblas.h>
#include <libxsmm.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/startup.h"
#include "core/threads.h"
#include "core/timing.h"

typedef struct {
    const char *what;
    int trans_a, trans_b, m, n, k, lda, ldb, ldc;
    float beta;
} product;

typedef struct {
    double openblas_gflops, xsmm_gflops; /* xsmm_gflops < 0: no kernel */
    int same_bits;
} result;

/* Largest operand any product below reads or writes, in floats (T <= 64, strides <= 3·C). */
enum { OPERAND_FLOATS = 64 * 384 };

static void fill(float *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
    }
}

static void openblas_call(const product *p, const float *a, const float *b, float *c) {
    cblas_sgemm(CblasRowMajor, p->trans_a ? CblasTrans : CblasNoTrans,
                p->trans_b ? CblasTrans : CblasNoTrans, p->m, p->n, p->k, 1.0f, a, p->lda, b,
                p->ldb, p->beta, c, p->ldc);
}

static libxsmm_smmfunction xsmm_kernel(const product *p) {
    const libxsmm_blasint lda = p->ldb, ldb = p->lda, ldc = p->ldc; /* operands swapped */
    const float alpha = 1.0f, beta = p->beta;
    const int flags = (p->trans_b ? LIBXSMM_GEMM_FLAG_TRANS_A : 0) |
                      (p->trans_a ? LIBXSMM_GEMM_FLAG_TRANS_B : 0);
    return libxsmm_smmdispatch(p->n, p->m, p->k, &lda, &ldb, &ldc, &alpha, &beta, &flags, NULL);
}

/* GFLOP/s of every thread repeating the product `reps` times on its own buffers; best of 3. */
static double time_product(const product *p, libxsmm_smmfunction kernel, int reps) {
    double best = 0.0;
    for (int round = 0; round < 4; round++) {
        double t0 = 0.0, t1 = 0.0;
        int failed = 0;
#pragma omp parallel reduction(| : failed)
        {
            float *a = pl_alloc(OPERAND_FLOATS, sizeof(float), NULL);
            float *b = pl_alloc(OPERAND_FLOATS, sizeof(float), NULL);
            float *c = pl_alloc(OPERAND_FLOATS, sizeof(float), NULL);
            failed = a == NULL || b == NULL || c == NULL;
            if (!failed) {
                fill(a, OPERAND_FLOATS, 1u + (unsigned)omp_get_thread_num());
                fill(b, OPERAND_FLOATS, 7u + (unsigned)omp_get_thread_num());
                memset(c, 0, OPERAND_FLOATS * sizeof(float));
            }
#pragma omp barrier
#pragma omp master
            t0 = pl_now();
            for (int r = 0; r < reps && !failed; r++) {
                if (kernel) kernel(b, a, c);
                else openblas_call(p, a, b, c);
            }
#pragma omp barrier
#pragma omp master
            t1 = pl_now();
            pl_free(a), pl_free(b), pl_free(c);
        }
        if (failed) {
            fprintf(stderr, "bench_attention_gemm: out of memory\n");
            exit(1);
        }
        const double gf = 2.0 * p->m * p->n * p->k * (double)reps * omp_get_max_threads() /
                          (t1 - t0) / 1e9;
        if (round > 0 && gf > best) best = gf; /* round 0 is the warm-up */
    }
    return best;
}

/* Whether one libxsmm call leaves exactly OpenBLAS's bits in C (beta = 1 adds into the same
 * nonzero start). */
static int same_bits(const product *p, libxsmm_smmfunction kernel) {
    float *a = pl_alloc(OPERAND_FLOATS, sizeof(float), NULL);
    float *b = pl_alloc(OPERAND_FLOATS, sizeof(float), NULL);
    float *c1 = pl_alloc(OPERAND_FLOATS, sizeof(float), NULL);
    float *c2 = pl_alloc(OPERAND_FLOATS, sizeof(float), NULL);
    if (!a || !b || !c1 || !c2) {
        fprintf(stderr, "bench_attention_gemm: out of memory\n");
        exit(1);
    }
    fill(a, OPERAND_FLOATS, 3), fill(b, OPERAND_FLOATS, 5), fill(c1, OPERAND_FLOATS, 9);
    memcpy(c2, c1, OPERAND_FLOATS * sizeof(float));
    openblas_call(p, a, b, c1);
    kernel(b, a, c2);
    const int same = memcmp(c1, c2, OPERAND_FLOATS * sizeof(float)) == 0;
    pl_free(a), pl_free(b), pl_free(c1), pl_free(c2);
    return same;
}

int main(int argc, char **argv) {
    (void)argc;
    pl_startup(argv);
    pl_threads_set(pl_cores());
    libxsmm_init();
    const int threads = pl_threads_get();
    printf("prunelab bench_attention_gemm: attention's per-head products of `small` (head width "
           "32), one per thread, %d thread(s);\nOpenBLAS %s (what attention calls) vs libxsmm "
           "%s JIT; GFLOP/s of all threads\n",
           threads, pl_blas_core_name(), LIBXSMM_VERSION);
    /* Vision self-attention: T = 64 tokens, C = 128, Q/K/V rows of 3·C = 384 floats; the
     * language tower's T = 30 likewise. Forward: scores = Q·Kᵀ, out = P·V; backward:
     * dV += Pᵀ·dO, dP = dO·Vᵀ, dQ += dS·K, dK += dSᵀ·Q. */
    const product products[] = {
        {"vision  scores Q.K^T", 0, 1, 64, 64, 32, 384, 384, 64, 0.0f},
        {"vision  out P.V", 0, 0, 64, 32, 64, 64, 384, 128, 0.0f},
        {"vision  dV += P^T.dO", 1, 0, 64, 32, 64, 64, 128, 384, 1.0f},
        {"vision  dP = dO.V^T", 0, 1, 64, 64, 32, 128, 384, 64, 0.0f},
        {"vision  dQ += dS.K", 0, 0, 64, 32, 64, 64, 384, 384, 1.0f},
        {"vision  dK += dS^T.Q", 1, 0, 64, 32, 64, 64, 384, 384, 1.0f},
        {"language scores Q.K^T", 0, 1, 30, 30, 32, 384, 384, 30, 0.0f},
        {"language out P.V", 0, 0, 30, 32, 30, 30, 384, 128, 0.0f},
        {"language dV += P^T.dO", 1, 0, 30, 32, 30, 30, 128, 384, 1.0f},
        {"language dQ += dS.K", 0, 0, 30, 32, 30, 30, 384, 384, 1.0f},
    };
    printf("%-34s %14s %14s %8s %10s\n", "product (M x N x K)", "OpenBLAS GF/s", "libxsmm GF/s",
           "ratio", "same bits");
    double blas_time = 0.0, xsmm_time = 0.0; /* seconds for one call of each, where both ran */
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        const product *p = &products[i];
        const double flops = 2.0 * p->m * p->n * p->k;
        const int reps = (int)(4e8 / flops);
        const libxsmm_smmfunction kernel = xsmm_kernel(p);
        result r = {time_product(p, NULL, reps), -1.0, 0};
        if (kernel) r.xsmm_gflops = time_product(p, kernel, reps), r.same_bits = same_bits(p, kernel);
        char label[64];
        snprintf(label, sizeof label, "%s (%dx%dx%d)", p->what, p->m, p->n, p->k);
        if (kernel) {
            printf("%-34s %14.1f %14.1f %7.2fx %10s\n", label, r.openblas_gflops, r.xsmm_gflops,
                   r.xsmm_gflops / r.openblas_gflops, r.same_bits ? "yes" : "no");
            blas_time += flops / r.openblas_gflops, xsmm_time += flops / r.xsmm_gflops;
        } else {
            printf("%-34s %14.1f %14s %8s %10s\n", label, r.openblas_gflops, "no kernel", "-", "-");
        }
    }
    if (xsmm_time > 0.0)
        printf("where libxsmm has a kernel, one call of each takes %.2fx OpenBLAS's time\n",
               xsmm_time / blas_time);
    libxsmm_finalize();
    return 0;
}
