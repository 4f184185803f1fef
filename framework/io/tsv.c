/* tsv.c - escaped text fields and locale-independent shortest round-trip numbers for TSV. */
#include "io/tsv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* %g output is [-]digits[<decimal point>digits][e<sign>digits]; a locale may spell the
 * decimal point as ',' or as several bytes. Rewrite that run as a single '.'. */
static size_t force_dot(char *s) {
    size_t out = 0;
    for (size_t i = 0; s[i] != '\0';) {
        char c = s[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
            s[out++] = c;
            i++;
        } else {
            s[out++] = '.';
            while (s[i] != '\0' && !((s[i] >= '0' && s[i] <= '9') || s[i] == 'e' || s[i] == 'E'))
                i++;
        }
    }
    s[out] = '\0';
    return out;
}

size_t pl_tsv_format_double(double v, char *buf) {
    if (isnan(v)) return (size_t)snprintf(buf, PL_TSV_NUMBER_MAX, "nan");
    if (isinf(v)) return (size_t)snprintf(buf, PL_TSV_NUMBER_MAX, v < 0 ? "-inf" : "inf");
    /* strtod reads in the same locale snprintf wrote in, so the check is consistent. */
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, PL_TSV_NUMBER_MAX, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    return force_dot(buf);
}

size_t pl_tsv_unescape(char *s) {
    size_t out = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\\' && s[i + 1] != '\0') {
            char e = s[i + 1];
            char plain = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == '\\' ? '\\' : 0;
            if (plain) {
                s[out++] = plain;
                i++;
                continue;
            }
        }
        s[out++] = s[i];
    }
    s[out] = '\0';
    return out;
}

void pl_tsv_begin(pl_tsv_writer *w, FILE *out) {
    w->out = out;
    w->column = 0;
    w->failed = 0;
    w->error = 0;
}

static void put(pl_tsv_writer *w, const char *s, size_t n) {
    if (n && fwrite(s, 1, n, w->out) != n && !w->failed) {
        w->failed = 1;
        w->error = errno;
    }
}

static void separate(pl_tsv_writer *w) {
    if (w->column++ > 0) put(w, "\t", 1);
}

void pl_tsv_text(pl_tsv_writer *w, const char *s) {
    separate(w);
    if (s == NULL) return;
    size_t run = 0; /* bytes since the last escape, written in one go */
    for (size_t i = 0;; i++) {
        char c = s[i];
        const char *esc = c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                        : c == '\\' ? "\\\\" : NULL;
        if (esc == NULL && c != '\0') continue;
        put(w, s + run, i - run);
        if (c == '\0') break;
        put(w, esc, 2);
        run = i + 1;
    }
}

void pl_tsv_number(pl_tsv_writer *w, double v) {
    char buf[PL_TSV_NUMBER_MAX];
    size_t n = pl_tsv_format_double(v, buf);
    separate(w);
    put(w, buf, n);
}

void pl_tsv_int(pl_tsv_writer *w, int64_t v) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    separate(w);
    put(w, buf, (size_t)n);
}

pl_status pl_tsv_end_row(pl_tsv_writer *w, const char *name, pl_error *err) {
    put(w, "\n", 1);
    w->column = 0;
    if (w->failed || ferror(w->out)) {
        int e = w->error;
        w->failed = 0;
        w->error = 0;
        clearerr(w->out);
        return PL_ERROR(err, PL_ERR_IO, "could not write to %s: %s", name ? name : "table",
                        e ? strerror(e) : "write error");
    }
    return PL_OK;
}
