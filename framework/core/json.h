/* json.h - a small, strict JSON reader (RFC 8259) and a string-escaping writer helper.
 *
 * The reader builds a tree from a byte range that need not be NUL-terminated. It accepts
 * exactly RFC 8259 JSON plus nothing: no comments, no trailing commas, no NaN/Infinity, no
 * leading zeros, no bytes after the value other than whitespace. Text must be valid UTF-8
 * (no overlong forms, no surrogates); \uXXXX escapes (with surrogate pairs) become UTF-8.
 * Deliberate limits, each reported as an error naming the byte offset:
 *   - nesting deeper than PL_JSON_MAX_DEPTH;
 *   - duplicate keys in one object (RFC 8259 leaves them undefined; prunelab refuses);
 *   - strings containing U+0000 (so every string is also a valid C string);
 *   - number literals longer than PL_JSON_MAX_NUMBER characters.
 * Memory and time are O(n log n) in the input length whatever the input is.
 *
 * Numbers are stored as a double; a literal written as an integer (no fraction, no
 * exponent) that fits in int64 is also stored exactly in `integer` with is_int set.
 * Number conversion uses strtod, which reads '.' only under the "C" LC_NUMERIC locale
 * (prunelab never calls setlocale). */
#ifndef PL_CORE_JSON_H
#define PL_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum { PL_JSON_MAX_DEPTH = 64, PL_JSON_MAX_NUMBER = 500 };

typedef enum {
    PL_JSON_NULL,
    PL_JSON_BOOL,
    PL_JSON_NUMBER,
    PL_JSON_STRING,
    PL_JSON_ARRAY,
    PL_JSON_OBJECT
} pl_json_type;

typedef struct pl_json pl_json;
struct pl_json {
    pl_json_type type;
    int boolean;       /* PL_JSON_BOOL */
    double number;     /* PL_JSON_NUMBER */
    int is_int;        /* PL_JSON_NUMBER written as an integer that fits int64 */
    int64_t integer;   /* exact value when is_int */
    char *string;      /* PL_JSON_STRING: UTF-8, NUL-terminated, no embedded NUL */
    size_t length;     /* string length in bytes */
    size_t count;      /* PL_JSON_ARRAY / PL_JSON_OBJECT: number of items */
    pl_json *items;    /* the items (object values), in document order */
    char **keys;       /* PL_JSON_OBJECT: keys, in document order */
    size_t *sorted;    /* PL_JSON_OBJECT: item indices ordered by key (byte order) */
};

/* Parses text[0..len) into a new tree (*out, free with pl_json_free). On failure *out is
 * NULL and err says what is wrong and at which byte offset ("JSON: ... at byte 17"). */
pl_status pl_json_parse(const char *text, size_t len, pl_json **out, pl_error *err);

void pl_json_free(pl_json *value);

/* The member called key in object obj, or NULL (also when obj is not an object).
 * O(log n): binary search over the sorted key index. */
const pl_json *pl_json_get(const pl_json *obj, const char *key);

/* Type name for messages: "null", "boolean", "number", "string", "array", "object". */
const char *pl_json_type_name(pl_json_type type);

/* A growable byte string for writing JSON text; zero-initialise it, free with
 * pl_json_buf_free. data is NUL-terminated whenever len > 0. */
typedef struct {
    char *data;
    size_t len, cap;
} pl_json_buf;

pl_status pl_json_buf_append(pl_json_buf *buf, const char *bytes, size_t n, pl_error *err);
pl_status pl_json_buf_printf(pl_json_buf *buf, pl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends s (n bytes) as a quoted JSON string: '"' and '\' escaped, control characters as
 * \n \t ... or \u00XX, everything else verbatim. s must be valid UTF-8 without NUL bytes;
 * otherwise PL_ERR_INVALID and nothing is appended. */
pl_status pl_json_buf_string(pl_json_buf *buf, const char *s, size_t n, pl_error *err);

void pl_json_buf_free(pl_json_buf *buf);

/* Length of the longest valid UTF-8 prefix of s[0..n); == n when all of s is valid. */
size_t pl_utf8_valid_prefix(const unsigned char *s, size_t n);

#endif
