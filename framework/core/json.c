/* json.c - the strict recursive-descent JSON reader and the escaping writer of json.h. */
#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    pl_error *err;
} parser;

static pl_status fail(parser *p, size_t at, const char *what) {
    return PL_ERROR(p->err, PL_ERR_FORMAT, "JSON: %s at byte %zu", what, at);
}

static pl_status fail_char(parser *p, const char *expected) {
    if (p->pos >= p->len) return fail(p, p->pos, expected);
    char msg[160];
    unsigned char c = p->s[p->pos];
    if (c >= 0x20 && c < 0x7f)
        snprintf(msg, sizeof msg, "%s, found '%c'", expected, c);
    else
        snprintf(msg, sizeof msg, "%s, found byte 0x%02x", expected, c);
    return fail(p, p->pos, msg);
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

size_t pl_utf8_valid_prefix(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) need = 1;
        else if (c == 0xe0) need = 2, lo = 0xa0;
        else if (c == 0xed) need = 2, hi = 0x9f;           /* no UTF-16 surrogates */
        else if (c >= 0xe1 && c <= 0xef) need = 2;
        else if (c == 0xf0) need = 3, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3) need = 3;
        else if (c == 0xf4) need = 3, hi = 0x8f;           /* nothing past U+10FFFF */
        else return i;
        if (n - i <= need) return i;
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80) return i;
        i += need + 1;
    }
    return n;
}

static int hex4(const unsigned char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(unsigned cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses the string starting at the opening quote; *out is malloc'd, NUL-terminated. The
 * decoded text is never longer than the raw text, so one allocation of the raw size does. */
static pl_status parse_string(parser *p, char **out, size_t *out_len) {
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->len) return fail(p, start - 1, "unterminated string");
    size_t valid = pl_utf8_valid_prefix(p->s + start, end - start);
    if (valid != end - start) return fail(p, start + valid, "invalid UTF-8 in a string");
    char *o = pl_realloc(NULL, end - start + 1, 1, p->err);
    if (o == NULL) return PL_ERR_NOMEM;
    size_t n = 0, i = start;
    while (i < end) {
        unsigned char c = p->s[i];
        if (c < 0x20) { free(o); return fail(p, i, "control character inside a string (escape it)"); }
        if (c >= 0x80) { /* already validated as UTF-8 above: copy verbatim */
            o[n++] = (char)c;
            i++;
            continue;
        }
        if (c != '\\') { o[n++] = (char)c; i++; continue; }
        unsigned char e = p->s[i + 1]; /* i + 1 < end: the scan above skipped it as a pair */
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != 'u') {
            if (e == 0 || simple == NULL) { free(o); return fail(p, i, "invalid escape in a string"); }
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            o[n++] = decoded[simple - "\"\\/bfnrt"];
            i += 2;
            continue;
        }
        unsigned cp, lo;
        if (end - i < 6 || !hex4(p->s + i + 2, &cp)) {
            free(o);
            return fail(p, i, "\\u must be followed by four hex digits");
        }
        i += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff) { free(o); return fail(p, i - 6, "lone low surrogate in \\u escape"); }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (end - i < 6 || p->s[i] != '\\' || p->s[i + 1] != 'u' || !hex4(p->s + i + 2, &lo) ||
                lo < 0xdc00 || lo > 0xdfff) {
                free(o);
                return fail(p, i - 6, "high surrogate in \\u escape not followed by a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        }
        if (cp == 0) { free(o); return fail(p, i - 6, "\\u0000 (NUL) is not allowed in strings"); }
        n += put_utf8(cp, o + n);
    }
    o[n] = '\0';
    p->pos = end + 1;
    *out = o;
    *out_len = n;
    return PL_OK;
}

static pl_status parse_number(parser *p, pl_json *v) {
    size_t start = p->pos, i = start;
    const unsigned char *s = p->s;
    int integral = 1;
    if (i < p->len && s[i] == '-') i++;
    if (i >= p->len || s[i] < '0' || s[i] > '9') return fail(p, start, "invalid number");
    if (s[i] == '0') {
        i++;
        if (i < p->len && s[i] >= '0' && s[i] <= '9') return fail(p, start, "number with a leading zero");
    } else {
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->len && s[i] == '.') {
        integral = 0;
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') return fail(p, start, "number needs digits after '.'");
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        integral = 0;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') return fail(p, start, "number needs digits in its exponent");
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i - start > PL_JSON_MAX_NUMBER) return fail(p, start, "number literal too long");
    char text[PL_JSON_MAX_NUMBER + 1];
    memcpy(text, s + start, i - start);
    text[i - start] = '\0';
    errno = 0;
    double d = strtod(text, NULL);
    if (isinf(d)) return fail(p, start, "number out of the range of a double");
    v->type = PL_JSON_NUMBER;
    v->number = d;
    if (integral) { /* exact int64 when it fits */
        size_t k = (text[0] == '-') ? 1 : 0;
        uint64_t mag = 0, limit = (text[0] == '-') ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        int fits = 1;
        for (; text[k] != '\0'; k++) {
            uint64_t digit = (uint64_t)(text[k] - '0');
            if (mag > (limit - digit) / 10) { fits = 0; break; }
            mag = mag * 10 + digit;
        }
        if (fits) {
            v->is_int = 1;
            v->integer = (text[0] == '-') ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag)
                                          : (int64_t)mag;
        }
    }
    p->pos = i;
    return PL_OK;
}

static pl_status parse_value(parser *p, pl_json *v, int depth);

static pl_status grow(parser *p, pl_json *v, size_t *cap, int with_keys) {
    if (v->count < *cap) return PL_OK;
    size_t ncap = *cap ? 2 * *cap : 4;
    pl_json *items = pl_realloc(v->items, ncap, sizeof *items, p->err);
    if (items == NULL) return PL_ERR_NOMEM;
    v->items = items;
    if (with_keys) {
        char **keys = pl_realloc(v->keys, ncap, sizeof *keys, p->err);
        if (keys == NULL) return PL_ERR_NOMEM;
        v->keys = keys;
    }
    *cap = ncap;
    return PL_OK;
}

typedef struct {
    const char *key;
    size_t index;
} key_ref;

static int key_ref_cmp(const void *a, const void *b) {
    return strcmp(((const key_ref *)a)->key, ((const key_ref *)b)->key);
}

/* Builds v->sorted and rejects duplicate keys. */
static pl_status index_keys(parser *p, pl_json *v, size_t open_at) {
    if (v->count == 0) return PL_OK;
    key_ref *refs = pl_realloc(NULL, v->count, sizeof *refs, p->err);
    if (refs == NULL) return PL_ERR_NOMEM;
    v->sorted = pl_realloc(NULL, v->count, sizeof *v->sorted, p->err);
    if (v->sorted == NULL) { free(refs); return PL_ERR_NOMEM; }
    for (size_t i = 0; i < v->count; i++) refs[i] = (key_ref){v->keys[i], i};
    qsort(refs, v->count, sizeof *refs, key_ref_cmp);
    for (size_t i = 0; i < v->count; i++) {
        if (i > 0 && strcmp(refs[i - 1].key, refs[i].key) == 0) {
            PL_ERROR(p->err, PL_ERR_FORMAT, "JSON: duplicate key \"%.200s\" in the object at byte %zu",
                     refs[i].key, open_at);
            free(refs);
            return PL_ERR_FORMAT;
        }
        v->sorted[i] = refs[i].index;
    }
    free(refs);
    return PL_OK;
}

static pl_status parse_container(parser *p, pl_json *v, int depth, int is_object) {
    size_t open_at = p->pos, cap = 0;
    char close = is_object ? '}' : ']';
    v->type = is_object ? PL_JSON_OBJECT : PL_JSON_ARRAY;
    if (depth >= PL_JSON_MAX_DEPTH) return fail(p, open_at, "nesting deeper than 64 levels");
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; return PL_OK; }
    for (;;) {
        PL_TRY(grow(p, v, &cap, is_object));
        pl_json *item = &v->items[v->count];
        memset(item, 0, sizeof *item);
        if (is_object) {
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"') return fail_char(p, "expected a string key");
            size_t klen;
            v->keys[v->count] = NULL;
            v->count++; /* counted now so pl_json_free releases the key on any later failure */
            PL_TRY(parse_string(p, &v->keys[v->count - 1], &klen));
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return fail_char(p, "expected ':' after a key");
            p->pos++;
            PL_TRY(parse_value(p, item, depth + 1));
        } else {
            v->count++;
            PL_TRY(parse_value(p, item, depth + 1));
        }
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == close) { p->pos++; break; }
        return fail_char(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    return is_object ? index_keys(p, v, open_at) : PL_OK;
}

static pl_status parse_literal(parser *p, const char *word, pl_json *v, pl_json_type type, int b) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return fail_char(p, "expected a value");
    p->pos += n;
    v->type = type;
    v->boolean = b;
    return PL_OK;
}

static pl_status parse_value(parser *p, pl_json *v, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, p->pos, "unexpected end of input, expected a value");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, v, depth, 1);
    case '[': return parse_container(p, v, depth, 0);
    case '"':
        v->type = PL_JSON_STRING;
        return parse_string(p, &v->string, &v->length);
    case 't': return parse_literal(p, "true", v, PL_JSON_BOOL, 1);
    case 'f': return parse_literal(p, "false", v, PL_JSON_BOOL, 0);
    case 'n': return parse_literal(p, "null", v, PL_JSON_NULL, 0);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
        return fail_char(p, "expected a value");
    }
}

static void free_contents(pl_json *v) {
    for (size_t i = 0; i < v->count; i++) {
        free_contents(&v->items[i]);
        if (v->keys != NULL) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->sorted);
    free(v->string);
}

void pl_json_free(pl_json *value) {
    if (value == NULL) return;
    free_contents(value);
    free(value);
}

pl_status pl_json_parse(const char *text, size_t len, pl_json **out, pl_error *err) {
    *out = NULL;
    parser p = {(const unsigned char *)text, len, 0, err};
    pl_json *root = pl_realloc(NULL, 1, sizeof *root, err);
    if (root == NULL) return PL_ERR_NOMEM;
    memset(root, 0, sizeof *root);
    pl_status st = parse_value(&p, root, 0);
    if (st == PL_OK) {
        skip_ws(&p);
        if (p.pos < p.len) st = fail_char(&p, "unexpected data after the JSON value");
    }
    if (st != PL_OK) {
        pl_json_free(root);
        return st;
    }
    *out = root;
    return PL_OK;
}

const pl_json *pl_json_get(const pl_json *obj, const char *key) {
    if (obj == NULL || obj->type != PL_JSON_OBJECT) return NULL;
    size_t lo = 0, hi = obj->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t idx = obj->sorted[mid];
        int c = strcmp(obj->keys[idx], key);
        if (c == 0) return &obj->items[idx];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *pl_json_type_name(pl_json_type type) {
    switch (type) {
    case PL_JSON_NULL: return "null";
    case PL_JSON_BOOL: return "boolean";
    case PL_JSON_NUMBER: return "number";
    case PL_JSON_STRING: return "string";
    case PL_JSON_ARRAY: return "array";
    case PL_JSON_OBJECT: return "object";
    }
    return "unknown";
}
