/* stats.c - accumulating calibration statistics of a layer's inputs (see stats.h). */
#include "prune/stats.h"

#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "prune/par.h"

enum { XTX_TILE = 32 }; /* rows of the Gram matrix one thread computes per BLAS call */

pl_status prune_stats_init(prune_stats *s, int in, int want_xtx, pl_error *err) {
    memset(s, 0, sizeof *s);
    if (in <= 0) return PL_ERROR(err, PL_ERR_INVALID, "layer input width %d", in);
    s->in = in;
    s->sumsq = pl_alloc((size_t)in, sizeof(double), err);
    if (s->sumsq == NULL) return PL_ERR_NOMEM;
    if (want_xtx) {
        s->xtx = pl_alloc((size_t)in * in, sizeof(double), err);
        if (s->xtx == NULL) {
            prune_stats_free(s);
            return PL_ERR_NOMEM;
        }
    }
    return PL_OK;
}

void prune_stats_free(prune_stats *s) {
    pl_free(s->sumsq);
    pl_free(s->xtx);
    memset(s, 0, sizeof *s);
}

/* Gram matrix in double: G[j, :] += Σ_t x_tj x_t. Each tile of XTX_TILE rows of G is one
 * single-threaded dgemm (OpenBLAS runs single-threaded inside an OpenMP region), so every
 * element is summed in the same order whatever the thread count. */
static pl_status add_xtx(double *g, const float *x, int n, int in, pl_error *err) {
    double *xd = pl_alloc((size_t)n * in, sizeof *xd, err);
    if (xd == NULL) return PL_ERR_NOMEM;
#pragma omp parallel for schedule(static) if ((size_t)n * in > PRUNE_PAR_MIN)
    for (size_t i = 0; i < (size_t)n * in; i++) xd[i] = x[i];
    const int tiles = (in + XTX_TILE - 1) / XTX_TILE;
#pragma omp parallel for schedule(dynamic, 1) if (tiles > 1)
    for (int t = 0; t < tiles; t++) {
        const int j0 = t * XTX_TILE, rows = in - j0 < XTX_TILE ? in - j0 : XTX_TILE;
        /* G[j0:j0+rows, :] += X[:, j0:j0+rows]ᵀ · X */
        pl_dgemm(true, false, rows, in, n, 1.0, xd + j0, in, xd, in, 1.0, g + (size_t)j0 * in, in);
    }
    pl_free(xd);
    return PL_OK;
}

pl_status prune_stats_add(prune_stats *s, const float *x, int n, pl_error *err) {
    if (n <= 0) return PL_OK;
    const int in = s->in;
    /* Σ x² per column: each thread owns a slice of columns and sums its rows in order. */
    enum { SLICE = 64 };
    const int slices = (in + SLICE - 1) / SLICE;
#pragma omp parallel for schedule(static) if ((size_t)n * in > PRUNE_PAR_MIN)
    for (int sl = 0; sl < slices; sl++) {
        const int j0 = sl * SLICE, j1 = j0 + SLICE < in ? j0 + SLICE : in;
        double *acc = s->sumsq;
        for (int t = 0; t < n; t++) {
            const float *row = x + (size_t)t * in;
            for (int j = j0; j < j1; j++) acc[j] += (double)row[j] * row[j];
        }
    }
    if (s->xtx) PL_TRY(add_xtx(s->xtx, x, n, in, err));
    s->tokens += n;
    return PL_OK;
}
