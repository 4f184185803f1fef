/* decode.h - greedy decoding with a key/value cache, as a deployed model answers: the image
 * is encoded once, the prompt (queries and question up to the separator) runs through the
 * language model once, and each answer token then costs one position through every block,
 * attending over the keys and values cached for the positions before it.
 *
 * The decoder owns the cache ([rows, lm_len, 2·heads·head_dim] per language block, keys
 * then values) and the one-position activations. Masked and adapted weights are
 * materialised once per call (vlm_inference_weights), not once per position. */
#ifndef PL_MODEL_DECODE_H
#define PL_MODEL_DECODE_H

#include "model/vlm.h"

typedef struct {
    int max_batch, len;            /* rows and positions the cache holds */
    float *mem;                    /* one allocation for everything below */
    float *kv[VLM_MAX_LAYERS];     /* by language block; NULL for a block without attention */
    float *x, *h, *mean, *rstd;    /* [rows, D], [rows] */
    float *qkv, *y, *wide, *act;   /* [rows, 3A], [rows, A], [rows, F] twice (largest block) */
    float *tmp, *logits, *scores;  /* [rows, D], [rows, V], [rows·H·len] */
} vlm_decoder;

/* A decoder for up to m->max_batch rows of m's shape. */
pl_status vlm_decoder_create(vlm_decoder *d, const vlm *m, pl_error *err);
void vlm_decoder_free(vlm_decoder *d);

/* The weight set w with every masked or adapted linear layer's effective weight written
 * once into m's weff buffer and read from there: the same function, none of the per-pass
 * recomputation (inference only; no backward may follow). */
weight_set vlm_inference_weights(vlm *m, const weight_set *w);

/* Greedy decoding of vlm_generate_full (same arguments and result, up to rounding: a token
 * can differ only where its two best logits are within rounding of each other), through
 * the cache. w should come from vlm_inference_weights. */
void vlm_generate(vlm *m, vlm_decoder *d, const weight_set *w, const float *images, int *tokens,
                  int batch, int answer_start, int eos, int pad);

/* vlm_generate without its own prompt pass: the last vlm_forward of m must have run the
 * language model over these rows (full length), with tokens that agree with `tokens` up to
 * answer_start, e.g. the teacher-forced pass that scores the reference answers. Causal
 * attention makes its prompt positions exactly a prompt pass, so they seed the cache. */
void vlm_generate_after_forward(vlm *m, vlm_decoder *d, const weight_set *w, int *tokens,
                                int batch, int answer_start, int eos, int pad);

/* How KV-cached decoding compares with full recomputation over some batches. A row whose
 * answers differ is explained when, at its first differing position, the full model's two
 * best logits are within `tie` of each other (rounding then decides between them). */
typedef struct {
    long rows, tokens;      /* rows compared, answer tokens they generated (full decoding) */
    long differing_rows;    /* rows whose answers differ anywhere */
    long near_ties;         /* ... of which the first difference is a near tie */
    double smallest_margin; /* the smallest top-2 margin at a first difference (or 0) */
} decode_agreement;

/* Decodes batch rows of prompts (tokens [batch, text_len] up to answer_start) with both
 * decoders and adds the comparison into *acc. full and cached are [batch, text_len]
 * scratch; they hold the two decodings afterwards. */
void vlm_decode_compare(vlm *m, vlm_decoder *d, const weight_set *w, const float *images,
                        const int *prompts, int batch, int answer_start, int eos, int pad,
                        float tie, int *full, int *cached, decode_agreement *acc);

#endif
