/* scoring.c - exact match, caption slot score and majority-answer baselines. */
#include "data/scoring.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/questions.h"
#include "data/tokenizer.h"

int pl_score_exact(const int *pred, const int *targets, int T) {
    int scored = 0;
    for (int p = 0; p < T; p++) {
        if (targets[p] < 0) continue;
        scored++;
        if (pred[p] != targets[p]) return 0;
    }
    return scored > 0;
}

float pl_score_caption_slots(const int *pred, const int *targets, int T, int answer_start,
                             const int cells[SCENE_CELLS]) {
    int classes[SCENE_CELLS], reference[SCENE_CELLS];
    int n = pl_parse_class_list(pred + answer_start, T - answer_start, classes, SCENE_CELLS);
    memcpy(reference, cells, sizeof reference);
    if (cells[0] < 0) {
        int known = pl_parse_class_list(targets + answer_start, T - answer_start, reference,
                                        SCENE_CELLS);
        for (int k = known; k < SCENE_CELLS; k++) reference[k] = -1;
    }
    int right = 0;
    for (int k = 0; k < n; k++) right += classes[k] == reference[k];
    return (float)right / SCENE_CELLS;
}

/* A (type, answer) pair packed into one integer: the type in the top bits, then 7 bits per
 * answer token (built-in answers have at most 8 tokens, so 56 bits). */
static unsigned long long answer_key(int type, const int *tok, int T, int S) {
    unsigned long long key = 0;
    for (int p = S + 1, i = 0; p < T && tok[p] != TOK_EOS && i < 8; p++, i++)
        key = (key << 7) | (unsigned long long)(tok[p] & 0x7f);
    return ((unsigned long long)type << 56) | key;
}

static int cmp_key(const void *a, const void *b) {
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return (x > y) - (x < y);
}

static void key_text(unsigned long long key, char *out, size_t cap) {
    int ids[8], n = 0;
    key &= (1ULL << 56) - 1;
    for (; key && n < 8; key >>= 7) ids[n++] = (int)(key & 0x7f);
    for (int i = 0; i < n / 2; i++) {
        int t = ids[i];
        ids[i] = ids[n - 1 - i];
        ids[n - 1 - i] = t;
    }
    pl_detokenize(ids, n, out, cap);
}

pl_status pl_majority_baseline(const pl_data *d, pl_split split, int n, pl_baseline *out,
                               pl_error *err) {
    memset(out, 0, sizeof *out);
    if (n < 1 || n > pl_data_split_size(d, split))
        return PL_ERROR(err, PL_ERR_INVALID,
                        "cannot compute a baseline over %d samples of the %s split", n,
                        pl_split_name(split));
    enum { CHUNK = 512 };
    pl_batch b;
    PL_TRY(pl_data_batch_alloc(d, &b, CHUNK, err));
    unsigned long long *keys = pl_alloc((size_t)n, sizeof *keys, err);
    pl_status st = keys ? PL_OK : PL_ERR_NOMEM;
    for (int first = 0; st == PL_OK && first < n; first += CHUNK) {
        int count = n - first < CHUNK ? n - first : CHUNK;
        st = pl_data_fill_batch(d, split, first, count, &b, err);
        for (int r = 0; st == PL_OK && r < count; r++)
            keys[first + r] = answer_key(b.qtype[r], b.tokens + (size_t)r * b.text_len,
                                         b.text_len, b.answer_start);
    }
    if (st == PL_OK) {
        qsort(keys, (size_t)n, sizeof *keys, cmp_key);
        int best[QTYPE_COUNT_TYPES] = {0}, right = 0;
        for (int i = 0; i < n;) {
            int j = i;
            while (j < n && keys[j] == keys[i]) j++;
            int t = (int)(keys[i] >> 56);
            out->samples[t] += j - i;
            if (j - i > best[t]) {
                best[t] = j - i;
                key_text(keys[i], out->answer[t], sizeof out->answer[t]);
            }
            i = j;
        }
        for (int t = 0; t < QTYPE_COUNT_TYPES; t++) {
            out->accuracy[t] = out->samples[t] ? (float)best[t] / (float)out->samples[t] : 0.0f;
            right += best[t];
        }
        out->overall = (float)right / (float)n;
    }
    pl_free(keys);
    pl_batch_free(&b);
    return st;
}
