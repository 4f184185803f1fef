/* attention.c - multi-head scaled dot-product attention (bidirectional, causal, cross):
 * per (batch, head) small SGEMMs, parallel over (batch, head) pairs. */
#include "nn/fastmath.h"
#include "nn/attention.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "core/blas.h"

/* Backward works on tiles of query rows whose dP/dS block fits this many floats on the
 * stack (64 KB); Tkv may not exceed it. */
enum { ATT_TILE = 16384 };

void attention_forward(float *out, float *att, const float *q, int q_stride, const float *k,
                       const float *v, int kv_stride, int B, int Tq, int Tkv, int C, int H,
                       int causal) {
    assert(!causal || Tq == Tkv);
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    /* Each (b,h) writes only att[b,h] and the hs columns of head h in out[b]. Inside the
     * parallel region OpenBLAS runs single-threaded, so every pair's numbers are fixed. */
#pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * H; bh++) {
        const int b = bh / H, h = bh % H;
        const float *Q = q + (long)b * Tq * q_stride + h * hs;
        const float *K = k + (long)b * Tkv * kv_stride + h * hs;
        const float *V = v + (long)b * Tkv * kv_stride + h * hs;
        float *A = att + (long)bh * Tq * Tkv;
        float *O = out + (long)b * Tq * C + h * hs;
        /* S = scale·Q·Kᵀ [Tq,Tkv] */
        pl_sgemm(false, true, Tq, Tkv, hs, scale, Q, q_stride, K, kv_stride, 0.0f, A, Tkv);
        for (int i = 0; i < Tq; i++) {
            float *row = A + (long)i * Tkv;
            const int lim = causal ? i + 1 : Tkv; /* causal: key j > i gets probability 0 */
            pl_softmax_row(row, row, lim);
            for (int j = lim; j < Tkv; j++) row[j] = 0.0f;
        }
        /* O = P·V [Tq,hs] */
        pl_sgemm(false, false, Tq, hs, Tkv, 1.0f, A, Tkv, V, kv_stride, 0.0f, O, C);
    }
}

/* dst[rows, width] (row stride ld) = 0. */
static void zero_rows(float *dst, int rows, int width, int ld) {
    for (int r = 0; r < rows; r++) memset(dst + (long)r * ld, 0, (size_t)width * sizeof(float));
}

/* set: each pair zeroes its own slices of dq, dk and dv before accumulating into them. */
static void backward(float *dq, float *dk, float *dv, int set, const float *dout,
                     const float *datt, const float *att, const float *q, int q_stride,
                     const float *k, const float *v, int kv_stride, int B, int Tq, int Tkv,
                     int C, int H, int causal) {
    assert(!causal || Tq == Tkv);
    assert(Tkv <= ATT_TILE);
    assert(H > 0 && C % H == 0); /* the pairs' slices cover all C columns (set zeroes them) */
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    const int tile_rows = ATT_TILE / Tkv < Tq ? ATT_TILE / Tkv : Tq;
    /* dk, dv of pair (b,h) receive contributions only from that pair: no races. */
#pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * H; bh++) {
        const int b = bh / H, h = bh % H;
        const float *Q = q + (long)b * Tq * q_stride + h * hs;
        const float *K = k + (long)b * Tkv * kv_stride + h * hs;
        const float *V = v + (long)b * Tkv * kv_stride + h * hs;
        const float *A = att + (long)bh * Tq * Tkv;
        const float *dO = dout + (long)b * Tq * C + h * hs;
        float *dQ = dq + (long)b * Tq * q_stride + h * hs;
        float *dK = dk + (long)b * Tkv * kv_stride + h * hs;
        float *dV = dv + (long)b * Tkv * kv_stride + h * hs;
        if (set) {
            zero_rows(dQ, Tq, hs, q_stride);
            zero_rows(dK, Tkv, hs, kv_stride);
            zero_rows(dV, Tkv, hs, kv_stride);
        }
        float tile[ATT_TILE];
        for (int r0 = 0; r0 < Tq; r0 += tile_rows) {
            const int rows = Tq - r0 < tile_rows ? Tq - r0 : tile_rows;
            const float *Ar = A + (long)r0 * Tkv, *dOr = dO + (long)r0 * C;
            /* O = P·V ⇒ dV += Pᵀ·dO, dP = dO·Vᵀ */
            pl_sgemm(true, false, Tkv, hs, rows, 1.0f, Ar, Tkv, dOr, C, 1.0f, dV, kv_stride);
            pl_sgemm(false, true, rows, Tkv, hs, 1.0f, dOr, C, V, kv_stride, 0.0f, tile, Tkv);
            /* A loss on P itself adds its ∂L/∂P to dP before the softmax backward. */
            if (datt != NULL) {
                const float *dPr = datt + (long)bh * Tq * Tkv + (long)r0 * Tkv;
                for (long e = 0; e < (long)rows * Tkv; e++) tile[e] += dPr[e];
            }
            /* P = softmax(S) row-wise ⇒ dS_ij = P_ij·(dP_ij − Σ_l P_il·dP_il); masked
             * entries have P = 0 and so dS = 0. The scale of S = scale·Q·Kᵀ folds in here. */
            for (int i = 0; i < rows; i++) {
                const float *p = Ar + (long)i * Tkv;
                float *d = tile + (long)i * Tkv;
                const int lim = causal ? r0 + i + 1 : Tkv;
                float dot = 0.0f;
                for (int j = 0; j < lim; j++) dot += p[j] * d[j];
                for (int j = 0; j < lim; j++) d[j] = scale * p[j] * (d[j] - dot);
                for (int j = lim; j < Tkv; j++) d[j] = 0.0f;
            }
            /* S' = Q·Kᵀ ⇒ dQ += dS'·K, dK += dS'ᵀ·Q */
            pl_sgemm(false, false, rows, hs, Tkv, 1.0f, tile, Tkv, K, kv_stride, 1.0f,
                     dQ + (long)r0 * q_stride, q_stride);
            pl_sgemm(true, false, Tkv, hs, rows, 1.0f, tile, Tkv, Q + (long)r0 * q_stride,
                     q_stride, 1.0f, dK, kv_stride);
        }
    }
}

void attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *datt,
                        const float *att, const float *q, int q_stride, const float *k,
                        const float *v, int kv_stride, int B, int Tq, int Tkv, int C, int H,
                        int causal) {
    backward(dq, dk, dv, 0, dout, datt, att, q, q_stride, k, v, kv_stride, B, Tq, Tkv, C, H,
             causal);
}

void attention_backward_set(float *dq, float *dk, float *dv, const float *dout,
                            const float *datt, const float *att, const float *q, int q_stride,
                            const float *k, const float *v, int kv_stride, int B, int Tq,
                            int Tkv, int C, int H, int causal) {
    backward(dq, dk, dv, 1, dout, datt, att, q, q_stride, k, v, kv_stride, B, Tq, Tkv, C, H,
             causal);
}

void attention_decode_forward(float *out, float *scores, const float *q, int q_stride,
                              const float *k, const float *v, long cache_stride, int kv_stride,
                              int B, int Tkv, int C, int H) {
    const int hs = C / H;
    const float scale = 1.0f / sqrtf((float)hs);
    /* Each (b,h) owns its score row and its hs output columns. */
#pragma omp parallel for schedule(static)
    for (int bh = 0; bh < B * H; bh++) {
        const int b = bh / H, h = bh % H;
        const float *Q = q + (long)b * q_stride + h * hs;
        const float *K = k + (long)b * cache_stride + h * hs;
        const float *V = v + (long)b * cache_stride + h * hs;
        float *S = scores + (long)bh * Tkv, *O = out + (long)b * C + h * hs;
        /* s_t = scale·q·k_t, p = softmax(s), o = Σ_t p_t v_t */
        for (int t = 0; t < Tkv; t++) {
            const float *kt = K + (long)t * kv_stride;
            float dot = 0.0f;
            for (int j = 0; j < hs; j++) dot += Q[j] * kt[j];
            S[t] = scale * dot;
        }
        pl_softmax_row(S, S, Tkv);
        for (int j = 0; j < hs; j++) O[j] = 0.0f;
        for (int t = 0; t < Tkv; t++) {
            const float *vt = V + (long)t * kv_stride;
            const float p = S[t];
            for (int j = 0; j < hs; j++) O[j] += p * vt[j];
        }
    }
}
