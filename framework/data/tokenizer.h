/* tokenizer.h - the fixed, versioned word-level vocabulary of fashion-scenes questions.
 *
 * Token ids are an enum and the words a const table indexed by it, so the two cannot drift.
 * The vocabulary is part of every checkpoint's meaning: changing, reordering or adding a
 * word requires bumping PL_VOCAB_VERSION. Words are separated by single spaces; "?" and "."
 * are words of their own. Special tokens: PAD = 0 (fills rows), SEP (ends the question),
 * EOS (ends the answer), UNK (a word outside the vocabulary, from a user's own data). */
#ifndef PL_DATA_TOKENIZER_H
#define PL_DATA_TOKENIZER_H

#include <stddef.h>

#include "core/error.h"

#define PL_VOCAB_VERSION 1

typedef enum {
    TOK_PAD = 0, TOK_SEP, TOK_EOS, TOK_UNK,
    /* class words (Fashion-MNIST order; "ankle boot" is two words) */
    TOK_TSHIRT, TOK_TROUSER, TOK_PULLOVER, TOK_DRESS, TOK_COAT,
    TOK_SANDAL, TOK_SHIRT, TOK_SNEAKER, TOK_BAG, TOK_ANKLE, TOK_BOOT,
    /* plurals for counting */
    TOK_TSHIRTS, TOK_TROUSERS, TOK_PULLOVERS, TOK_DRESSES, TOK_COATS,
    TOK_SANDALS, TOK_SHIRTS, TOK_SNEAKERS, TOK_BAGS, TOK_BOOTS,
    TOK_SHOES, TOK_TOPS, TOK_ITEMS,
    /* answers */
    TOK_NOTHING, TOK_YES, TOK_NO, TOK_ZERO, TOK_ONE, TOK_TWO, TOK_THREE, TOK_FOUR,
    TOK_TOP, TOK_BOTTOM, TOK_LEFT, TOK_RIGHT,
    /* question words */
    TOK_WHAT, TOK_IS, TOK_IN, TOK_THE, TOK_THERE, TOK_A, TOK_AN, TOK_HOW, TOK_MANY,
    TOK_WHERE, TOK_OF, TOK_ABOVE, TOK_BELOW, TOK_DESCRIBE, TOK_IMAGE,
    TOK_QUESTION_MARK, TOK_PERIOD,
    PL_VOCAB_SIZE
} pl_token;

/* The word of token id (a special token's word is e.g. "<sep>"); NULL if out of range. */
const char *pl_token_word(int id);

/* The id of a word of length len, or TOK_UNK. */
int pl_token_lookup(const char *word, size_t len);

/* The next word of text at or after p (words are separated by spaces or tabs; the text
 * ends at NUL or a line break): its start, with its length in *len, or NULL if none is left.
 * Step through a text with p = word + len. */
const char *pl_next_word(const char *p, size_t *len);

/* Splits text on spaces into at most max ids. Unknown words become TOK_UNK and are counted
 * in *unknown (if non-NULL). Returns the number of tokens, or -1 (err set) if more than
 * max words. */
int pl_tokenize(const char *text, int *ids, int max, int *unknown, pl_error *err);

/* Writes the words of ids[0..n) separated by spaces, skipping PAD, into out (always
 * NUL-terminated, truncated to cap). Returns the length the full text needs. */
size_t pl_detokenize(const int *ids, int n, char *out, size_t cap);

#endif
