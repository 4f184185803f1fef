/* tokenizer.c - the vocabulary table, word lookup, encoding and decoding. */
#include "data/tokenizer.h"

#include <stdio.h>
#include <string.h>

static const char *const VOCAB[PL_VOCAB_SIZE] = {
    [TOK_PAD] = "<pad>", [TOK_SEP] = "<sep>", [TOK_EOS] = "<eos>", [TOK_UNK] = "<unk>",
    [TOK_TSHIRT] = "t-shirt", [TOK_TROUSER] = "trouser", [TOK_PULLOVER] = "pullover",
    [TOK_DRESS] = "dress", [TOK_COAT] = "coat", [TOK_SANDAL] = "sandal",
    [TOK_SHIRT] = "shirt", [TOK_SNEAKER] = "sneaker", [TOK_BAG] = "bag",
    [TOK_ANKLE] = "ankle", [TOK_BOOT] = "boot",
    [TOK_TSHIRTS] = "t-shirts", [TOK_TROUSERS] = "trousers", [TOK_PULLOVERS] = "pullovers",
    [TOK_DRESSES] = "dresses", [TOK_COATS] = "coats", [TOK_SANDALS] = "sandals",
    [TOK_SHIRTS] = "shirts", [TOK_SNEAKERS] = "sneakers", [TOK_BAGS] = "bags",
    [TOK_BOOTS] = "boots", [TOK_SHOES] = "shoes", [TOK_TOPS] = "tops", [TOK_ITEMS] = "items",
    [TOK_NOTHING] = "nothing", [TOK_YES] = "yes", [TOK_NO] = "no", [TOK_ZERO] = "zero",
    [TOK_ONE] = "one", [TOK_TWO] = "two", [TOK_THREE] = "three", [TOK_FOUR] = "four",
    [TOK_TOP] = "top", [TOK_BOTTOM] = "bottom", [TOK_LEFT] = "left", [TOK_RIGHT] = "right",
    [TOK_WHAT] = "what", [TOK_IS] = "is", [TOK_IN] = "in", [TOK_THE] = "the",
    [TOK_THERE] = "there", [TOK_A] = "a", [TOK_AN] = "an", [TOK_HOW] = "how",
    [TOK_MANY] = "many", [TOK_WHERE] = "where", [TOK_OF] = "of", [TOK_ABOVE] = "above",
    [TOK_BELOW] = "below", [TOK_DESCRIBE] = "describe", [TOK_IMAGE] = "image",
    [TOK_QUESTION_MARK] = "?", [TOK_PERIOD] = ".",
};

const char *pl_token_word(int id) {
    if (id < 0 || id >= PL_VOCAB_SIZE) return NULL;
    return VOCAB[id];
}

int pl_token_lookup(const char *word, size_t len) {
    for (int id = 0; id < PL_VOCAB_SIZE; id++)
        if (strlen(VOCAB[id]) == len && memcmp(VOCAB[id], word, len) == 0) return id;
    return TOK_UNK;
}

static int ends_text(char c) { return c == '\0' || c == '\n' || c == '\r'; }

const char *pl_next_word(const char *p, size_t *len) {
    while (*p == ' ' || *p == '\t') p++;
    if (ends_text(*p)) return NULL;
    const char *start = p;
    while (!ends_text(*p) && *p != ' ' && *p != '\t') p++;
    *len = (size_t)(p - start);
    return start;
}

int pl_tokenize(const char *text, int *ids, int max, int *unknown, pl_error *err) {
    int n = 0;
    if (unknown) *unknown = 0;
    size_t len;
    for (const char *w = pl_next_word(text, &len); w != NULL; w = pl_next_word(w + len, &len)) {
        if (n == max) {
            PL_ERROR(err, PL_ERR_INVALID, "\"%s\" has more than %d words", text, max);
            return -1;
        }
        int id = pl_token_lookup(w, len);
        if (id == TOK_UNK && unknown) (*unknown)++;
        ids[n++] = id;
    }
    return n;
}

size_t pl_detokenize(const int *ids, int n, char *out, size_t cap) {
    size_t need = 0;
    if (cap) out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (ids[i] == TOK_PAD) continue;
        const char *w = pl_token_word(ids[i]);
        if (w == NULL) w = "<bad>";
        size_t wl = strlen(w) + (need ? 1 : 0);
        if (need + wl < cap) snprintf(out + need, cap - need, "%s%s", need ? " " : "", w);
        else if (cap) out[need < cap ? need : cap - 1] = '\0';
        need += wl;
    }
    return need;
}
