/* latency.h - timing inference as a deployment runs it: images and questions in, greedy
 * answers out (KV-cached, model/decode.h), on a fixed set of samples decoded to the
 * maximum answer length with no early exit, so every model does the same work whatever it
 * answers. After warm-up passes, each repeat times every batch of the sample set; latency
 * is per batch (median and interquartile range over repeats x batches), throughput is
 * samples per second of the median repeat. */
#ifndef PL_TUNE_LATENCY_H
#define PL_TUNE_LATENCY_H

#include "data/dataset.h"
#include "model/vlm.h"

enum { LATENCY_MAX_POINTS = 16 };

typedef struct {
    int samples;            /* test samples 0..samples-1 of split */
    pl_split split;
    int batch_sizes[LATENCY_MAX_POINTS], n_batch_sizes;
    int threads[LATENCY_MAX_POINTS], n_threads; /* thread counts (each >= 1) */
    int warmup, repeats;
} latency_config;

typedef struct {
    int batch, threads;
    double median_ms, q1_ms, q3_ms; /* per batch */
    double samples_per_s;
} latency_point;

typedef struct {
    latency_point points[LATENCY_MAX_POINTS * LATENCY_MAX_POINTS]; /* threads-major */
    int n_points;
    double flops_per_sample; /* forward FLOPs of one sample's decode (dense count) */
    int answer_tokens;       /* decoded per sample */
} latency_result;

/* Runs every (threads, batch size) point. m must hold at least the largest batch size
 * (m->max_batch); the weights are m's as deployed (masks, unmerged adapters), frozen once
 * before timing. Restores the caller's thread count. */
pl_status latency_measure(vlm *m, const pl_data *data, const latency_config *cfg,
                          latency_result *out, pl_error *err);

/* Forward FLOPs (2 per multiply-add) of decoding one sample to the full text length from a
 * prompt that ends at answer_start: the vision encoder and bridge once, the prompt's
 * positions, then one position per answer token; linear layers at their dense size (plus
 * 2·rank·(in + out) per row for an unmerged LoRA layer), attention over the positions
 * each row sees. */
double latency_decode_flops(const vlm *m, int answer_start);

#endif
