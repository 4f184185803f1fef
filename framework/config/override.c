/* override.c - parsing and applying key.path=value arguments. */
#include "config/override.h"

#include <stdio.h>
#include <string.h>

#include "config/path.h"
#include "config/scalar.h"
#include "config/schema.h"
#include "config/yaml_load.h"

static pl_status fail(pl_error *err, cfg_pos pos, const char *msg) {
    return cfg_error_at(err, pos, "%s", msg);
}

/* True for "" and '' (the explicit empty string of a text key). */
static bool empty_quotes(const char *text, size_t n) {
    return n == 2 && (text[0] == '"' || text[0] == '\'') && text[1] == text[0];
}

/* One value, typed by the key's schema type. */
static pl_status typed_value(cfg_arena *a, const cfg_key *k, const char *text, size_t n, cfg_pos pos,
                             cfg_node **out, pl_error *err) {
    if (n > 0 && (text[0] == '[' || text[0] == '{')) {
        PL_TRY(cfg_load_string(a, text, n, pos.file, out, err));
        return PL_OK;
    }
    if (k->type == CFG_T_STRING && empty_quotes(text, n))
        *out = cfg_new_string(a, "", 0, true, pos, err);
    else if (k->type == CFG_T_STRING || k->type == CFG_T_ENUM)
        *out = cfg_new_string(a, text, n, true, pos, err);
    else
        *out = cfg_scalar_resolve(a, text, n, pos, err);
    return *out != NULL ? PL_OK : err->status;
}

/* Offsets of the first max top-level commas (outside brackets and quotes); returns how many
 * there are in all, which may be more than max. */
static int top_commas(const char *s, int *at, int max) {
    int depth = 0, n = 0;
    char quote = 0;
    for (int i = 0; s[i]; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == ',' && depth == 0) {
            if (n < max) at[n] = i;
            n++;
        }
    }
    return n;
}

pl_status cfg_override_apply(cfg_arena *a, const cfg_stage_catalog *stages, const cfg_node *root,
                             const char *text, int index,
                             cfg_node **out, cfg_extra_axis *axis, pl_error *err) {
    pl_error local;
    if (err == NULL) err = &local;
    char name[64], msg[900];
    snprintf(name, sizeof name, "<override %d>", index);
    const char *file = cfg_arena_strdup(a, name, err);
    if (file == NULL) return PL_ERR_NOMEM;
    *out = (cfg_node *)root;
    const char *eq = strchr(text, '=');
    cfg_pos at_key = {file, 1, 1};
    if (eq == NULL || eq == text)
        return fail(err, at_key, "an override is written key.path=value, such as pipeline.prune.method=magnitude");
    char key[CFG_PATH_MAX];
    size_t klen = (size_t)(eq - text);
    if (klen >= sizeof key) return fail(err, at_key, "the key path is too long");
    memcpy(key, text, klen);
    key[klen] = '\0';
    pl_error why;
    pl_error_clear(&why);
    const cfg_key *k = cfg_schema_find(stages, root, key, &why);
    if (k == NULL) {
        snprintf(msg, sizeof msg, "override '%.100s': %.700s", key, why.message);
        return fail(err, at_key, msg);
    }
    const char *value = eq + 1;
    cfg_pos at_value = {file, 1, (int)klen + 2};
    enum { MAX_ALTERNATIVES = 257 };
    int commas[MAX_ALTERNATIVES - 1];
    int nc = top_commas(value, commas, MAX_ALTERNATIVES - 1);
    if (nc >= MAX_ALTERNATIVES) { /* the rest would have become one value, commas and all */
        snprintf(msg, sizeof msg, "override '%.100s' lists %d values; the command line takes at most "
                 "%d, so sweep this key under sweep.axes in the file (values: or a generator)", key,
                 nc + 1, MAX_ALTERNATIVES);
        return fail(err, at_value, msg);
    }
    if (value[0] == '\0') { /* it would have read as null: the default, silently */
        snprintf(msg, sizeof msg, "override '%.100s' has an empty value; give one after '=' (an "
                 "empty text is written %.100s=\"\"), or leave the override out to keep the "
                 "default", key, key);
        return fail(err, at_value, msg);
    }
    if (nc == 0) {
        cfg_node *v, *one = cfg_new_list(a, at_value, err);
        const char *path = cfg_arena_strdup(a, key, err);
        if (one == NULL || path == NULL) return PL_ERR_NOMEM;
        PL_TRY(typed_value(a, k, value, strlen(value), at_value, &v, err));
        PL_TRY(cfg_list_append(a, one, v, err));
        *axis = (cfg_extra_axis){path, one, at_key, true};
        pl_status st = cfg_set(a, root, key, v, out, err);
        if (st != PL_OK && st != PL_ERR_NOMEM) {
            snprintf(msg, sizeof msg, "override '%.100s': %.700s", key, err->message);
            return fail(err, at_key, msg);
        }
        return st;
    }
    cfg_node *list = cfg_new_list(a, at_value, err);
    if (list == NULL) return PL_ERR_NOMEM;
    int start = 0;
    for (int i = 0; i <= nc; i++) {
        int end = i < nc ? commas[i] : (int)strlen(value);
        cfg_pos pos = {file, 1, at_value.col + start};
        cfg_node *v;
        if (end == start) return fail(err, pos, "an empty value in a comma-separated list of alternatives");
        PL_TRY(typed_value(a, k, value + start, (size_t)(end - start), pos, &v, err));
        PL_TRY(cfg_list_append(a, list, v, err));
        start = end + 1;
    }
    const char *path = cfg_arena_strdup(a, key, err);
    if (path == NULL) return PL_ERR_NOMEM;
    if (strncmp(key, "sweep.", 6) == 0) { /* sweep.seeds=0,1,2 sets a list; it is no axis */
        pl_status st = cfg_set(a, root, key, list, out, err);
        if (st != PL_OK && st != PL_ERR_NOMEM) {
            snprintf(msg, sizeof msg, "override '%.100s': %.700s", key, err->message);
            return fail(err, at_key, msg);
        }
        return st;
    }
    *axis = (cfg_extra_axis){path, list, at_key, false};
    return PL_OK;
}
