/* latency.c - timed KV-cached greedy decoding at batch sizes and thread counts, and the
 * FLOPs it does (see latency.h). */
#include "tune/latency.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "core/timing.h"
#include "model/decode.h"

/* ---- FLOPs ------------------------------------------------------------------------------ */

/* A linear layer over `rows` rows: 2·in·out each, plus the factored delta of an unmerged
 * LoRA adapter. */
static double linear_flops(const vlm *m, const linear_ref *r, double rows) {
    if (!linear_present(r)) return 0.0;
    double f = 2.0 * r->in * r->out;
    const adapter_set *a = &m->adapters;
    /* factored only where no removed units mask the delta (model/weights.c) */
    if (a->kind == ADAPTER_LORA && a->a_of[r->weight] >= 0 && m->units.layout == NULL)
        f += 2.0 * a->rank_of[r->weight] * (r->in + r->out);
    return rows * f;
}

/* One block over `rows` rows whose attention rows together see `att_pairs` (query, key)
 * pairs; ctx_rows context rows feed the cross-attention's keys and values. */
static double block_flops(const vlm *m, const block_ref *b, double rows, double att_pairs,
                          double ctx_rows) {
    double f = linear_flops(m, &b->qkv, rows) + linear_flops(m, &b->proj, rows);
    f += 4.0 * block_attn_dim(b) * att_pairs; /* S = Q·Kᵀ and P·V over the pairs computed */
    if (b->has_cross && b->cross_heads > 0) {
        f += linear_flops(m, &b->cross_q, rows) + linear_flops(m, &b->cross_kv, ctx_rows) +
             linear_flops(m, &b->cross_proj, rows);
        f += 4.0 * block_cross_dim(b) * rows * ctx_rows;
    }
    return f + linear_flops(m, &b->fc1, rows) + linear_flops(m, &b->fc2, rows);
}

double latency_decode_flops(const vlm *m, int answer_start) {
    const model_config *c = &m->cfg;
    const param_index *pi = &m->index;
    const double Pv = model_num_patches(c), Nq = c->num_queries;
    const int T = c->text_len, P = c->num_queries + answer_start + 1;
    double f = linear_flops(m, &pi->patch, Pv);
    for (int l = 0; l < c->layers_vision; l++)
        f += block_flops(m, &pi->vision_blocks[l], Pv, Pv * Pv, 0.0);
    for (int l = 0; l < c->layers_query; l++)
        f += block_flops(m, &pi->bridge_blocks[l], Nq, Nq * Nq, Pv);
    f += linear_flops(m, &pi->bridge_proj, Nq);
    /* The prompt's causal attention computes all P² pairs (the masked ones are zeroed after
     * the product); each decoded position p then sees p + 1. */
    const double head = 2.0 * c->dim_language * c->vocab_size;
    for (int l = 0; l < c->layers_language; l++)
        f += block_flops(m, &pi->language_blocks[l], P, (double)P * P, 0.0);
    f += head * P;
    for (int t = answer_start + 1; t + 1 < T; t++) {
        const int p = c->num_queries + t;
        for (int l = 0; l < c->layers_language; l++)
            f += block_flops(m, &pi->language_blocks[l], 1.0, p + 1.0, 0.0);
        f += head;
    }
    return f;
}

/* ---- timing ----------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n) by linear interpolation. */
static double quantile(const double *v, int n, double q) {
    const double at = q * (n - 1);
    const int lo = (int)at;
    return lo + 1 < n ? v[lo] + (at - lo) * (v[lo + 1] - v[lo]) : v[n - 1];
}

typedef struct {
    float *images;
    int *prompts, *tokens;
    int answer_start, text_len, image_floats;
} sample_set;

static pl_status load_samples(const pl_data *data, const latency_config *cfg, int chunk,
                              sample_set *s, pl_error *err) {
    memset(s, 0, sizeof *s);
    pl_batch b;
    PL_TRY(pl_data_batch_alloc(data, &b, chunk, err));
    s->text_len = b.text_len, s->answer_start = b.answer_start;
    s->image_floats = SCENE_PIXELS;
    s->images = pl_alloc((size_t)cfg->samples * s->image_floats, sizeof(float), err);
    s->prompts = pl_alloc((size_t)cfg->samples * s->text_len, sizeof(int), err);
    s->tokens = pl_alloc((size_t)cfg->samples * s->text_len, sizeof(int), err);
    pl_status st = s->images && s->prompts && s->tokens ? PL_OK : PL_ERR_NOMEM;
    for (int first = 0; st == PL_OK && first < cfg->samples; first += chunk) {
        const int n = cfg->samples - first < chunk ? cfg->samples - first : chunk;
        st = pl_data_fill_batch(data, cfg->split, first, n, &b, err);
        if (st != PL_OK) break;
        if (b.answer_start != s->answer_start)
            st = PL_ERROR(err, PL_ERR_INTERNAL, "batches disagree on the answer position");
        memcpy(s->images + (size_t)first * s->image_floats, b.images,
               (size_t)n * s->image_floats * sizeof(float));
        memcpy(s->prompts + (size_t)first * s->text_len, b.tokens,
               (size_t)n * s->text_len * sizeof(int));
    }
    pl_batch_free(&b);
    return st;
}

static void free_samples(sample_set *s) {
    pl_free(s->images);
    pl_free(s->prompts);
    pl_free(s->tokens);
}

/* One pass over the sample set in full batches of `batch` (a remainder is left out, so every
 * timed batch has that size); each batch's seconds go to lat. */
static double run_pass(vlm *m, vlm_decoder *d, const weight_set *w, const sample_set *s,
                       int samples, int batch, double *lat) {
    double total = 0.0;
    for (int first = 0, k = 0; first + batch <= samples; first += batch, k++) {
        const int n = batch;
        int *tokens = s->tokens + (size_t)first * s->text_len;
        memcpy(tokens, s->prompts + (size_t)first * s->text_len, (size_t)n * s->text_len * sizeof(int));
        const double t0 = pl_now();
        vlm_generate(m, d, w, s->images + (size_t)first * s->image_floats, tokens, n,
                     s->answer_start, -1, 0); /* eos -1: every row to the full length */
        const double dt = pl_now() - t0;
        if (lat) lat[k] = dt;
        total += dt;
    }
    return total;
}

pl_status latency_measure(vlm *m, const pl_data *data, const latency_config *cfg,
                          latency_result *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    int largest = 0;
    for (int i = 0; i < cfg->n_batch_sizes; i++)
        if (cfg->batch_sizes[i] > largest) largest = cfg->batch_sizes[i];
    if (largest > m->max_batch)
        return PL_ERROR(err, PL_ERR_INVALID, "bench batch size %d exceeds the model's %d rows",
                        largest, m->max_batch);
    if (largest > cfg->samples)
        return PL_ERROR(err, PL_ERR_CONFIG, "bench.samples = %d is fewer than the batch size %d: "
                        "every timed batch must be full", cfg->samples, largest);
    sample_set s;
    pl_status st = load_samples(data, cfg, m->max_batch, &s, err);
    vlm_decoder d = {0};
    if (st == PL_OK) st = vlm_decoder_create(&d, m, err);
    const int max_batches = cfg->samples; /* batch size 1 gives the most */
    double *lat = pl_alloc((size_t)cfg->repeats * max_batches, sizeof(double), err);
    double *totals = pl_alloc((size_t)cfg->repeats, sizeof(double), err);
    if (st == PL_OK && (lat == NULL || totals == NULL)) st = PL_ERR_NOMEM;
    const weight_set given = vlm_weights(m, 1, 0);
    const weight_set w = vlm_inference_weights(m, &given); /* as a server holds it: once */
    const int saved = pl_threads_get();
    for (int ti = 0; st == PL_OK && ti < cfg->n_threads; ti++) {
        pl_threads_set(cfg->threads[ti]);
        for (int bi = 0; bi < cfg->n_batch_sizes; bi++) {
            const int batch = cfg->batch_sizes[bi];
            const int batches = cfg->samples / batch; /* full batches only */
            for (int r = 0; r < cfg->warmup; r++) run_pass(m, &d, &w, &s, cfg->samples, batch, NULL);
            for (int r = 0; r < cfg->repeats; r++)
                totals[r] = run_pass(m, &d, &w, &s, cfg->samples, batch, lat + (size_t)r * batches);
            const int n = cfg->repeats * batches;
            qsort(lat, (size_t)n, sizeof(double), cmp_double);
            qsort(totals, (size_t)cfg->repeats, sizeof(double), cmp_double);
            latency_point *p = &out->points[out->n_points++];
            p->batch = batch, p->threads = cfg->threads[ti];
            p->median_ms = 1e3 * quantile(lat, n, 0.5);
            p->q1_ms = 1e3 * quantile(lat, n, 0.25), p->q3_ms = 1e3 * quantile(lat, n, 0.75);
            p->samples_per_s = (double)batches * batch / quantile(totals, cfg->repeats, 0.5);
        }
    }
    pl_threads_set(saved);
    if (st == PL_OK) {
        out->flops_per_sample = latency_decode_flops(m, s.answer_start);
        out->answer_tokens = s.text_len - 1 - s.answer_start;
    }
    pl_free(lat);
    pl_free(totals);
    vlm_decoder_free(&d);
    free_samples(&s);
    return st;
}
