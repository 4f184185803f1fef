/* json_write.c - the growable text buffer and JSON string escaping of json.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"

static pl_status reserve(pl_json_buf *buf, size_t extra, pl_error *err) {
    if (extra > SIZE_MAX - buf->len - 1)
        return PL_ERROR(err, PL_ERR_NOMEM, "JSON text would exceed the address space");
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap) return PL_OK;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need) cap = (cap > SIZE_MAX / 2) ? need : 2 * cap;
    char *data = pl_realloc(buf->data, cap, 1, err);
    if (data == NULL) return PL_ERR_NOMEM;
    buf->data = data;
    buf->cap = cap;
    return PL_OK;
}

pl_status pl_json_buf_append(pl_json_buf *buf, const char *bytes, size_t n, pl_error *err) {
    PL_TRY(reserve(buf, n, err));
    memcpy(buf->data + buf->len, bytes, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return PL_OK;
}

pl_status pl_json_buf_printf(pl_json_buf *buf, pl_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return PL_ERROR(err, PL_ERR_INTERNAL, "bad format string '%s'", fmt);
    PL_TRY(reserve(buf, (size_t)n, err));
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return PL_OK;
}

pl_status pl_json_buf_string(pl_json_buf *buf, const char *s, size_t n, pl_error *err) {
    const unsigned char *u = (const unsigned char *)s;
    size_t valid = pl_utf8_valid_prefix(u, n);
    if (valid != n)
        return PL_ERROR(err, PL_ERR_INVALID, "string \"%.*s...\" is not valid UTF-8 at byte %zu",
                        (int)(valid < 60 ? valid : 60), s, valid);
    if (memchr(s, '\0', n) != NULL)
        return PL_ERROR(err, PL_ERR_INVALID, "string contains a NUL byte; JSON strings here cannot");
    size_t start = buf->len;
    pl_status st = pl_json_buf_append(buf, "\"", 1, err);
    for (size_t i = 0; i < n && st == PL_OK; i++) {
        unsigned char c = u[i];
        const char *esc = NULL;
        char hex[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                esc = hex;
            }
        }
        st = esc ? pl_json_buf_append(buf, esc, strlen(esc), err)
                 : pl_json_buf_append(buf, (const char *)&u[i], 1, err);
    }
    if (st == PL_OK) st = pl_json_buf_append(buf, "\"", 1, err);
    if (st != PL_OK && buf->data != NULL) { /* leave the buffer as it was */
        buf->len = start;
        buf->data[start] = '\0';
    }
    return st;
}

void pl_json_buf_free(pl_json_buf *buf) {
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}
