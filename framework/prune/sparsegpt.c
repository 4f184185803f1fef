/* sparsegpt.c - SparseGPT pruning of one linear layer (see sparsegpt.h).
 *
 * Layer-wise problem: given calibration inputs X [n, in], find a masked Ŵ minimising
 * ‖XWᵀ − XŴᵀ‖². Every output row is an independent least-squares problem with the same
 * Hessian H = (2/n)·XᵀX (in × in). Optimal brain surgeon: removing weight q of a row and
 * re-fitting the rest costs w_q² / [H⁻¹]_qq and changes the row by
 *     δw = −(w_q / [H⁻¹]_qq) · H⁻¹[q, :].
 * SparseGPT processes the columns in order 0..in-1 and, after column i, drops it from the
 * problem (H⁻¹ of the remaining columns = H⁻¹ − H⁻¹[:, i]H⁻¹[i, :]/[H⁻¹]_ii). The rows
 * H⁻¹_(i)[i, i:] / sqrt([H⁻¹_(i)]_ii) of these successive inverses are exactly the rows of
 * the upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), so with d = U_ii:
 *     saliency of w_i      = w_i² / [H⁻¹_(i)]_ii = w_i² / d²
 *     err                  = (w_i − q_i) / d         (q_i = 0 if removed, w_i if kept)
 *     w_j ← w_j − err·U_ij for j > i                 (kept weights absorb the error)
 * Inside a block of B columns the update is applied column by column; the remaining
 * columns receive the block's errors in one batch at the end (lazy update:
 * W[:, i2:] −= Err · U[i1:i2, i2:]), which gives the same values. The unstructured mask
 * is chosen per block from the saliencies at the block's start (adaptive mask selection);
 * N:M groups are chosen when the sweep reaches their first column. */
#include "prune/sparsegpt.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/alloc.h"
#include "prune/par.h"

/* LAPACK (Fortran interface of OpenBLAS; Debian builds it without LAPACKE). The trailing
 * size_t is the hidden length of the character argument. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t len);

/* Column-major 'L' on a symmetric row-major matrix is row-major 'U': the factor left in
 * the row-major upper triangle is R with A = RᵀR. */
static int cholesky_upper(double *a, int n) {
    int info = 0;
    dpotrf_("L", &n, a, &n, &info, 1);
    return info;
}

/* In place: a = H (symmetric) → U, the upper Cholesky factor of H⁻¹ (lower part zeroed).
 * Returns 0 on success, the LAPACK info otherwise. */
static int inverse_cholesky(double *a, int n) {
    int info = cholesky_upper(a, n); /* H = RᵀR */
    if (info != 0) return info;
    dpotri_("L", &n, a, &n, &info, 1); /* H⁻¹ in the row-major upper triangle */
    if (info != 0) return info;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++) a[(size_t)i * n + j] = a[(size_t)j * n + i];
    info = cholesky_upper(a, n); /* H⁻¹ = UᵀU */
    if (info != 0) return info;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) a[(size_t)i * n + j] = 0.0;
        if (!(a[(size_t)i * n + i] > 0.0) || !isfinite(a[(size_t)i * n + i])) return n + 1;
    }
    return 0;
}

/* OpenBLAS runs LAPACK single-threaded inside an active OpenMP region; factorising from
 * one thread of a two-thread region makes U independent of the caller's thread count. */
static int inverse_cholesky_serial(double *a, int n) {
    int info = 0;
#pragma omp parallel num_threads(2)
#pragma omp single
    info = inverse_cholesky(a, n);
    return info;
}

/* U for H = (2/n)·xtx, dead inputs (H_jj = 0) given H_jj = 1, damped by λ = damp·mean
 * diag H; on failure retried with 10× the damping. */
static pl_status hessian_factor(double *u, const double *xtx, int cols, int64_t tokens,
                                const sparsegpt_options *opt, pl_error *err) {
    const size_t nn = (size_t)cols * cols;
    const double scale = 2.0 / (double)tokens;
    double mean = 0.0;
    for (int j = 0; j < cols; j++) {
        double h = scale * xtx[(size_t)j * cols + j];
        mean += h == 0.0 ? 1.0 : h;
    }
    mean /= cols;
    double damp = opt->damp;
    for (int attempt = 0; attempt <= opt->retries; attempt++, damp *= 10.0) {
        for (size_t i = 0; i < nn; i++) u[i] = scale * xtx[i];
        for (int j = 0; j < cols; j++) {
            double *h = &u[(size_t)j * cols + j];
            if (*h == 0.0) *h = 1.0;
            *h += damp * mean;
        }
        if (inverse_cholesky_serial(u, cols) == 0) return PL_OK;
    }
    return PL_ERROR(err, PL_ERR_NUMERIC,
                    "SparseGPT: the %d x %d Hessian is not positive definite even with damping "
                    "%g of its mean diagonal", cols, cols, damp / 10.0);
}

typedef struct { /* the state of one layer's sweep */
    double *w;   /* [rows, cols] working weights */
    double *u;   /* [cols, cols] upper Cholesky factor of H⁻¹ */
    double *e;   /* [rows, block] errors of the current block */
    float *mask; /* [rows, cols] */
    int rows, cols, block;
    const prune_rule *rule;
} sweep;

static double saliency(const sweep *s, int r, int j) {
    const double w = s->w[(size_t)r * s->cols + j], d = s->u[(size_t)j * s->cols + j];
    return s->mask[(size_t)r * s->cols + j] == 0.0f ? -INFINITY : (w * w) / (d * d);
}

/* Unstructured, adaptive: the block's share of the target, from the saliencies now.
 * Cumulative rounding makes the per-block counts add up to exactly the group's target. */
static pl_status select_block(sweep *s, int i1, int i2, prune_cand *buf, pl_error *err) {
    const int count = i2 - i1, cols = s->cols;
    if (s->rule->group == PRUNE_GROUP_MATRIX) {
        const size_t per_col = (size_t)s->rows;
        size_t k = prune_target_count(s->rule->sparsity, per_col * i2) -
                   prune_target_count(s->rule->sparsity, per_col * i1);
        prune_cand *c = pl_alloc((size_t)s->rows * count, sizeof *c, err);
        if (c == NULL) return PL_ERR_NOMEM;
        for (int r = 0; r < s->rows; r++)
            for (int j = i1; j < i2; j++) {
                prune_cand *x = &c[(size_t)r * count + (j - i1)];
                x->score = saliency(s, r, j);
                x->index = (size_t)r * cols + j;
            }
        prune_lowest(c, (size_t)s->rows * count, k, s->mask);
        pl_free(c);
        return PL_OK;
    }
    const size_t k = prune_target_count(s->rule->sparsity, (size_t)i2) -
                     prune_target_count(s->rule->sparsity, (size_t)i1);
#pragma omp parallel if ((size_t)s->rows * count * 8 > PRUNE_PAR_MIN)
    {
        prune_cand *c = buf + (size_t)omp_get_thread_num() * cols;
#pragma omp for schedule(static)
        for (int r = 0; r < s->rows; r++) {
            for (int j = i1; j < i2; j++) {
                c[j - i1].score = saliency(s, r, j);
                c[j - i1].index = (size_t)r * cols + j;
            }
            prune_lowest(c, (size_t)count, k, s->mask);
        }
    }
    return PL_OK;
}

/* One row through columns [i1, i2): OBS step per column, then the lazy batch update of
 * the columns after the block. */
static void sweep_row(sweep *s, int r, int i1, int i2, prune_cand *c) {
    const int cols = s->cols, m = s->rule->m;
    double *w = s->w + (size_t)r * cols, *e = s->e + (size_t)r * s->block;
    const float *mask = s->mask + (size_t)r * cols;
    for (int i = i1; i < i2; i++) {
        if (m > 0 && i % m == 0) { /* N:M: choose this group from the current weights */
            for (int j = 0; j < m; j++) {
                c[j].score = saliency(s, r, i + j);
                c[j].index = (size_t)r * cols + i + j;
            }
            prune_lowest(c, (size_t)m, (size_t)s->rule->n, s->mask);
        }
        const double *ui = s->u + (size_t)i * cols;
        const double q = mask[i] == 0.0f ? 0.0 : w[i];
        const double err = (w[i] - q) / ui[i];
        w[i] = q;
        for (int j = i + 1; j < i2; j++) w[j] -= err * ui[j];
        e[i - i1] = err;
    }
    for (int i = i1; i < i2; i++) { /* W[r, i2:] −= Σ_i err_i · U[i, i2:] */
        const double err = e[i - i1];
        if (err == 0.0) continue;
        const double *ui = s->u + (size_t)i * cols;
        for (int j = i2; j < cols; j++) w[j] -= err * ui[j];
    }
}

pl_status prune_layer_sparsegpt(float *w, float *mask, int rows, int cols, const double *xtx,
                                int64_t tokens, const sparsegpt_options *opt,
                                const prune_rule *rule, pl_error *err) {
    PL_TRY(prune_rule_check(rule, rows, cols, err));
    if (tokens <= 0)
        return PL_ERROR(err, PL_ERR_INVALID, "SparseGPT needs calibration tokens, got %lld",
                        (long long)tokens);
    if (opt->block < 1 || !(opt->damp > 0.0))
        return PL_ERROR(err, PL_ERR_CONFIG, "SparseGPT needs block >= 1 and damping > 0 (got %d, %g)",
                        opt->block, opt->damp);
    int block = opt->block < cols ? opt->block : cols;
    if (rule->m > 0) block = block < rule->m ? rule->m : block - block % rule->m;
    const int threads = omp_get_max_threads();
    sweep s = {0};
    s.rows = rows, s.cols = cols, s.block = block, s.rule = rule, s.mask = mask;
    s.w = pl_alloc((size_t)rows * cols, sizeof(double), err);
    s.u = pl_alloc((size_t)cols * cols, sizeof(double), err);
    s.e = pl_alloc((size_t)rows * block, sizeof(double), err);
    prune_cand *buf = pl_alloc((size_t)threads * cols, sizeof *buf, err);
    pl_status st = (s.w && s.u && s.e && buf) ? PL_OK : PL_ERR_NOMEM;
    if (st == PL_OK) st = hessian_factor(s.u, xtx, cols, tokens, opt, err);
    if (st == PL_OK) {
        for (size_t i = 0; i < (size_t)rows * cols; i++) s.w[i] = w[i];
        for (int i1 = 0; i1 < cols && st == PL_OK; i1 += block) {
            const int i2 = i1 + block < cols ? i1 + block : cols;
            if (rule->m == 0) st = select_block(&s, i1, i2, buf, err);
            if (st != PL_OK) break;
#pragma omp parallel num_threads(threads) if ((size_t)rows * (i2 - i1) * (cols - i1) > PRUNE_PAR_MIN)
            {
                prune_cand *c = buf + (size_t)omp_get_thread_num() * cols;
#pragma omp for schedule(static)
                for (int r = 0; r < rows; r++) sweep_row(&s, r, i1, i2, c);
            }
        }
    }
    if (st == PL_OK) {
        for (size_t i = 0; i < (size_t)rows * cols; i++) {
            if (!isfinite(s.w[i])) {
                st = PL_ERROR(err, PL_ERR_NUMERIC, "SparseGPT produced a non-finite weight at row %zu",
                              i / (size_t)cols);
                break;
            }
        }
    }
    if (st == PL_OK)
        for (size_t i = 0; i < (size_t)rows * cols; i++)
            w[i] = mask[i] == 0.0f ? 0.0f : (float)s.w[i];
    pl_free(s.w);
    pl_free(s.u);
    pl_free(s.e);
    pl_free(buf);
    return st;
}
