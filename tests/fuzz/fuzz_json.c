/* fuzz_json.c - libFuzzer target: the strict JSON reader never crashes, and every string it
 * accepts survives pl_json_buf_string escaping and a second parse unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static void check_strings(const pl_json *v) {
    if (v->type == PL_JSON_STRING) {
        pl_json_buf b = {0};
        if (pl_json_buf_string(&b, v->string, v->length, NULL) != PL_OK) abort();
        pl_json *again = NULL;
        if (pl_json_parse(b.data, b.len, &again, NULL) != PL_OK) abort();
        if (again->length != v->length || memcmp(again->string, v->string, v->length) != 0) abort();
        pl_json_free(again);
        pl_json_buf_free(&b);
    }
    for (size_t i = 0; i < v->count; i++) {
        check_strings(&v->items[i]);
        if (v->type == PL_JSON_OBJECT && pl_json_get(v, v->keys[i]) != &v->items[i]) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pl_json *v = NULL;
    pl_error err;
    pl_error_clear(&err);
    if (pl_json_parse((const char *)data, size, &v, &err) != PL_OK) {
        if (v != NULL || err.message[0] == '\0') abort();
        return 0;
    }
    check_strings(v);
    pl_json_free(v);
    return 0;
}
