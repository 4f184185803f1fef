/* block.c - forward and backward of one pre-LN transformer block (see block.h). */
#include "model/block.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "nn/activations.h"
#include "nn/attention.h"

enum { ACT_COUNT = 22 };

/* Activation roles in declaration order; cross-attention roles only for bridge blocks. */
typedef enum { SZ_NC, SZ_N, SZ_N3C, SZ_ATT, SZ_CTX2C, SZ_CATT, SZ_NRC } size_kind;
static const struct {
    const char *name;
    size_t field;
    size_kind size;
    int cross;
} ACTS[ACT_COUNT] = {
    {"ln_attn", offsetof(block_acts, ln_attn), SZ_NC, 0},
    {"ln_attn_mean", offsetof(block_acts, ln_attn_mean), SZ_N, 0},
    {"ln_attn_rstd", offsetof(block_acts, ln_attn_rstd), SZ_N, 0},
    {"qkv", offsetof(block_acts, qkv), SZ_N3C, 0},
    {"att", offsetof(block_acts, att), SZ_ATT, 0},
    {"attn_y", offsetof(block_acts, attn_y), SZ_NC, 0},
    {"res_attn", offsetof(block_acts, res_attn), SZ_NC, 0},
    {"ln_cross", offsetof(block_acts, ln_cross), SZ_NC, 1},
    {"ln_cross_mean", offsetof(block_acts, ln_cross_mean), SZ_N, 1},
    {"ln_cross_rstd", offsetof(block_acts, ln_cross_rstd), SZ_N, 1},
    {"cross_q", offsetof(block_acts, cross_q), SZ_NC, 1},
    {"cross_kv", offsetof(block_acts, cross_kv), SZ_CTX2C, 1},
    {"cross_att", offsetof(block_acts, cross_att), SZ_CATT, 1},
    {"cross_y", offsetof(block_acts, cross_y), SZ_NC, 1},
    {"res_cross", offsetof(block_acts, res_cross), SZ_NC, 1},
    {"ln_mlp", offsetof(block_acts, ln_mlp), SZ_NC, 0},
    {"ln_mlp_mean", offsetof(block_acts, ln_mlp_mean), SZ_N, 0},
    {"ln_mlp_rstd", offsetof(block_acts, ln_mlp_rstd), SZ_N, 0},
    {"fc1", offsetof(block_acts, fc1), SZ_NRC, 0},
    {"gelu", offsetof(block_acts, gelu), SZ_NRC, 0},
    {"out", offsetof(block_acts, out), SZ_NC, 0},
    {NULL, 0, SZ_N, 0},
};

static size_t size_of(size_kind k, const block_ref *blk, int ratio, block_shape s) {
    size_t n = (size_t)s.batch * s.tokens, c = (size_t)blk->dim;
    switch (k) {
    case SZ_NC: return n * c;
    case SZ_N: return n;
    case SZ_N3C: return 3 * n * c;
    case SZ_ATT: return (size_t)s.batch * s.heads * s.tokens * s.tokens;
    case SZ_CTX2C: return (size_t)s.batch * s.ctx_tokens * 2 * c;
    case SZ_CATT: return (size_t)s.batch * s.heads * s.tokens * s.ctx_tokens;
    case SZ_NRC: return n * c * (size_t)ratio;
    }
    return 0;
}

pl_status block_acts_declare(pl_layout *layout, const char *prefix, const block_ref *blk,
                             int ratio, block_shape s, int *first, pl_error *err) {
    *first = layout->count;
    char name[2 * PL_NAME_MAX]; /* over-long names are rejected by pl_layout_add */
    for (int i = 0; ACTS[i].name != NULL; i++) {
        if (ACTS[i].cross && !blk->has_cross) continue;
        snprintf(name, sizeof name, "%s.%s", prefix, ACTS[i].name);
        int shape[1] = {(int)size_of(ACTS[i].size, blk, ratio, s)};
        PL_TRY(pl_layout_add(layout, name, 1, shape, NULL, err));
    }
    return PL_OK;
}

void block_acts_bind(block_acts *a, const pl_buffer *buf, const block_ref *blk, int first) {
    memset(a, 0, sizeof *a);
    int index = first;
    for (int i = 0; ACTS[i].name != NULL; i++) {
        if (ACTS[i].cross && !blk->has_cross) continue;
        float **slot = (float **)((char *)a + ACTS[i].field);
        *slot = pl_buffer_view(buf, index++);
    }
    if (!blk->has_cross) a->res_cross = a->res_attn; /* r2 = r1 without cross-attention */
}

void block_scratch_sizes(const block_ref *blk, int ratio, block_shape s,
                         size_t sizes[BLOCK_SCRATCH_ROLES]) {
    size_t nc = size_of(SZ_NC, blk, ratio, s), nrc = size_of(SZ_NRC, blk, ratio, s);
    sizes[0] = nc, sizes[1] = nc, sizes[2] = nc, sizes[3] = nrc, sizes[4] = nrc;
    sizes[5] = size_of(SZ_N3C, blk, ratio, s);
    sizes[6] = blk->has_cross ? size_of(SZ_CTX2C, blk, ratio, s) : 0;
    sizes[7] = size_of(SZ_ATT, blk, ratio, s);
}

void block_forward(const weight_set *w, const block_ref *blk, const block_acts *a,
                   const block_scratch *sc, const float *x, const float *ctx, block_shape s) {
    const int n = s.batch * s.tokens, c = blk->dim;
    const size_t nc = (size_t)n * c;
    /* Self-attention: q, k, v packed in one [n, 3C] activation. */
    ws_norm_forward(w, &blk->ln_attn, a->ln_attn, a->ln_attn_mean, a->ln_attn_rstd, x, n, c);
    ws_linear_forward(w, &blk->qkv, a->qkv, a->ln_attn, n);
    attention_forward(a->attn_y, a->att, a->qkv, 3 * c, a->qkv + c, a->qkv + 2 * c, 3 * c,
                      s.batch, s.tokens, s.tokens, c, s.heads, blk->causal);
    ws_linear_forward(w, &blk->proj, sc->tmp, a->attn_y, n);
    residual_forward(a->res_attn, x, sc->tmp, nc);
    /* Cross-attention: queries from this sequence, keys/values from ctx. */
    if (blk->has_cross) {
        ws_norm_forward(w, &blk->ln_cross, a->ln_cross, a->ln_cross_mean, a->ln_cross_rstd,
                        a->res_attn, n, c);
        ws_linear_forward(w, &blk->cross_q, a->cross_q, a->ln_cross, n);
        ws_linear_forward(w, &blk->cross_kv, a->cross_kv, ctx, s.batch * s.ctx_tokens);
        attention_forward(a->cross_y, a->cross_att, a->cross_q, c, a->cross_kv,
                          a->cross_kv + c, 2 * c, s.batch, s.tokens, s.ctx_tokens, c, s.heads, 0);
        ws_linear_forward(w, &blk->cross_proj, sc->tmp, a->cross_y, n);
        residual_forward(a->res_cross, a->res_attn, sc->tmp, nc);
    }
    /* MLP. */
    ws_norm_forward(w, &blk->ln_mlp, a->ln_mlp, a->ln_mlp_mean, a->ln_mlp_rstd, a->res_cross, n, c);
    ws_linear_forward(w, &blk->fc1, a->fc1, a->ln_mlp, n);
    gelu_forward(a->gelu, a->fc1, (size_t)n * blk->fc1.out);
    ws_linear_forward(w, &blk->fc2, sc->tmp, a->gelu, n);
    residual_forward(a->out, a->res_cross, sc->tmp, nc);
}

/* Each branch f of a residual y = x + f(x) adds its input gradient into d_res, which
 * already holds ∂L/∂y (the identity path): ∂L/∂x = ∂L/∂y + J_fᵀ ∂L/∂y. */
void block_backward(const weight_set *w, const block_ref *blk, const block_acts *a,
                    const block_scratch *sc, float *d_res, float *d_ctx, const float *d_att,
                    const float *x, const float *ctx, block_shape s) {
    const int n = s.batch * s.tokens, c = blk->dim;
    const size_t nc = (size_t)n * c, nrc = (size_t)n * blk->fc1.out;
    /* MLP branch: out = r2 + fc2(gelu(fc1(ln_mlp(r2)))). */
    memset(sc->d_wide, 0, nrc * sizeof(float));
    ws_linear_backward(w, &blk->fc2, sc->d_wide, d_res, a->gelu, n);
    memset(sc->d_wide2, 0, nrc * sizeof(float));
    gelu_backward(sc->d_wide2, a->fc1, sc->d_wide, nrc);
    memset(sc->d_narrow, 0, nc * sizeof(float));
    ws_linear_backward(w, &blk->fc1, sc->d_narrow, sc->d_wide2, a->ln_mlp, n);
    ws_norm_backward(w, &blk->ln_mlp, d_res, sc->d_narrow, a->res_cross, a->ln_mlp_mean,
                     a->ln_mlp_rstd, n, c);
    /* Cross-attention branch. */
    if (blk->has_cross) {
        const int nkv = s.batch * s.ctx_tokens;
        memset(sc->d_narrow, 0, nc * sizeof(float));
        ws_linear_backward(w, &blk->cross_proj, sc->d_narrow, d_res, a->cross_y, n);
        memset(sc->d_qkv, 0, nc * sizeof(float));
        memset(sc->d_kv, 0, (size_t)nkv * 2 * c * sizeof(float));
        attention_backward(sc->d_qkv, sc->d_kv, sc->d_kv + c, sc->d_narrow, NULL, a->cross_att,
                           a->cross_q, c, a->cross_kv, a->cross_kv + c, 2 * c, s.batch,
                           s.tokens, s.ctx_tokens, c, s.heads, 0);
        ws_linear_backward(w, &blk->cross_kv, d_ctx, sc->d_kv, ctx, nkv);
        memset(sc->d_narrow2, 0, nc * sizeof(float));
        ws_linear_backward(w, &blk->cross_q, sc->d_narrow2, sc->d_qkv, a->ln_cross, n);
        ws_norm_backward(w, &blk->ln_cross, d_res, sc->d_narrow2, a->res_attn,
                         a->ln_cross_mean, a->ln_cross_rstd, n, c);
    }
    /* Self-attention branch. */
    memset(sc->d_narrow, 0, nc * sizeof(float));
    ws_linear_backward(w, &blk->proj, sc->d_narrow, d_res, a->attn_y, n);
    memset(sc->d_qkv, 0, 3 * nc * sizeof(float));
    attention_backward(sc->d_qkv, sc->d_qkv + c, sc->d_qkv + 2 * c, sc->d_narrow, d_att, a->att,
                       a->qkv, 3 * c, a->qkv + c, a->qkv + 2 * c, 3 * c, s.batch, s.tokens,
                       s.tokens, c, s.heads, blk->causal);
    memset(sc->d_narrow2, 0, nc * sizeof(float));
    ws_linear_backward(w, &blk->qkv, sc->d_narrow2, sc->d_qkv, a->ln_attn, n);
    ws_norm_backward(w, &blk->ln_attn, d_res, sc->d_narrow2, x, a->ln_attn_mean,
                     a->ln_attn_rstd, n, c);
}
