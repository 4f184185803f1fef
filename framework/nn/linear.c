/* linear.c - fully connected layer with optional weight mask and LoRA / SparseLoRA adapter:
 * forward materialises W_eff, backward turns dW_eff into gradients of W, b, A and B. */
#include "nn/linear.h"

#include <assert.h>

#include "core/blas.h"

/* Column blocks for row reductions: a thread owns whole blocks of output columns and sums
 * its columns over the rows in row order, so the result never depends on the thread count. */
enum { COL_BLOCK = 16 };

int linear_needs_weff(const linear_params *p) {
    return p->mask != NULL || p->adapter != ADAPTER_NONE;
}

/* x ⊙= U for a LoRA layer with unit keep vectors: removed units' rows and columns become 0.
 * Each thread owns whole rows. */
static void mask_units(float *x, const linear_params *p, int in, int out) {
    if (p->adapter != ADAPTER_LORA || (p->keep_rows == NULL && p->keep_cols == NULL)) return;
    const float *kr = p->keep_rows, *kc = p->keep_cols;
#pragma omp parallel for schedule(static)
    for (int o = 0; o < out; o++) {
        float *row = x + (long)o * in;
        if (kr != NULL && kr[o] == 0.0f) {
            for (int i = 0; i < in; i++) row[i] = 0.0f;
            continue;
        }
        if (kc != NULL)
            for (int i = 0; i < in; i++)
                if (kc[i] == 0.0f) row[i] = 0.0f;
    }
}

const float *linear_effective_weight(float *weff, const linear_params *p, int in, int out) {
    if (!linear_needs_weff(p)) return p->weight;
    const float *w = p->weight, *m = p->mask;
    const long total = (long)out * in;
    const int sparse = p->adapter == ADAPTER_SPARSELORA;
    /* Start from W⊙M (masked, lora) or W (sparselora: the mask comes after the delta). */
#pragma omp parallel for schedule(static)
    for (long i = 0; i < total; i++) weff[i] = (m != NULL && !sparse) ? w[i] * m[i] : w[i];
    if (p->adapter != ADAPTER_NONE && p->rank > 0) {
        /* weff += s·B[out,rank]·A[rank,in] */
        pl_sgemm(false, false, out, in, p->rank, p->scale, p->lora_b, p->rank, p->lora_a, in,
                 1.0f, weff, in);
    }
    if (sparse && m != NULL) {
#pragma omp parallel for schedule(static)
        for (long i = 0; i < total; i++) weff[i] *= m[i];
    }
    mask_units(weff, p, in, out);
    return weff;
}

void linear_forward(float *y, float *weff, const float *x, const linear_params *p, int n,
                    int in, int out) {
    if (n <= 0 || out <= 0) return;
    const float *w = linear_effective_weight(weff, p, in, out);
    const linear_bf16 *h = p->bf16;
    if (h != NULL && in > 0) {
        /* y = round(x)·round(W_eff)ᵀ + b in one product (the bias in its epilogue); the
         * rounded W_eff stays for backward. */
        const pl_bf16_operand xh = {h->x, in, x, (size_t)n * in};
        const pl_bf16_operand wh = {h->weight, in, w, (size_t)out * in};
        pl_bf16_gemm_run(h->gemm, false, true, n, out, in, xh, wh, p->bias, false, y, out);
        return;
    }
    float beta = 0.0f;
    if (p->bias != NULL) {
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++)
            for (int o = 0; o < out; o++) y[(long)i * out + o] = p->bias[o];
        beta = 1.0f;
    }
    if (in <= 0) {
        if (p->bias == NULL)
            for (long i = 0; i < (long)n * out; i++) y[i] = 0.0f;
        return;
    }
    /* y[n,out] = x[n,in]·W_eff[out,in]ᵀ (+ bias already in y) */
    pl_sgemm(false, true, n, out, in, 1.0f, x, in, w, in, beta, y, out);
}

/* Rows per chunk of the factored delta: its x·Aᵀ block fits LORA_TILE floats on the stack. */
enum { LORA_TILE = 8192 };

void linear_lora_delta_forward(float *y, const float *x, const float *lora_a, const float *lora_b,
                               int rank, float scale, int n, int in, int out) {
    assert(rank <= (int)LINEAR_MAX_RANK && (int)LINEAR_MAX_RANK <= (int)LORA_TILE);
    if (n <= 0 || rank <= 0) return;
    float t[LORA_TILE];
    const int rows = LORA_TILE / rank;
    for (int r0 = 0; r0 < n; r0 += rows) {
        const int m = n - r0 < rows ? n - r0 : rows;
        /* t[m,rank] = x·Aᵀ, then y += s·t·Bᵀ */
        pl_sgemm(false, true, m, rank, in, 1.0f, x + (long)r0 * in, in, lora_a, in, 0.0f, t, rank);
        pl_sgemm(false, true, m, out, rank, scale, t, rank, lora_b, rank, 1.0f, y + (long)r0 * out, out);
    }
}

/* dbias[o] += Σ_i dy[i,o], summed over i in order for every o. */
static void bias_backward(float *dbias, const float *dy, int n, int out) {
    const int blocks = (out + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static)
    for (int blk = 0; blk < blocks; blk++) {
        const int o0 = blk * COL_BLOCK;
        const int width = out - o0 < COL_BLOCK ? out - o0 : COL_BLOCK;
        float acc[COL_BLOCK] = {0};
        for (int i = 0; i < n; i++) {
            const float *row = dy + (long)i * out + o0;
            for (int j = 0; j < width; j++) acc[j] += row[j];
        }
        for (int j = 0; j < width; j++) dbias[o0 + j] += acc[j];
    }
}

/* dw[out,in] (+)= dyᵀ·x: SGEMM, or the BF16 product of dy and x (rounded as the operands
 * say). */
static void weight_product(const linear_bf16 *h, pl_bf16_operand dyh, pl_bf16_operand xh,
                           float *dw, bool accumulate, const float *dy, const float *x, int n,
                           int in, int out) {
    if (h == NULL)
        pl_sgemm(true, false, out, in, n, 1.0f, dy, out, x, in, accumulate ? 1.0f : 0.0f, dw, in);
    else
        pl_bf16_gemm_run(h->gemm, true, false, out, in, n, dyh, xh, NULL, accumulate, dw, in);
}

/* dx_set: dx is written, not accumulated into (the same numbers as accumulating into zeros,
 * without the pass that zeroes it first). */
static void backward(float *dx, int dx_set, const linear_grads *g, float *dweff, const float *dy,
                     const float *x, const float *weff, const linear_params *p, int n, int in,
                     int out) {
    if (n <= 0 || out <= 0 || in <= 0) {
        if (dx != NULL && dx_set && n > 0 && in > 0) /* no outputs: dx = 0 */
            for (long i = 0; i < (long)n * in; i++) dx[i] = 0.0f;
        if (g != NULL && g->bias != NULL && n > 0 && out > 0) bias_backward(g->bias, dy, n, out);
        return;
    }
    const int plain = !linear_needs_weff(p);
    const float *w = plain ? p->weight : weff;
    const linear_bf16 *h = p->bf16;
    const int want_adapter = g != NULL && p->adapter != ADAPTER_NONE && p->rank > 0 &&
                             (g->lora_a != NULL || g->lora_b != NULL);
    /* BF16: dy is rounded once, by the first product that reads it, for both; x and W_eff
     * as forward rounded them (x again when h says its copy is not forward's). */
    pl_bf16_operand dyh = {0}, xh = {0}, wh = {0};
    if (h != NULL) {
        dyh = (pl_bf16_operand){h->dy, out, dy, (size_t)n * out};
        xh = (pl_bf16_operand){h->x, in, h->x_rounded ? NULL : x, (size_t)n * in};
        wh = (pl_bf16_operand){h->weight, in, NULL, 0};
    }

    /* y = x·W_effᵀ ⇒ dx = dy·W_eff */
    if (dx != NULL && h == NULL)
        pl_sgemm(false, false, n, in, out, 1.0f, dy, out, w, in, dx_set ? 0.0f : 1.0f, dx, in);
    if (dx != NULL && h != NULL) {
        /* BF16 keeps the zeroing: oneDNN's dot products flush denormal sums to a signed zero,
         * and only its sum post-op onto +0 turns −0 back into +0 as before (the zeros are
         * written tile by tile inside the product). */
        if (dx_set)
            pl_bf16_gemm_run_into_zeros(h->gemm, false, false, n, in, out, dyh, wh, dx, in);
        else
            pl_bf16_gemm_run(h->gemm, false, false, n, in, out, dyh, wh, NULL, true, dx, in);
        dyh.round_from = NULL; /* rounded now */
    }
    if (g == NULL) return;
    if (g->bias != NULL) bias_backward(g->bias, dy, n, out);

    if (plain) {
        /* dW += dyᵀ·x directly: W_eff = W, no mask to apply. */
        if (g->weight != NULL) weight_product(h, dyh, xh, g->weight, true, dy, x, n, in, out);
        return;
    }
    if (g->weight == NULL && !want_adapter) return;

    /* dW_eff[out,in] = dyᵀ·x */
    weight_product(h, dyh, xh, dweff, false, dy, x, n, in, out);
    const float *m = p->mask;
    const long total = (long)out * in;
    /* lora with unit keep vectors: W_eff = (W⊙M + s·B·A)⊙U, so both W and the delta see
     * dW_eff⊙U. */
    mask_units(dweff, p, in, out);

    if (p->adapter == ADAPTER_SPARSELORA) {
        /* W_eff = (W + s·B·A)⊙M: both W and the delta see G = dW_eff⊙M. G replaces dW_eff
         * in the scratch buffer. */
        if (m != NULL) {
#pragma omp parallel for schedule(static)
            for (long i = 0; i < total; i++) dweff[i] *= m[i];
        }
        if (g->weight != NULL) {
            float *dw = g->weight;
#pragma omp parallel for schedule(static)
            for (long i = 0; i < total; i++) dw[i] += dweff[i];
        }
    } else if (g->weight != NULL) {
        /* masked and lora: W enters as W⊙M, so dW = dW_eff⊙M; the delta sees dW_eff itself. */
        float *dw = g->weight;
#pragma omp parallel for schedule(static)
        for (long i = 0; i < total; i++) dw[i] += m != NULL ? dweff[i] * m[i] : dweff[i];
    }

    if (!want_adapter) return;
    /* delta = s·B·A with upstream G (G = dW_eff for lora, dW_eff⊙M for sparselora):
     * dB = s·G·Aᵀ [out,rank], dA = s·Bᵀ·G [rank,in]. */
    if (g->lora_b != NULL)
        pl_sgemm(false, true, out, p->rank, in, p->scale, dweff, in, p->lora_a, in, 1.0f,
                 g->lora_b, p->rank);
    if (g->lora_a != NULL)
        pl_sgemm(true, false, p->rank, in, out, p->scale, p->lora_b, p->rank, dweff, in, 1.0f,
                 g->lora_a, in);
}

void linear_backward(float *dx, const linear_grads *g, float *dweff, const float *dy,
                     const float *x, const float *weff, const linear_params *p, int n, int in,
                     int out) {
    backward(dx, 0, g, dweff, dy, x, weff, p, n, in, out);
}

void linear_backward_set_dx(float *dx, const linear_grads *g, float *dweff, const float *dy,
                            const float *x, const float *weff, const linear_params *p, int n,
                            int in, int out) {
    backward(dx, 1, g, dweff, dy, x, weff, p, n, in, out);
}
