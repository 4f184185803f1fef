/* batch.c - batch allocation and the token/target layout of one row. */
#include "data/batch.h"

#include <string.h>

#include "core/alloc.h"
#include "data/tokenizer.h"

static const char *const QTYPE_NAMES[QTYPE_COUNT_TYPES] = {
    "what", "exists", "howmany", "where", "relation", "caption",
};

const char *pl_qtype_name(int qtype) {
    return qtype >= 0 && qtype < QTYPE_COUNT_TYPES ? QTYPE_NAMES[qtype] : "unknown";
}

pl_status pl_batch_alloc(pl_batch *b, int capacity, int text_len, int answer_start,
                         pl_error *err) {
    memset(b, 0, sizeof *b);
    if (capacity < 1 || answer_start < 1 || text_len < answer_start + 3)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "a batch needs capacity >= 1 and text_len >= answer_start + 3 (got "
                        "capacity %d, text_len %d, answer_start %d)",
                        capacity, text_len, answer_start);
    b->capacity = capacity;
    b->text_len = text_len;
    b->answer_start = answer_start;
    size_t n = (size_t)capacity;
    b->images = pl_alloc(n * SCENE_PIXELS, sizeof(float), err);
    b->tokens = pl_alloc(n * (size_t)text_len, sizeof(int), err);
    b->targets = pl_alloc(n * (size_t)text_len, sizeof(int), err);
    b->qtype = pl_alloc(n, sizeof(int), err);
    b->cells = pl_alloc(n * SCENE_CELLS, sizeof(int), err);
    if (!b->images || !b->tokens || !b->targets || !b->qtype || !b->cells) {
        pl_batch_free(b);
        return pl_error_wrap(err, "allocating a batch of %d rows", capacity);
    }
    return PL_OK;
}

void pl_batch_free(pl_batch *b) {
    pl_free(b->images);
    pl_free(b->tokens);
    pl_free(b->targets);
    pl_free(b->qtype);
    pl_free(b->cells);
    memset(b, 0, sizeof *b);
}

pl_status pl_batch_set_text(pl_batch *b, int row, const int *question, int nq,
                            const int *answer, int na, pl_error *err) {
    const int T = b->text_len, S = b->answer_start;
    if (nq < 0 || nq > S)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "a question of %d tokens does not fit before the separator at %d "
                        "(raise data.question_len)",
                        nq, S);
    if (na < 0 || na > pl_batch_answer_room(b))
        return PL_ERROR(err, PL_ERR_INVALID,
                        "an answer of %d tokens does not fit in rows of %d tokens with the "
                        "separator at %d (raise data.text_len)",
                        na, T, S);
    int *tok = b->tokens + (size_t)row * T;
    int *tgt = b->targets + (size_t)row * T;
    for (int p = 0; p < T; p++) {
        tok[p] = TOK_PAD;
        tgt[p] = -1;
    }
    memcpy(tok, question, (size_t)nq * sizeof(int));
    tok[S] = TOK_SEP;
    memcpy(tok + S + 1, answer, (size_t)na * sizeof(int));
    int eos = S + 1 + na;
    tok[eos] = TOK_EOS;
    for (int p = S; p < eos; p++) tgt[p] = tok[p + 1];
    return PL_OK;
}
