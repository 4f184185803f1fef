/* test_json.c - the strict JSON reader (accepts, rejects, limits) and the string escaper. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static pl_json *ok(const char *text) {
    pl_json *v = NULL;
    pl_error err;
    pl_error_clear(&err);
    pl_status st = pl_json_parse(text, strlen(text), &v, &err);
    cr_assert_eq(st, PL_OK, "should parse: %s (%s)", text, err.message);
    return v;
}

/* Expects a format error whose message contains want. */
static void bad_n(const char *text, size_t len, const char *want) {
    pl_json *v = (pl_json *)1;
    pl_error err;
    pl_error_clear(&err);
    pl_status st = pl_json_parse(text, len, &v, &err);
    cr_assert_eq(st, PL_ERR_FORMAT, "should reject: %.*s", (int)len, text);
    cr_assert_null(v);
    cr_assert(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message, want);
}
static void bad(const char *text, const char *want) { bad_n(text, strlen(text), want); }

Test(json, scalars_and_structure) {
    pl_json *v = ok(" {\"a\": [1, -2.5, true, false, null, \"x\"], \"b\": {}, \"c\": []} \n");
    cr_assert_eq(v->type, PL_JSON_OBJECT);
    cr_assert_eq(v->count, 3u);
    const pl_json *a = pl_json_get(v, "a");
    cr_assert_not_null(a);
    cr_assert_eq(a->type, PL_JSON_ARRAY);
    cr_assert_eq(a->count, 6u);
    cr_assert(a->items[0].is_int && a->items[0].integer == 1);
    cr_assert(!a->items[1].is_int && a->items[1].number == -2.5);
    cr_assert(a->items[2].type == PL_JSON_BOOL && a->items[2].boolean);
    cr_assert(a->items[3].type == PL_JSON_BOOL && !a->items[3].boolean);
    cr_assert_eq(a->items[4].type, PL_JSON_NULL);
    cr_assert_str_eq(a->items[5].string, "x");
    cr_assert_eq(pl_json_get(v, "b")->type, PL_JSON_OBJECT);
    cr_assert_eq(pl_json_get(v, "c")->count, 0u);
    cr_assert_null(pl_json_get(v, "d"));
    cr_assert_null(pl_json_get(a, "a"));
    cr_assert_str_eq(v->keys[0], "a"); /* document order kept */
    cr_assert_str_eq(v->keys[2], "c");
    pl_json_free(v);
}

Test(json, lookup_in_many_keys) {
    char text[8192] = "{";
    for (int i = 199; i >= 0; i--) {
        char item[40];
        snprintf(item, sizeof item, "\"k%d\":%d%s", i, i, i ? "," : "}");
        strcat(text, item);
    }
    pl_json *v = ok(text);
    for (int i = 0; i < 200; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        const pl_json *m = pl_json_get(v, key);
        cr_assert_not_null(m);
        cr_assert_eq(m->integer, i);
    }
    pl_json_free(v);
}

Test(json, integers_exact_in_int64) {
    pl_json *v = ok("[9223372036854775807, -9223372036854775808, 9223372036854775808, 0, -0, 1e2, 1.0,"
                    " 9007199254740993]");
    cr_assert(v->items[0].is_int && v->items[0].integer == INT64_MAX);
    cr_assert(v->items[1].is_int && v->items[1].integer == INT64_MIN);
    cr_assert(!v->items[2].is_int && v->items[2].number == 9223372036854775808.0);
    cr_assert(v->items[3].is_int && v->items[3].integer == 0);
    cr_assert(v->items[4].is_int && v->items[4].integer == 0 && signbit(v->items[4].number));
    cr_assert(!v->items[5].is_int && v->items[5].number == 100.0);
    cr_assert(!v->items[6].is_int);
    cr_assert(v->items[7].is_int && v->items[7].integer == 9007199254740993LL); /* > 2^53 */
    pl_json_free(v);
}

Test(json, numbers) {
    pl_json *v = ok("[0.5, -1.25e-3, 1E+2, 2e-400, 123456789012345678901234567890]");
    cr_assert_eq(v->items[0].number, 0.5);
    cr_assert_eq(v->items[1].number, -1.25e-3);
    cr_assert_eq(v->items[2].number, 100.0);
    cr_assert_eq(v->items[3].number, 0.0); /* underflow to zero is fine */
    cr_assert_float_eq(v->items[4].number, 1.2345678901234568e29, 1e15);
    pl_json_free(v);
    bad("[01]", "leading zero");
    bad("[1.]", "digits after '.'");
    bad("[.5]", "expected a value");
    bad("[1e]", "exponent");
    bad("[+1]", "expected a value");
    bad("[-]", "invalid number");
    bad("[1e400]", "out of the range");
    bad("[NaN]", "expected a value");
    bad("[Infinity]", "expected a value");
    bad("[0x10]", "expected ',' or ']'");
    char longnum[700];
    memset(longnum, '1', sizeof longnum);
    longnum[0] = '[';
    longnum[sizeof longnum - 2] = ']';
    longnum[sizeof longnum - 1] = '\0';
    bad(longnum, "too long");
}

Test(json, string_escapes_to_utf8) {
    pl_json *v = ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\\ud83d\\ude00\", \"\xc3\xa9\xe2\x82\xac\"]");
    cr_assert_str_eq(v->items[0].string, "a\"b\\c/d\b\f\n\r\t");
    cr_assert_str_eq(v->items[1].string, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    cr_assert_eq(v->items[1].length, 9u);
    cr_assert_str_eq(v->items[2].string, "\xc3\xa9\xe2\x82\xac");
    pl_json_free(v);
}

Test(json, bad_strings) {
    bad("[\"abc]", "unterminated string");
    bad("[\"abc\\\"]", "unterminated string");
    bad("\"\\", "unterminated string");
    bad("[\"a\tb\"]", "control character");
    bad("[\"\\x\"]", "invalid escape");
    bad("[\"\\u12\"]", "four hex digits");
    bad("[\"\\u12g4\"]", "four hex digits");
    bad("[\"\\udc00\"]", "lone low surrogate");
    bad("[\"\\ud800\"]", "high surrogate");
    bad("[\"\\ud800\\u0041\"]", "high surrogate");
    bad("[\"\\u0000\"]", "NUL");
    bad("[\"\xc3\"]", "invalid UTF-8");
    bad("[\"\xc0\xaf\"]", "invalid UTF-8");         /* overlong '/' */
    bad("[\"\xed\xa0\x80\"]", "invalid UTF-8");     /* encoded surrogate */
    bad("[\"\xf4\x90\x80\x80\"]", "invalid UTF-8"); /* past U+10FFFF */
    bad("[\"\xff\"]", "invalid UTF-8");
    bad_n("[\"a\0b\"]", 6, "control character");
}

Test(json, structure_errors) {
    bad("", "unexpected end of input");
    bad("   ", "unexpected end of input");
    bad("{", "expected a string key");
    bad("{\"a\"}", "expected ':'");
    bad("{\"a\":1,}", "expected a string key");
    bad("[1,]", "expected a value");
    bad("[1 2]", "expected ',' or ']'");
    bad("{\"a\":1 \"b\":2}", "expected ',' or '}'");
    bad("{1:2}", "expected a string key");
    bad("{\"a\":1} x", "unexpected data after");
    bad("{} {}", "unexpected data after");
    bad("[1]]", "unexpected data after");
    bad("tru", "expected a value");
    bad("nul", "expected a value");
    bad("[true false]", "expected ',' or ']'");
    bad("// c\n{}", "expected a value");
    bad("{\"a\":1,\"b\":2,\"a\":3}", "duplicate key \"a\"");
    bad_n("{}\0", 3, "unexpected data after");
    pl_json *v = ok("\"only a string\"");
    cr_assert_eq(v->type, PL_JSON_STRING);
    pl_json_free(v);
}

Test(json, depth_limit) {
    char deep[200];
    for (int depth = 63; depth <= 66; depth++) {
        memset(deep, 0, sizeof deep);
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        if (depth <= PL_JSON_MAX_DEPTH) {
            pl_json_free(ok(deep));
        } else {
            bad(deep, "nesting deeper");
        }
    }
    /* A hostile prefix much deeper than the limit fails fast without recursion blow-up. */
    size_t n = 1 << 20;
    char *hostile = malloc(n);
    cr_assert_not_null(hostile);
    memset(hostile, '[', n);
    bad_n(hostile, n, "nesting deeper");
    free(hostile);
}

Test(json, writer_escapes_and_round_trips) {
    pl_json_buf b = {0};
    const char *s = "q\"b\\s/\n\t\x01\x1f \xc3\xa9";
    cr_assert_eq(pl_json_buf_string(&b, s, strlen(s), NULL), PL_OK);
    cr_assert_str_eq(b.data, "\"q\\\"b\\\\s/\\n\\t\\u0001\\u001f \xc3\xa9\"");
    pl_json *v = ok(b.data);
    cr_assert_str_eq(v->string, s);
    pl_json_free(v);
    size_t before = b.len;
    pl_error err;
    cr_assert_eq(pl_json_buf_string(&b, "\xff", 1, &err), PL_ERR_INVALID);
    cr_assert(strstr(err.message, "UTF-8") != NULL);
    cr_assert_eq(pl_json_buf_string(&b, "a\0b", 3, &err), PL_ERR_INVALID);
    cr_assert_eq(b.len, before);
    cr_assert_eq(pl_json_buf_printf(&b, NULL, ",%d", 42), PL_OK);
    cr_assert_str_eq(b.data + before, ",42");
    pl_json_buf_free(&b);
}
