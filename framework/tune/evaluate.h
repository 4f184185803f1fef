/* evaluate.h - exact-match answer accuracy (greedy decoding), per question type, caption
 * slot score and teacher-forced answer cross-entropy of a model on a data split. */
#ifndef PL_TUNE_EVALUATE_H
#define PL_TUNE_EVALUATE_H

#include "core/metrics.h"
#include "data/dataset.h"
#include "model/vlm.h"

typedef struct {
    int samples;
    double accuracy;                        /* exact match over all samples */
    double ce;                              /* answer-token cross-entropy (nats/token) */
    int type_samples[QTYPE_COUNT_TYPES];
    double type_accuracy[QTYPE_COUNT_TYPES];
    double caption_slots;                   /* mean fraction of caption cells right */
} eval_result;

typedef enum {
    EVAL_KV_CACHE,        /* answers from KV-cached decoding (model/decode.h), as deployed */
    EVAL_FULL_RECOMPUTE   /* answers from vlm_generate_full: the training stages' periodic
                             evaluations, whose logged curves cached stages replay, keep it */
} eval_decoding;

/* Evaluates samples 0..samples-1 of split in batches of at most m->max_batch. */
pl_status evaluate_model(vlm *m, const weight_set *w, const pl_data *d, pl_split split,
                         int samples, eval_decoding decoding, eval_result *out, pl_error *err);

/* Reports acc, ce, caption_slots and acc_<type> as eval metrics at eval step `step`. */
pl_status evaluate_report(const eval_result *r, const pl_metrics_sink *sink, int64_t step,
                          pl_error *err);

#endif
