/* block.c - forward and backward of one pre-LN transformer block (see block.h). */
#include "model/block.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "nn/activations.h"
#include "nn/attention.h"

enum { ACT_COUNT = 22 };

/* Which sublayer an activation belongs to: declared only when that sublayer has units
 * (SUB_BRIDGE: in every bridge block, even one without cross-attention heads). */
typedef enum { SUB_ALL, SUB_ATTN, SUB_BRIDGE, SUB_CROSS, SUB_MLP } sublayer;

/* Activation sizes: n = batch·tokens rows of C, A, X or F channels (block.h). */
typedef enum { SZ_NC, SZ_N, SZ_N3A, SZ_NA, SZ_ATT, SZ_NX, SZ_CTX2X, SZ_CATT, SZ_NF } size_kind;

/* Activation roles in declaration order. */
static const struct {
    const char *name;
    size_t field;
    size_kind size;
    sublayer sub;
} ACTS[ACT_COUNT] = {
    {"ln_attn", offsetof(block_acts, ln_attn), SZ_NC, SUB_ATTN},
    {"ln_attn_mean", offsetof(block_acts, ln_attn_mean), SZ_N, SUB_ATTN},
    {"ln_attn_rstd", offsetof(block_acts, ln_attn_rstd), SZ_N, SUB_ATTN},
    {"qkv", offsetof(block_acts, qkv), SZ_N3A, SUB_ATTN},
    {"att", offsetof(block_acts, att), SZ_ATT, SUB_ATTN},
    {"attn_y", offsetof(block_acts, attn_y), SZ_NA, SUB_ATTN},
    {"res_attn", offsetof(block_acts, res_attn), SZ_NC, SUB_ALL},
    {"ln_cross", offsetof(block_acts, ln_cross), SZ_NC, SUB_CROSS},
    {"ln_cross_mean", offsetof(block_acts, ln_cross_mean), SZ_N, SUB_CROSS},
    {"ln_cross_rstd", offsetof(block_acts, ln_cross_rstd), SZ_N, SUB_CROSS},
    {"cross_q", offsetof(block_acts, cross_q), SZ_NX, SUB_CROSS},
    {"cross_kv", offsetof(block_acts, cross_kv), SZ_CTX2X, SUB_CROSS},
    {"cross_att", offsetof(block_acts, cross_att), SZ_CATT, SUB_CROSS},
    {"cross_y", offsetof(block_acts, cross_y), SZ_NX, SUB_CROSS},
    {"res_cross", offsetof(block_acts, res_cross), SZ_NC, SUB_BRIDGE},
    {"ln_mlp", offsetof(block_acts, ln_mlp), SZ_NC, SUB_MLP},
    {"ln_mlp_mean", offsetof(block_acts, ln_mlp_mean), SZ_N, SUB_MLP},
    {"ln_mlp_rstd", offsetof(block_acts, ln_mlp_rstd), SZ_N, SUB_MLP},
    {"fc1_grad", offsetof(block_acts, fc1_grad), SZ_NF, SUB_MLP},
    {"gelu", offsetof(block_acts, gelu), SZ_NF, SUB_MLP},
    {"out", offsetof(block_acts, out), SZ_NC, SUB_ALL},
    {NULL, 0, SZ_N, SUB_ALL},
};

static int has_sublayer(const block_ref *blk, sublayer sub) {
    switch (sub) {
    case SUB_ALL: return 1;
    case SUB_ATTN: return blk->heads > 0;
    case SUB_BRIDGE: return blk->has_cross;
    case SUB_CROSS: return blk->has_cross && blk->cross_heads > 0;
    case SUB_MLP: return blk->ffn > 0;
    }
    return 0;
}

static size_t size_of(size_kind k, const block_ref *blk, block_shape s) {
    const size_t n = (size_t)s.batch * s.tokens, c = (size_t)blk->dim;
    const size_t a = (size_t)block_attn_dim(blk), x = (size_t)block_cross_dim(blk);
    switch (k) {
    case SZ_NC: return n * c;
    case SZ_N: return n;
    case SZ_N3A: return 3 * n * a;
    case SZ_NA: return n * a;
    case SZ_ATT: return (size_t)s.batch * blk->heads * s.tokens * s.tokens;
    case SZ_NX: return n * x;
    case SZ_CTX2X: return (size_t)s.batch * s.ctx_tokens * 2 * x;
    case SZ_CATT: return (size_t)s.batch * blk->cross_heads * s.tokens * s.ctx_tokens;
    case SZ_NF: return n * (size_t)blk->ffn;
    }
    return 0;
}

size_t block_att_floats(const block_ref *blk, block_shape s) { return size_of(SZ_ATT, blk, s); }

pl_status block_acts_declare(pl_layout *layout, const char *prefix, const block_ref *blk,
                             block_shape s, int *first, pl_error *err) {
    *first = layout->count;
    char name[2 * PL_NAME_MAX]; /* over-long names are rejected by pl_layout_add */
    for (int i = 0; ACTS[i].name != NULL; i++) {
        if (!has_sublayer(blk, ACTS[i].sub)) continue;
        snprintf(name, sizeof name, "%s.%s", prefix, ACTS[i].name);
        const size_t floats = size_of(ACTS[i].size, blk, s);
        if (floats > (size_t)INT_MAX)
            return PL_ERROR(err, PL_ERR_CONFIG, "%s: activation %s needs %zu floats for %d rows, "
                            "more than one tensor holds; use a smaller batch or narrower block",
                            prefix, ACTS[i].name, floats, s.batch * s.tokens);
        int shape[1] = {(int)floats};
        PL_TRY(pl_layout_add(layout, name, 1, shape, NULL, err));
    }
    return PL_OK;
}

void block_acts_bind(block_acts *a, const pl_buffer *buf, const block_ref *blk, int first) {
    memset(a, 0, sizeof *a);
    int index = first;
    for (int i = 0; ACTS[i].name != NULL; i++) {
        if (!has_sublayer(blk, ACTS[i].sub)) continue;
        float **slot = (float **)((char *)a + ACTS[i].field);
        *slot = pl_buffer_view(buf, index++);
    }
    if (!blk->has_cross) a->res_cross = a->res_attn; /* r2 = r1 without cross-attention */
}

void block_scratch_sizes(const block_ref *blk, block_shape s, size_t sizes[BLOCK_SCRATCH_ROLES]) {
    const size_t nc = size_of(SZ_NC, blk, s), nf = size_of(SZ_NF, blk, s);
    const size_t nq = size_of(SZ_N3A, blk, s), nx = size_of(SZ_NX, blk, s);
    sizes[0] = nc, sizes[1] = nc, sizes[2] = nc, sizes[3] = nf;
    sizes[4] = nq > nx ? nq : nx;
    sizes[5] = size_of(SZ_CTX2X, blk, s);
    sizes[6] = size_of(SZ_ATT, blk, s);
}

void block_bias_residual_forward(float *out, const float *x, const float *bias, int n, int c) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++) out[(size_t)i * c + j] = x[(size_t)i * c + j] + bias[j];
}

/* Its backward: ∂L/∂x = ∂L/∂out (d_res unchanged), dbias[j] += Σ_i ∂L/∂out[i, j], summed
 * over i in order for every j (each thread owns whole columns: deterministic). */
static void bias_residual_backward(float *dbias, const float *d_res, int n, int c) {
    if (dbias == NULL) return;
#pragma omp parallel for schedule(static)
    for (int j = 0; j < c; j++) {
        float acc = 0.0f;
        for (int i = 0; i < n; i++) acc += d_res[(size_t)i * c + j];
        dbias[j] += acc;
    }
}

static const float *bias_of(const weight_set *w, const linear_ref *r) {
    return pl_buffer_view(w->params, r->bias);
}
static float *dbias_of(const weight_set *w, const linear_ref *r) {
    return w->grads ? pl_buffer_view(w->grads, r->bias) : NULL;
}

/* y[r, u·width + i] *= z[u] for rows r < n, units u < units (a head's slice or a neuron). */
static void gate_forward(float *y, const float *z, int n, int units, int width) {
    const size_t row = (size_t)units * width;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < n; r++)
        for (int u = 0; u < units; u++)
            for (int i = 0; i < width; i++) y[r * row + (size_t)u * width + i] *= z[u];
}

/* yg = z ⊙ y (yg what forward left): dz[u] += Σ_r,i y·dyg = Σ yg·dyg / z[u] (for z ≠ 0),
 * then dyg becomes dy = z ⊙ dyg. Each unit's sum runs over the rows in order. */
static void gate_backward(float *dz, float *dyg, const float *yg, const float *z, int n,
                          int units, int width) {
    const size_t row = (size_t)units * width;
    if (dz != NULL) {
#pragma omp parallel for schedule(static)
        for (int u = 0; u < units; u++) {
            if (z[u] == 0.0f) continue;
            double sum = 0.0;
            for (int r = 0; r < n; r++)
                for (int i = 0; i < width; i++) {
                    const size_t k = r * row + (size_t)u * width + i;
                    sum += (double)yg[k] * dyg[k];
                }
            dz[u] += (float)(sum / z[u]);
        }
    }
    gate_forward(dyg, z, n, units, width);
}

void block_forward(const weight_set *w, const block_ref *blk, const block_acts *a,
                   const block_scratch *sc, const float *x, const float *ctx, block_shape s,
                   const block_gates *g) {
    const int n = s.batch * s.tokens, c = blk->dim;
    const int A = block_attn_dim(blk), X = block_cross_dim(blk);
    const size_t nc = (size_t)n * c;
    /* Self-attention: q, k, v packed in one [n, 3A] activation. */
    if (blk->heads > 0) {
        ws_norm_forward(w, &blk->ln_attn, a->ln_attn, a->ln_attn_mean, a->ln_attn_rstd, x, n, c);
        ws_linear_forward(w, &blk->qkv, a->qkv, a->ln_attn, n);
        attention_forward(a->attn_y, a->att, a->qkv, 3 * A, a->qkv + A, a->qkv + 2 * A, 3 * A,
                          s.batch, s.tokens, s.tokens, A, blk->heads, blk->causal);
        if (g != NULL && g->heads != NULL) gate_forward(a->attn_y, g->heads, n, blk->heads, blk->head_dim);
        ws_linear_forward(w, &blk->proj, sc->tmp, a->attn_y, n);
        residual_forward(a->res_attn, x, sc->tmp, nc);
    } else {
        block_bias_residual_forward(a->res_attn, x, bias_of(w, &blk->proj), n, c);
    }
    /* Cross-attention: queries from this sequence, keys/values from ctx. */
    if (blk->has_cross && blk->cross_heads > 0) {
        ws_norm_forward(w, &blk->ln_cross, a->ln_cross, a->ln_cross_mean, a->ln_cross_rstd,
                        a->res_attn, n, c);
        ws_linear_forward(w, &blk->cross_q, a->cross_q, a->ln_cross, n);
        ws_linear_forward(w, &blk->cross_kv, a->cross_kv, ctx, s.batch * s.ctx_tokens);
        attention_forward(a->cross_y, a->cross_att, a->cross_q, X, a->cross_kv, a->cross_kv + X,
                          2 * X, s.batch, s.tokens, s.ctx_tokens, X, blk->cross_heads, 0);
        if (g != NULL && g->cross != NULL)
            gate_forward(a->cross_y, g->cross, n, blk->cross_heads, blk->head_dim);
        ws_linear_forward(w, &blk->cross_proj, sc->tmp, a->cross_y, n);
        residual_forward(a->res_cross, a->res_attn, sc->tmp, nc);
    } else if (blk->has_cross) {
        block_bias_residual_forward(a->res_cross, a->res_attn, bias_of(w, &blk->cross_proj), n, c);
    }
    /* MLP. */
    if (blk->ffn > 0) {
        ws_norm_forward(w, &blk->ln_mlp, a->ln_mlp, a->ln_mlp_mean, a->ln_mlp_rstd, a->res_cross,
                        n, c);
        ws_linear_forward(w, &blk->fc1, a->fc1_grad, a->ln_mlp, n);
        gelu_forward_keep_grad(a->gelu, a->fc1_grad, (size_t)n * blk->ffn);
        if (g != NULL && g->neurons != NULL) gate_forward(a->gelu, g->neurons, n, blk->ffn, 1);
        ws_linear_forward(w, &blk->fc2, sc->tmp, a->gelu, n);
        residual_forward(a->out, a->res_cross, sc->tmp, nc);
    } else {
        block_bias_residual_forward(a->out, a->res_cross, bias_of(w, &blk->fc2), n, c);
    }
}

/* Each branch f of a residual y = x + f(x) adds its input gradient into d_res, which
 * already holds ∂L/∂y (the identity path): ∂L/∂x = ∂L/∂y + J_fᵀ ∂L/∂y. */
void block_backward(const weight_set *w, const block_ref *blk, const block_acts *a,
                    const block_scratch *sc, float *d_res, float *d_ctx, const float *d_att,
                    const float *x, const float *ctx, block_shape s, const block_gates *g) {
    const int n = s.batch * s.tokens, c = blk->dim;
    const int A = block_attn_dim(blk), X = block_cross_dim(blk);
    const size_t nf = (size_t)n * blk->ffn;
    /* MLP branch: out = r2 + fc2(gelu(fc1(ln_mlp(r2)))). */
    if (blk->ffn > 0) {
        ws_linear_backward_set_dx(w, &blk->fc2, sc->d_wide, d_res, a->gelu, n);
        if (g != NULL && g->neurons != NULL)
            gate_backward(g->d_neurons, sc->d_wide, a->gelu, g->neurons, n, blk->ffn, 1);
        gelu_backward_from_grad(sc->d_wide, a->fc1_grad, nf); /* ∂L/∂gelu becomes ∂L/∂fc1 */
        ws_linear_backward_set_dx(w, &blk->fc1, sc->d_narrow, sc->d_wide, a->ln_mlp, n);
        ws_norm_backward(w, &blk->ln_mlp, d_res, sc->d_narrow, a->res_cross, a->ln_mlp_mean,
                         a->ln_mlp_rstd, n, c);
    } else {
        bias_residual_backward(dbias_of(w, &blk->fc2), d_res, n, c);
    }
    /* Cross-attention branch. */
    if (blk->has_cross && blk->cross_heads > 0) {
        const int nkv = s.batch * s.ctx_tokens;
        ws_linear_backward_set_dx(w, &blk->cross_proj, sc->d_narrow, d_res, a->cross_y, n);
        if (g != NULL && g->cross != NULL)
            gate_backward(g->d_cross, sc->d_narrow, a->cross_y, g->cross, n, blk->cross_heads,
                          blk->head_dim);
        attention_backward_set(sc->d_qkv, sc->d_kv, sc->d_kv + X, sc->d_narrow, NULL,
                               a->cross_att, a->cross_q, X, a->cross_kv, a->cross_kv + X, 2 * X,
                               s.batch, s.tokens, s.ctx_tokens, X, blk->cross_heads, 0);
        ws_linear_backward(w, &blk->cross_kv, d_ctx, sc->d_kv, ctx, nkv);
        ws_linear_backward_set_dx(w, &blk->cross_q, sc->d_narrow2, sc->d_qkv, a->ln_cross, n);
        ws_norm_backward(w, &blk->ln_cross, d_res, sc->d_narrow2, a->res_attn,
                         a->ln_cross_mean, a->ln_cross_rstd, n, c);
    } else if (blk->has_cross) {
        bias_residual_backward(dbias_of(w, &blk->cross_proj), d_res, n, c);
    }
    /* Self-attention branch. */
    if (blk->heads > 0) {
        ws_linear_backward_set_dx(w, &blk->proj, sc->d_narrow, d_res, a->attn_y, n);
        if (g != NULL && g->heads != NULL)
            gate_backward(g->d_heads, sc->d_narrow, a->attn_y, g->heads, n, blk->heads, blk->head_dim);
        attention_backward_set(sc->d_qkv, sc->d_qkv + A, sc->d_qkv + 2 * A, sc->d_narrow, d_att,
                               a->att, a->qkv, 3 * A, a->qkv + A, a->qkv + 2 * A, 3 * A,
                               s.batch, s.tokens, s.tokens, A, blk->heads, blk->causal);
        ws_linear_backward_set_dx(w, &blk->qkv, sc->d_narrow2, sc->d_qkv, a->ln_attn, n);
        ws_norm_backward(w, &blk->ln_attn, d_res, sc->d_narrow2, x, a->ln_attn_mean,
                         a->ln_attn_rstd, n, c);
    } else {
        bias_residual_backward(dbias_of(w, &blk->proj), d_res, n, c);
    }
}
