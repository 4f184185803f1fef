/* fuzz_expr.c - libFuzzer target for the sweeps' `where:` language (config/expr.h): any
 * text must parse or be refused with an error, never crash, leak or overflow the stack;
 * what parses is evaluated on a few points (numbers, text, a bool, an int) and must give a
 * bool or an error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/arena.h"
#include "config/expr.h"

enum { MAX_TEXT = 4096 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_TEXT || memchr(data, '\0', size) != NULL) return 0; /* YAML text holds no NUL */
    char text[MAX_TEXT + 1];
    memcpy(text, data, size);
    text[size] = '\0';
    static const char *const NAMES[] = {"sv", "sl", "method", "merge", "n"};
    cfg_pos pos = {"fuzz.yaml", 3, 10};
    cfg_expr *e = NULL;
    pl_error err;
    pl_error_clear(&err);
    if (cfg_expr_parse(text, NAMES, 5, pos, &e, &err) != PL_OK) {
        if (e != NULL) abort(); /* a refusal leaves nothing to free */
        return 0;
    }
    cfg_arena a;
    cfg_arena_init(&a);
    static const double SV[] = {0.0, 0.5, -1e300, 1e300};
    static const char *const METHOD[] = {"wanda", "", "magnitude", "'"};
    for (int p = 0; p < 4; p++) {
        const cfg_node *values[5] = {
            cfg_new_float(&a, SV[p], pos, &err), cfg_new_float(&a, 0.3 * p, pos, &err),
            cfg_new_string(&a, METHOD[p], strlen(METHOD[p]), true, pos, &err),
            cfg_new_bool(&a, p % 2 == 0, pos, &err), cfg_new_int(&a, p == 3 ? 0 : 1000000007LL * p, pos, &err)};
        for (int i = 0; i < 5; i++)
            if (values[i] == NULL) abort();
        bool keep;
        (void)cfg_expr_eval(e, values, &keep, &err);
    }
    cfg_expr_free(e);
    cfg_arena_free(&a);
    return 0;
}
