/* suggest.c - edit-distance suggestions for misspelt names. */
#include "config/suggest.h"

#include <string.h>

enum { MAX_WORD = 64 };

/* Levenshtein distance with adjacent transpositions counted as one edit. */
static int distance(const char *a, const char *b) {
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > MAX_WORD || m > MAX_WORD) return MAX_WORD;
    int prev2[MAX_WORD + 1], prev[MAX_WORD + 1], cur[MAX_WORD + 1];
    for (int j = 0; j <= m; j++) prev[j] = j;
    for (int i = 1; i <= n; i++) {
        cur[0] = i;
        for (int j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = prev[j - 1] + cost;
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        memcpy(prev2, prev, sizeof prev);
        memcpy(prev, cur, sizeof cur);
    }
    return prev[m];
}

const char *cfg_suggest(const char *word, const char *const *candidates, int count) {
    int limit = (int)strlen(word) / 3;
    if (limit < 1) limit = 1;
    const char *best = NULL;
    int best_d = limit + 1;
    for (int i = 0; i < count; i++) {
        int d = distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}

const char *cfg_suggest_choice(const char *word, const char *choices, char *out, int size) {
    char buf[512];
    const char *items[64];
    int n = 0;
    size_t len = strlen(choices);
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, choices, len);
    buf[len] = '\0';
    for (char *s = buf; n < 64;) {
        items[n++] = s;
        char *bar = strchr(s, '|');
        if (bar == NULL) break;
        *bar = '\0';
        s = bar + 1;
    }
    const char *best = cfg_suggest(word, items, n);
    if (best == NULL || size <= 0) return NULL;
    strncpy(out, best, (size_t)size - 1);
    out[size - 1] = '\0';
    return out;
}
