/* suggest.h - "did you mean" for misspelt keys, stage kinds, choices and aliases. */
#ifndef PL_CONFIG_SUGGEST_H
#define PL_CONFIG_SUGGEST_H

/* The candidate closest to word by edit distance, if close enough to be a likely typo
 * (distance <= max(1, strlen(word)/3)); NULL otherwise. */
const char *cfg_suggest(const char *word, const char *const *candidates, int count);

/* Same over a '|'-separated list such as "magnitude|wanda|sparsegpt"; writes the match
 * into out (size bytes) and returns out, or NULL. */
const char *cfg_suggest_choice(const char *word, const char *choices, char *out, int size);

#endif
