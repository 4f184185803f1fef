/* strbuf.h - a growable NUL-terminated text buffer for serialisers and messages. */
#ifndef PL_CONFIG_STRBUF_H
#define PL_CONFIG_STRBUF_H

#include <stddef.h>

#include "core/error.h"

typedef struct {
    char *data; /* NUL-terminated; NULL until something is appended */
    size_t len, cap;
    pl_status status; /* first failure; later appends are no-ops */
} cfg_strbuf;

void cfg_strbuf_init(cfg_strbuf *sb);
void cfg_strbuf_free(cfg_strbuf *sb);
void cfg_strbuf_reset(cfg_strbuf *sb); /* keeps the storage */
void cfg_strbuf_append(cfg_strbuf *sb, const char *s, size_t n);
void cfg_strbuf_puts(cfg_strbuf *sb, const char *s);
void cfg_strbuf_putc(cfg_strbuf *sb, char c);
/* s as one field of a key<TAB>value line: tabs and line breaks written as spaces. */
void cfg_strbuf_put_field(cfg_strbuf *sb, const char *s);
void cfg_strbuf_printf(cfg_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reports a failed append into err (PL_ERR_NOMEM) and returns the status. */
pl_status cfg_strbuf_check(const cfg_strbuf *sb, pl_error *err);
/* Hands the text to the caller (free with pl_free) and leaves sb empty. */
char *cfg_strbuf_take(cfg_strbuf *sb);

#endif
