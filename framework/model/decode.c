/* decode.c - KV-cached greedy decoding (see decode.h).
 *
 * Shapes: B rows, Nq queries, T text tokens, L = Nq + T positions, D language width; block
 * l has A = heads·head_dim attention channels and F MLP channels. Position p of row b is
 * cached at kv[l] + (b·L + p)·2A: its key [A], then its value [A]. */
#include "model/decode.h"

#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "nn/activations.h"
#include "nn/attention.h"

/* Largest attention width and MLP width over the language blocks. */
static void widest(const vlm *m, int *attn, int *ffn, int *heads) {
    *attn = *ffn = *heads = 0;
    for (int l = 0; l < m->cfg.layers_language; l++) {
        const block_ref *b = &m->index.language_blocks[l];
        if (block_attn_dim(b) > *attn) *attn = block_attn_dim(b);
        if (b->ffn > *ffn) *ffn = b->ffn;
        if (b->heads > *heads) *heads = b->heads;
    }
}

pl_status vlm_decoder_create(vlm_decoder *d, const vlm *m, pl_error *err) {
    memset(d, 0, sizeof *d);
    const model_config *c = &m->cfg;
    const size_t B = (size_t)m->max_batch, L = (size_t)model_lm_len(c), D = (size_t)c->dim_language;
    int A, F, H;
    widest(m, &A, &F, &H);
    d->max_batch = m->max_batch, d->len = (int)L;
    size_t cache = 0;
    for (int l = 0; l < c->layers_language; l++)
        cache += B * L * 2 * (size_t)block_attn_dim(&m->index.language_blocks[l]);
    /* x h tmp [B,D]; mean rstd [B]; qkv [B,3A]; y [B,A]; wide act [B,F]; logits [B,V];
     * scores [B·H·L] */
    const size_t sizes[] = {B * D, B * D, B * D, B, B, B * 3 * A, B * A, B * F, B * F,
                            B * (size_t)c->vocab_size, B * H * L};
    float **slots[] = {&d->x, &d->h, &d->tmp, &d->mean, &d->rstd, &d->qkv, &d->y, &d->wide,
                       &d->act, &d->logits, &d->scores};
    size_t total = cache;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) total += sizes[i];
    d->mem = pl_alloc(total, sizeof(float), err);
    if (d->mem == NULL) return PL_ERR_NOMEM;
    float *at = d->mem;
    for (int l = 0; l < c->layers_language; l++) {
        const size_t n = B * L * 2 * (size_t)block_attn_dim(&m->index.language_blocks[l]);
        d->kv[l] = n > 0 ? at : NULL;
        at += n;
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *slots[i] = at;
        at += sizes[i];
    }
    return PL_OK;
}

void vlm_decoder_free(vlm_decoder *d) {
    pl_free(d->mem);
    memset(d, 0, sizeof *d);
}

weight_set vlm_inference_weights(vlm *m, const weight_set *w) {
    weight_set f = *w;
    f.grads = NULL, f.adapter_grads = NULL;
    if (w->masks == NULL && w->adapters == NULL) return f; /* every layer plain already */
    const param_index *pi = &m->index;
    const linear_ref stem[] = {pi->patch, pi->aux_head, pi->bridge_aux_head, pi->bridge_proj};
    for (size_t i = 0; i < sizeof stem / sizeof stem[0]; i++)
        if (linear_present(&stem[i])) ws_freeze_linear(w, &stem[i]);
    linear_ref refs[7 * MODULE_COUNT * VLM_MAX_LAYERS]; /* at most 7 per (bridge) block */
    const int n = param_block_linears(pi, &m->cfg, refs, NULL);
    for (int i = 0; i < n; i++) ws_freeze_linear(w, &refs[i]);
    f.frozen = 1;
    return f;
}

/* Copies the keys and values of positions 0..P-1 that a pass over row_len positions per
 * row (packed [B, row_len]) left in each block's qkv activation into the cache. */
static void cache_prompt(vlm_decoder *d, const vlm *m, int B, int P, int row_len) {
    for (int l = 0; l < m->cfg.layers_language; l++) {
        const int A = block_attn_dim(&m->index.language_blocks[l]);
        if (A == 0) continue;
        const float *qkv = m->language_acts[l].qkv;
#pragma omp parallel for schedule(static)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < P; t++)
                memcpy(d->kv[l] + ((size_t)b * d->len + t) * 2 * A,
                       qkv + ((size_t)b * row_len + t) * 3 * A + A, (size_t)2 * A * sizeof(float));
    }
}

/* One block at position p for every row: x [B, D] in and out; the new key and value go
 * into the cache, attention reads positions 0..p from it. */
static void block_step(vlm_decoder *d, const weight_set *w, const block_ref *blk, float *kv,
                       int B, int p) {
    const int D = blk->dim, A = block_attn_dim(blk), L = d->len;
    const size_t nd = (size_t)B * D;
    if (blk->heads > 0) {
        ws_norm_forward(w, &blk->ln_attn, d->h, d->mean, d->rstd, d->x, B, D);
        ws_linear_forward(w, &blk->qkv, d->qkv, d->h, B);
        for (int b = 0; b < B; b++)
            memcpy(kv + ((size_t)b * L + p) * 2 * A, d->qkv + (size_t)b * 3 * A + A,
                   (size_t)2 * A * sizeof(float));
        attention_decode_forward(d->y, d->scores, d->qkv, 3 * A, kv, kv + A, (long)L * 2 * A,
                                 2 * A, B, p + 1, A, blk->heads);
        ws_linear_forward(w, &blk->proj, d->tmp, d->y, B);
        residual_forward(d->x, d->x, d->tmp, nd);
    } else {
        block_bias_residual_forward(d->x, d->x, pl_buffer_view(w->params, blk->proj.bias), B, D);
    }
    if (blk->ffn > 0) {
        ws_norm_forward(w, &blk->ln_mlp, d->h, d->mean, d->rstd, d->x, B, D);
        ws_linear_forward(w, &blk->fc1, d->wide, d->h, B);
        gelu_forward(d->act, d->wide, (size_t)B * blk->ffn);
        ws_linear_forward(w, &blk->fc2, d->tmp, d->act, B);
        residual_forward(d->x, d->x, d->tmp, nd);
    } else {
        block_bias_residual_forward(d->x, d->x, pl_buffer_view(w->params, blk->fc2.bias), B, D);
    }
}

/* Logits [B, V] of the rows in d->x through the final norm and the tied head. */
static void head_step(vlm_decoder *d, const vlm *m, const weight_set *w, int B) {
    const int D = m->cfg.dim_language, V = m->cfg.vocab_size;
    const float *emb = pl_buffer_view(w->params, m->index.token_embedding);
    ws_norm_forward(w, &m->index.language_norm, d->h, d->mean, d->rstd, d->x, B, D);
    pl_sgemm(false, true, B, V, D, 1.0f, d->h, D, emb, D, 0.0f, d->logits, V);
}

/* The first index of the largest of n values. */
static int argmax(const float *row, int n) {
    int best = 0;
    for (int v = 1; v < n; v++)
        if (row[v] > row[best]) best = v;
    return best;
}

/* Decodes from the language pass m just ran over row_len positions per row (row_len >= P,
 * the prompt's length): its keys, values and the logits at P − 1. */
static void decode_after_pass(vlm *m, vlm_decoder *d, const weight_set *w, int *tokens,
                              int batch, int answer_start, int eos, int pad, int row_len) {
    const model_config *c = &m->cfg;
    const int T = c->text_len, V = c->vocab_size, Nq = c->num_queries, D = c->dim_language;
    const int P = Nq + answer_start + 1; /* the prompt: queries, question, separator */
    const float *emb = pl_buffer_view(w->params, m->index.token_embedding);
    const float *pos = pl_buffer_view(w->params, m->index.language_pos);
    cache_prompt(d, m, batch, P, row_len);
    for (int b = 0; b < batch; b++)
        memcpy(d->logits + (size_t)b * V, m->logits + ((size_t)b * row_len + P - 1) * V,
               (size_t)V * sizeof(float));
    for (int b = 0; b < batch; b++)
        for (int t = answer_start + 1; t < T; t++) tokens[(size_t)b * T + t] = pad;
    unsigned char done[batch];
    memset(done, 0, sizeof done);
    for (int t = answer_start + 1; t < T; t++) {
        /* d->logits predict text position t; write it, then run it through the model. */
        int remaining = 0;
        for (int b = 0; b < batch; b++) {
            const int best = argmax(d->logits + (size_t)b * V, V);
            if (!done[b]) tokens[(size_t)b * T + t] = best;
            if (best == eos) done[b] = 1;
            remaining += !done[b];
        }
        if (remaining == 0 || t + 1 == T) break;
        const int p = Nq + t; /* the new token's position in the language sequence */
        for (int b = 0; b < batch; b++) {
            const int token = tokens[(size_t)b * T + t]; /* pad on a finished row */
            float *x = d->x + (size_t)b * D;
            const float *e = emb + (size_t)token * D, *q = pos + (size_t)p * D;
            for (int j = 0; j < D; j++) x[j] = e[j] + q[j];
        }
        for (int l = 0; l < c->layers_language; l++)
            block_step(d, w, &m->index.language_blocks[l], d->kv[l], batch, p);
        head_step(d, m, w, batch);
    }
}

void vlm_generate(vlm *m, vlm_decoder *d, const weight_set *w, const float *images, int *tokens,
                  int batch, int answer_start, int eos, int pad) {
    const int P = m->cfg.num_queries + answer_start + 1;
    /* Prompt: one packed pass over P positions fills the cache; its last position's logits
     * give the first answer token. */
    vlm_encode(m, w, images, batch);
    vlm_language_forward_len(m, w, tokens, batch, P);
    decode_after_pass(m, d, w, tokens, batch, answer_start, eos, pad, P);
}

void vlm_generate_after_forward(vlm *m, vlm_decoder *d, const weight_set *w, int *tokens,
                                int batch, int answer_start, int eos, int pad) {
    decode_after_pass(m, d, w, tokens, batch, answer_start, eos, pad, model_lm_len(&m->cfg));
}

/* Top-1 minus top-2 of n values. */
static float top2_margin(const float *row, int n) {
    float a = row[0] > row[1] ? row[0] : row[1], b = row[0] > row[1] ? row[1] : row[0];
    for (int v = 2; v < n; v++) {
        if (row[v] > a) b = a, a = row[v];
        else if (row[v] > b) b = row[v];
    }
    return a - b;
}

void vlm_decode_compare(vlm *m, vlm_decoder *d, const weight_set *w, const float *images,
                        const int *prompts, int batch, int answer_start, int eos, int pad,
                        float tie, int *full, int *cached, decode_agreement *acc) {
    const model_config *c = &m->cfg;
    const int T = c->text_len, L = model_lm_len(c), V = c->vocab_size, Nq = c->num_queries;
    const size_t bytes = (size_t)batch * T * sizeof(int);
    memcpy(full, prompts, bytes);
    memcpy(cached, prompts, bytes);
    vlm_generate_full(m, w, images, full, batch, answer_start, eos, pad);
    const weight_set frozen = vlm_inference_weights(m, w);
    vlm_generate(m, d, &frozen, images, cached, batch, answer_start, eos, pad);
    /* The full model's logits over the fully decoded rows, for the margins. */
    const vlm_input in = {.images = images, .tokens = full, .batch = batch};
    vlm_forward(m, w, &in, (vlm_loss_weights){.task_weight = 1.0f});
    for (int b = 0; b < batch; b++) {
        const int *f = full + (size_t)b * T, *k = cached + (size_t)b * T;
        for (int t = answer_start + 1; t < T; t++) { /* generated: up to and with eos */
            acc->tokens++;
            if (f[t] == eos) break;
        }
        int first = -1;
        for (int t = answer_start + 1; t < T && first < 0; t++)
            if (f[t] != k[t]) first = t;
        acc->rows++;
        if (first < 0) continue;
        acc->differing_rows++;
        const float margin = top2_margin(m->logits + ((size_t)b * L + Nq + first - 1) * V, V);
        if (margin < tie) acc->near_ties++;
        if (acc->differing_rows == 1 || margin < acc->smallest_margin) acc->smallest_margin = margin;
    }
}
