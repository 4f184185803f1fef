/* tsv.h - writing tab-separated tables safely: text fields escaped, numbers with a '.'
 * decimal point whatever the locale, in the shortest form that reads back to the same
 * double, with nan / inf / -inf spelled out.
 *
 * Escapes (as in PostgreSQL's text COPY format): backslash -> \\, tab -> \t, newline -> \n,
 * carriage return -> \r; pl_tsv_unescape reverses them. */
#ifndef PL_IO_TSV_H
#define PL_IO_TSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

/* Enough for any double: "-1.2345678901234567e-308" plus the NUL. */
enum { PL_TSV_NUMBER_MAX = 32 };

/* Writes v into buf (PL_TSV_NUMBER_MAX bytes) and returns the length. */
size_t pl_tsv_format_double(double v, char *buf);

/* Undoes the escapes in place and returns the new length (unknown escapes are kept). */
size_t pl_tsv_unescape(char *s);

/* A row writer: fields are separated by tabs, pl_tsv_end_row ends the line and reports any
 * write error since the previous row. */
typedef struct {
    FILE *out;
    int column; /* fields written in the current row */
    int failed; /* a write to out failed */
    int error;  /* errno of the first failed write */
} pl_tsv_writer;

void pl_tsv_begin(pl_tsv_writer *w, FILE *out);
void pl_tsv_text(pl_tsv_writer *w, const char *s); /* NULL writes an empty field */
void pl_tsv_number(pl_tsv_writer *w, double v);
void pl_tsv_int(pl_tsv_writer *w, int64_t v);
/* `name` is the file's name for the error message. */
pl_status pl_tsv_end_row(pl_tsv_writer *w, const char *name, pl_error *err);

#endif
