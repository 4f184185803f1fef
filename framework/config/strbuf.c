/* strbuf.c - growable text buffer with sticky out-of-memory status. */
#include "config/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_strbuf_init(cfg_strbuf *sb) {
    sb->data = NULL;
    sb->len = sb->cap = 0;
    sb->status = PL_OK;
}

void cfg_strbuf_free(cfg_strbuf *sb) {
    free(sb->data);
    cfg_strbuf_init(sb);
}

void cfg_strbuf_reset(cfg_strbuf *sb) {
    sb->len = 0;
    if (sb->data != NULL) sb->data[0] = '\0';
    sb->status = PL_OK;
}

static int reserve(cfg_strbuf *sb, size_t extra) {
    if (sb->status != PL_OK) return 0;
    if (sb->len + extra + 1 <= sb->cap) return 1;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            sb->status = PL_ERR_NOMEM;
            return 0;
        }
        cap *= 2;
    }
    char *p = realloc(sb->data, cap);
    if (p == NULL) {
        sb->status = PL_ERR_NOMEM;
        return 0;
    }
    sb->data = p;
    sb->cap = cap;
    return 1;
}

void cfg_strbuf_append(cfg_strbuf *sb, const char *s, size_t n) {
    if (!reserve(sb, n)) return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void cfg_strbuf_puts(cfg_strbuf *sb, const char *s) { cfg_strbuf_append(sb, s, strlen(s)); }

void cfg_strbuf_putc(cfg_strbuf *sb, char c) { cfg_strbuf_append(sb, &c, 1); }

void cfg_strbuf_printf(cfg_strbuf *sb, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->status = PL_ERR_INTERNAL;
        return;
    }
    if ((size_t)n < sizeof small) {
        cfg_strbuf_append(sb, small, (size_t)n);
        return;
    }
    if (!reserve(sb, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

pl_status cfg_strbuf_check(const cfg_strbuf *sb, pl_error *err) {
    if (sb->status == PL_OK) return PL_OK;
    return PL_ERROR(err, sb->status, "out of memory while building config text");
}

char *cfg_strbuf_take(cfg_strbuf *sb) {
    char *p = sb->data;
    if (p == NULL) p = calloc(1, 1);
    cfg_strbuf_init(sb);
    return p;
}

void cfg_strbuf_put_field(cfg_strbuf *sb, const char *s) {
    for (; s != NULL && *s; s++) cfg_strbuf_putc(sb, (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
}
