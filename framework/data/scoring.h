/* scoring.h - answer metrics on batch rows: exact match, caption per-slot score, and the
 * majority-answer baseline per question type (what a model that ignores the image can get).
 *
 * `pred` rows hold the model's predicted token AT each position p (greedy argmax, or the
 * tokens produced by greedy decoding shifted so pred[p] is the token that follows p); they
 * are compared with `targets` wherever targets[p] != -1, i.e. every answer token and EOS. */
#ifndef PL_DATA_SCORING_H
#define PL_DATA_SCORING_H

#include "data/dataset.h"

/* 1 if pred matches targets at every scored position of one row of length T, else 0. */
int pl_score_exact(const int *pred, const int *targets, int T);

/* Fraction (0..1) of the four caption slots named right: the predicted answer (from
 * answer_start on, up to its EOS) is parsed as a list of class names / "nothing" and
 * compared cell by cell with the row's cell labels. When the labels are unknown (-1, a
 * user's own data) the reference is the row's answer in targets, parsed the same way. */
float pl_score_caption_slots(const int *pred, const int *targets, int T, int answer_start,
                             const int cells[SCENE_CELLS]);

typedef struct {
    int samples[QTYPE_COUNT_TYPES];     /* questions of each type seen */
    float accuracy[QTYPE_COUNT_TYPES];  /* share of the most frequent answer */
    char answer[QTYPE_COUNT_TYPES][96]; /* that answer, as text */
    float overall;                      /* sample-weighted over types */
} pl_baseline;

/* Majority-answer baseline over samples 0..n-1 of a split (n <= its size). */
pl_status pl_majority_baseline(const pl_data *d, pl_split split, int n, pl_baseline *out,
                               pl_error *err);

#endif
