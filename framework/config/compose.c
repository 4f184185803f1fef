/* compose.c - defaults: lists, deep merging and per-kind stage defaults. */
#define _DEFAULT_SOURCE
#include "config/compose.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/yaml_load.h"

enum { MAX_INCLUDE_DEPTH = 16 };

pl_status cfg_merge(cfg_arena *a, const cfg_node *base, const cfg_node *over, cfg_node **out,
                    pl_error *err) {
    if (base == NULL || base->kind != CFG_MAP || over->kind != CFG_MAP) {
        *out = (cfg_node *)over;
        return PL_OK;
    }
    cfg_node *res = cfg_shallow_copy(a, base, err);
    if (res == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < over->u.map.count; i++) {
        const cfg_entry *e = &over->u.map.entries[i];
        int idx = cfg_map_find(res, e->key);
        if (idx < 0) {
            PL_TRY(cfg_map_append(a, res, e->key, e->key_pos, e->value, err));
            continue;
        }
        cfg_node *merged;
        PL_TRY(cfg_merge(a, res->u.map.entries[idx].value, e->value, &merged, err));
        res->u.map.entries[idx].value = merged;
        res->u.map.entries[idx].key_pos = e->key_pos;
    }
    res->pos = over->pos;
    cfg_node_reweigh(res);
    *out = res;
    return PL_OK;
}

typedef struct include {
    const struct include *up;
    const char *real; /* canonical path, for cycle detection */
    const char *shown;
} include;

static pl_status fail(pl_error *err, cfg_pos pos, const char *msg) {
    return cfg_error_at(err, pos, "%s", msg);
}

static pl_status compose_rec(cfg_arena *a, const char *path, const include *up, int depth,
                             cfg_node **out, pl_error *err);

static pl_status compose_default(cfg_arena *a, const char *including, const cfg_node *entry,
                                 const include *chain, int depth, cfg_node **out, pl_error *err) {
    char msg[900];
    if (entry->kind != CFG_STRING || entry->u.s[0] == '\0')
        return fail(err, entry->pos, "defaults: lists file paths (strings), relative to this file");
    char shown[PATH_MAX];
    const char *slash = strrchr(including, '/');
    if (entry->u.s[0] == '/' || slash == NULL)
        snprintf(shown, sizeof shown, "%s", entry->u.s);
    else
        snprintf(shown, sizeof shown, "%.*s/%s", (int)(slash - including), including, entry->u.s);
    char real[PATH_MAX];
    if (realpath(shown, real) == NULL) {
        snprintf(msg, sizeof msg, "defaults file '%.200s' cannot be read (%s, looked for %.300s); "
                 "paths in defaults: are relative to the file that lists them", entry->u.s, strerror(errno), shown);
        return fail(err, entry->pos, msg);
    }
    struct stat sb;
    if (stat(real, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        snprintf(msg, sizeof msg, "defaults entry '%.200s' is %s (%.300s), not a YAML file; list "
                 "the files themselves", entry->u.s, S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file", shown);
        return fail(err, entry->pos, msg);
    }
    for (const include *c = chain; c != NULL; c = c->up)
        if (strcmp(c->real, real) == 0) {
            snprintf(msg, sizeof msg, "defaults file '%.300s' includes itself through its own defaults: "
                     "(a cycle); remove one of the includes", entry->u.s);
            return fail(err, entry->pos, msg);
        }
    if (depth >= MAX_INCLUDE_DEPTH)
        return fail(err, entry->pos, "defaults: are nested more than 16 files deep");
    include here = {chain, real, shown};
    return compose_rec(a, shown, &here, depth + 1, out, err);
}

static pl_status compose_rec(cfg_arena *a, const char *path, const include *chain, int depth,
                             cfg_node **out, pl_error *err) {
    cfg_node *root;
    PL_TRY(cfg_load_file(a, path, &root, err));
    if (root->kind == CFG_NULL) {
        root = cfg_new_map(a, root->pos, err);
        if (root == NULL) return PL_ERR_NOMEM;
    }
    if (root->kind != CFG_MAP)
        return fail(err, root->pos, "a config file must be a map of keys (such as 'model:'), not a single value or a list");
    const cfg_node *defaults = cfg_map_get(root, "defaults");
    if (defaults == NULL) {
        *out = root;
        return PL_OK;
    }
    cfg_node *merged = NULL;
    int n = defaults->kind == CFG_LIST ? defaults->u.list.count : 1;
    for (int i = 0; i < n; i++) {
        const cfg_node *entry = defaults->kind == CFG_LIST ? defaults->u.list.items[i] : defaults;
        cfg_node *part;
        PL_TRY(compose_default(a, path, entry, chain, depth, &part, err));
        if (merged == NULL) merged = part;
        else PL_TRY(cfg_merge(a, merged, part, &merged, err));
    }
    cfg_node *own = cfg_map_without(a, root, "defaults", err);
    if (own == NULL) return PL_ERR_NOMEM;
    if (merged == NULL) {
        *out = own;
        return PL_OK;
    }
    return cfg_merge(a, merged, own, out, err);
}

pl_status cfg_compose_file(cfg_arena *a, const char *path, cfg_node **out, pl_error *err) {
    char real[PATH_MAX];
    if (realpath(path, real) == NULL)
        return PL_ERROR(err, PL_ERR_IO, "cannot open experiment file '%s': %s", path, strerror(errno));
    include top = {NULL, real, path};
    return compose_rec(a, path, &top, 0, out, err);
}

pl_status cfg_apply_stage_defaults(cfg_arena *a, const cfg_node *root, cfg_node **out,
                                   pl_error *err) {
    *out = (cfg_node *)root;
    const cfg_node *stages = cfg_map_get(root, "stages");
    if (stages == NULL) return PL_OK;
    const cfg_node *pipeline = cfg_map_get(root, "pipeline");
    cfg_node *res = cfg_map_without(a, root, "stages", err);
    if (res == NULL) return PL_ERR_NOMEM;
    if (pipeline == NULL || pipeline->kind != CFG_LIST || stages->kind != CFG_MAP) {
        *out = res;
        return PL_OK;
    }
    cfg_node *list = cfg_shallow_copy(a, pipeline, err);
    if (list == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < list->u.list.count; i++) {
        const cfg_node *item = list->u.list.items[i];
        const char *kind;
        const cfg_node *body = NULL;
        cfg_pos key_pos = item->pos;
        if (item->kind == CFG_STRING) {
            kind = item->u.s;
        } else if (item->kind == CFG_MAP && item->u.map.count == 1) {
            kind = item->u.map.entries[0].key;
            body = item->u.map.entries[0].value;
            key_pos = item->u.map.entries[0].key_pos;
        } else {
            continue; /* the schema reports malformed items */
        }
        const cfg_node *defaults = cfg_map_get(stages, kind);
        if (defaults == NULL) continue;
        cfg_node *merged = (cfg_node *)defaults;
        if (body != NULL && body->kind != CFG_NULL) PL_TRY(cfg_merge(a, defaults, body, &merged, err));
        cfg_node *m = cfg_new_map(a, item->pos, err);
        if (m == NULL) return PL_ERR_NOMEM;
        PL_TRY(cfg_map_append(a, m, kind, key_pos, merged, err));
        list->u.list.items[i] = m;
    }
    cfg_node_reweigh(list);
    *out = cfg_map_with(a, res, "pipeline", res->pos, list, err);
    return *out != NULL ? PL_OK : PL_ERR_NOMEM;
}
