/* bench_kernels.c - linear forward+backward throughput against raw cblas_sgemm and against the
 * machine's FP32 peak measured by an FMA loop, in one run (make bench-kernels). */
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/gemm_bf16.h"
#include "core/startup.h"
#include "core/threads.h"
#include "core/timing.h"
#include "nn/linear.h"

/* Independent accumulator chains per thread: enough to cover FMA latency × issue width
 * (4 cycles × 2 pipes on Zen 4/5 and Skylake-X) without spilling registers. */
enum { ACCS = 12 };

#if defined(__AVX512F__)
typedef __m512 vf;
#define VF_LANES 16
#define VF_SET1 _mm512_set1_ps
#define VF_FMA _mm512_fmadd_ps
#define VF_SUM _mm512_reduce_add_ps
#define VF_ISA "AVX-512"
#elif defined(__FMA__)
typedef __m256 vf;
#define VF_LANES 8
#define VF_SET1 _mm256_set1_ps
#define VF_FMA _mm256_fmadd_ps
static float vf_sum256(__m256 v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#define VF_SUM vf_sum256
#define VF_ISA "AVX2+FMA"
#else
#error "bench_kernels needs FMA (build with -march=native on an x86-64 CPU with FMA)"
#endif

/* GFLOP/s of ACCS·VF_LANES FMAs (2 flops each) per iteration, every thread in parallel. */
static double fma_peak(long iters, float *sink) {
    double t0 = 0, t1 = 0;
    float total = 0.0f;
#pragma omp parallel reduction(+ : total)
    {
        vf acc[ACCS];
        const vf mul = VF_SET1(0.999999f), add = VF_SET1(1e-7f);
        for (int a = 0; a < ACCS; a++) acc[a] = VF_SET1((float)(a + omp_get_thread_num()));
#pragma omp barrier
#pragma omp master
        t0 = pl_now();
        for (long i = 0; i < iters; i++) {
            /* fully unrolled so the accumulators live in registers, not memory */
#pragma GCC unroll 16
            for (int a = 0; a < ACCS; a++) acc[a] = VF_FMA(acc[a], mul, add);
        }
#pragma omp barrier
#pragma omp master
        t1 = pl_now();
        for (int a = 0; a < ACCS; a++) total += VF_SUM(acc[a]);
    }
    *sink = total;
    const double flops = 2.0 * VF_LANES * ACCS * (double)iters * omp_get_max_threads();
    return flops / (t1 - t0) / 1e9;
}

typedef struct {
    int n, in, out;
} shape;

static float *randbuf(size_t count, unsigned seed) {
    float *p = pl_alloc(count, sizeof(float), NULL);
    if (p == NULL) {
        fprintf(stderr, "bench_kernels: out of memory\n");
        exit(1);
    }
    srand(seed);
    for (size_t i = 0; i < count; i++) p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return p;
}

/* Seconds per forward+backward, best of 3 timed batches after a warm-up; bf16: the layer's
 * BF16 products (numerics precision bf16). */
static double time_linear(const shape *s, adapter_kind kind, int rank, int bf16) {
    const size_t nx = (size_t)s->n * s->in, ny = (size_t)s->n * s->out, nw = (size_t)s->out * s->in;
    float *x = randbuf(nx, 1), *w = randbuf(nw, 2), *b = randbuf(s->out, 3), *dy = randbuf(ny, 4);
    float *y = randbuf(ny, 5), *dx = randbuf(nx, 6), *dw = randbuf(nw, 7), *db = randbuf(s->out, 8);
    float *m = randbuf(nw, 9), *weff = randbuf(nw, 10), *dweff = randbuf(nw, 11);
    float *a = randbuf((size_t)rank * s->in + 1, 12), *bb = randbuf((size_t)s->out * rank + 1, 13);
    float *da = randbuf((size_t)rank * s->in + 1, 14), *dbb = randbuf((size_t)s->out * rank + 1, 15);
    for (size_t i = 0; i < nw; i++) m[i] = m[i] > 0.0f ? 1.0f : 0.0f; /* ~50 % sparse */
    linear_params p = {.weight = w, .bias = b, .mask = kind == ADAPTER_NONE ? NULL : m,
                       .adapter = kind, .lora_a = a, .lora_b = bb, .rank = rank, .scale = 2.0f};
    linear_grads g = {dw, db, kind == ADAPTER_NONE ? NULL : da, kind == ADAPTER_NONE ? NULL : dbb};
    linear_bf16 h = {0};
    if (bf16) {
        h.weight = pl_alloc(nw, sizeof *h.weight, NULL), h.x = pl_alloc(nx, sizeof *h.x, NULL);
        h.dy = pl_alloc(ny, sizeof *h.dy, NULL);
        if (pl_bf16_gemm_create(&h.gemm, NULL) != PL_OK || !h.weight || !h.x || !h.dy) {
            fprintf(stderr, "bench_kernels: out of memory\n");
            exit(1);
        }
        p.bf16 = &h;
    }
    double best = 1e30;
    for (int batch = 0; batch < 4; batch++) {
        const int reps = 10;
        const double t0 = pl_now();
        for (int r = 0; r < reps; r++) {
            h.x_rounded = false; /* forward rounds x; backward reads that copy, as in training */
            linear_forward(y, weff, x, &p, s->n, s->in, s->out);
            h.x_rounded = bf16;
            linear_backward(dx, &g, dweff, dy, x, weff, &p, s->n, s->in, s->out);
        }
        const double dt = (pl_now() - t0) / reps;
        if (batch > 0 && dt < best) best = dt; /* batch 0 is the warm-up */
    }
    pl_free(x), pl_free(w), pl_free(b), pl_free(dy), pl_free(y), pl_free(dx), pl_free(dw);
    pl_free(db), pl_free(m), pl_free(weff), pl_free(dweff), pl_free(a), pl_free(bb);
    pl_free(da), pl_free(dbb);
    if (bf16) {
        pl_bf16_gemm_free(h.gemm);
        pl_free(h.weight), pl_free(h.x), pl_free(h.dy);
    }
    return best;
}

/* The same three GEMMs straight through cblas_sgemm: y = x·Wᵀ, dx += dy·W, dW += dyᵀ·x; or,
 * with onednn, through oneDNN's dnnl_sgemm (a candidate FP32 path, measured, not used). */
static double time_raw(const shape *s, int onednn) {
    const size_t nx = (size_t)s->n * s->in, ny = (size_t)s->n * s->out, nw = (size_t)s->out * s->in;
    float *x = randbuf(nx, 1), *w = randbuf(nw, 2), *dy = randbuf(ny, 4), *y = randbuf(ny, 5);
    float *dx = randbuf(nx, 6), *dw = randbuf(nw, 7);
    const int n = s->n, in = s->in, out = s->out;
    double best = 1e30;
    for (int batch = 0; batch < 4; batch++) {
        const int reps = 10;
        const double t0 = pl_now();
        for (int r = 0; r < reps; r++) {
            if (onednn) {
                if (dnnl_sgemm('N', 'T', n, out, in, 1.0f, x, in, w, in, 0.0f, y, out) ||
                    dnnl_sgemm('N', 'N', n, in, out, 1.0f, dy, out, w, in, 1.0f, dx, in) ||
                    dnnl_sgemm('T', 'N', out, in, n, 1.0f, dy, out, x, in, 1.0f, dw, in)) {
                    fprintf(stderr, "bench_kernels: dnnl_sgemm failed\n");
                    exit(1);
                }
                continue;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in,
                        0.0f, y, out);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w,
                        in, 1.0f, dx, in);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in,
                        1.0f, dw, in);
        }
        const double dt = (pl_now() - t0) / reps;
        if (batch > 0 && dt < best) best = dt;
    }
    pl_free(x), pl_free(w), pl_free(dy), pl_free(y), pl_free(dx), pl_free(dw);
    return best;
}

int main(int argc, char **argv) {
    (void)argc;
    pl_startup(argv);
    pl_threads_set(pl_cores());
    const int threads = pl_threads_get();
    printf("prunelab bench_kernels: %d thread(s), OpenBLAS core %s\n", threads, pl_blas_core_name());
    printf("OpenBLAS config: %s\n", pl_blas_config());

    float sink = 0.0f;
    fma_peak(2000000, &sink); /* warm-up: clocks up */
    double peak = 0.0;
    for (int r = 0; r < 3; r++) {
        const double gf = fma_peak(20000000, &sink);
        peak = gf > peak ? gf : peak;
    }
    printf("FP32 peak (%s FMA loop, %d accumulators, %d threads): %.1f GFLOP/s  [sink %g]\n\n",
           VF_ISA, ACCS, threads, peak, (double)sink);

    char why[256];
    const int bf16 = pl_bf16_supported(why, sizeof why);
    if (!bf16) printf("BF16 rows left out: %s\n", why);
    static const char *const MODES[4] = {"plain", "sparselora", "bf16", "bf16-slora"};
    const shape shapes[] = {{2048, 128, 512}, {2048, 512, 128}, {4096, 64, 192}};
    printf("linear forward+backward: 3 GEMMs of 2·N·IN·OUT flops (sparselora: rank 8, ~50%% mask;\n"
           "bf16: the products on BF16 operands, FP32 accumulation; raw = FP32 cblas_sgemm)\n");
    printf("%-22s %-10s %9s %10s %10s %11s %9s %9s\n", "N x IN -> OUT", "mode", "ms", "GFLOP/s",
           "raw GF/s", "lin/raw", "lin/peak", "raw/peak");
    enum { SHAPES = sizeof shapes / sizeof shapes[0] };
    double raw_gf[SHAPES];
    for (size_t i = 0; i < SHAPES; i++) {
        const shape *s = &shapes[i];
        const double flops = 3.0 * 2.0 * s->n * s->in * s->out;
        const double raw = raw_gf[i] = flops / time_raw(s, 0) / 1e9;
        for (int mode = 0; mode < (bf16 ? 4 : 2); mode++) {
            const double dt = time_linear(s, mode % 2 ? ADAPTER_SPARSELORA : ADAPTER_NONE,
                                          mode % 2 ? 8 : 0, mode >= 2);
            const double gf = flops / dt / 1e9;
            char label[32];
            snprintf(label, sizeof label, "%d x %d -> %d", s->n, s->in, s->out);
            printf("%-22s %-10s %9.3f %10.1f %10.1f %10.2f%% %8.1f%% %8.1f%%\n", label,
                   MODES[mode], dt * 1e3, gf, raw, 100.0 * gf / raw,
                   100.0 * gf / peak, 100.0 * raw / peak);
        }
    }
    /* The FP32 alternative the BF16 library offers: oneDNN's own SGEMM on the same products
     * (threaded by oneDNN; whether its sums are the same at every thread count is not
     * checked here, which prunelab would need before using it). */
    printf("\nFP32 products through oneDNN's dnnl_sgemm instead of OpenBLAS (same 3 GEMMs):\n");
    printf("%-22s %14s %14s %9s\n", "N x IN -> OUT", "OpenBLAS GF/s", "oneDNN GF/s", "ratio");
    for (size_t i = 0; i < SHAPES; i++) {
        const shape *s = &shapes[i];
        const double flops = 3.0 * 2.0 * s->n * s->in * s->out;
        const double blas = raw_gf[i], dnnl = flops / time_raw(s, 1) / 1e9; /* OpenBLAS: above */
        char label[32];
        snprintf(label, sizeof label, "%d x %d -> %d", s->n, s->in, s->out);
        printf("%-22s %14.1f %14.1f %8.2fx\n", label, blas, dnnl, dnnl / blas);
    }
    return 0;
}
