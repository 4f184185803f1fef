/* error.c - filling, wrapping and printing pl_error records. */
#define _POSIX_C_SOURCE 200809L
#include "core/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

pl_status pl_error_set(pl_error *err, pl_status status, const char *src_file, int src_line,
                       const char *fmt, ...) {
    if (err == NULL) return status;
    err->status = status;
    err->src_file = src_file;
    err->src_line = src_line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

pl_status pl_error_wrap(pl_error *err, const char *fmt, ...) {
    if (err == NULL) return PL_ERR_INTERNAL;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Build "prefix: old" piecewise; truncation of an over-long message is acceptable. */
    char joined[sizeof err->message];
    size_t used = strlen(prefix);
    if (used > sizeof joined - 3) used = sizeof joined - 3;
    memcpy(joined, prefix, used);
    joined[used++] = ':';
    joined[used++] = ' ';
    size_t rest = strnlen(err->message, sizeof err->message);
    if (rest > sizeof joined - 1 - used) rest = sizeof joined - 1 - used;
    memcpy(joined + used, err->message, rest);
    joined[used + rest] = '\0';
    memcpy(err->message, joined, sizeof joined);
    return err->status;
}

void pl_error_clear(pl_error *err) {
    if (err == NULL) return;
    err->status = PL_OK;
    err->src_file = NULL;
    err->src_line = 0;
    err->message[0] = '\0';
}

const char *pl_status_name(pl_status status) {
    switch (status) {
    case PL_OK: return "ok";
    case PL_ERR_NOMEM: return "out of memory";
    case PL_ERR_IO: return "i/o error";
    case PL_ERR_FORMAT: return "format error";
    case PL_ERR_CONFIG: return "config error";
    case PL_ERR_INVALID: return "invalid argument";
    case PL_ERR_NUMERIC: return "numeric error";
    case PL_ERR_MISSING: return "missing dependency";
    case PL_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}

bool pl_error_debug(void) {
    const char *v = getenv("PRUNELAB_DEBUG");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

void pl_error_print(FILE *out, const pl_error *err) {
    if (err == NULL) return;
    fprintf(out, "prunelab: %s: %s\n", pl_status_name(err->status), err->message);
    if (err->src_file != NULL && pl_error_debug())
        fprintf(out, "  (raised at %s:%d)\n", err->src_file, err->src_line);
}
