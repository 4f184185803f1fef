/* leaves.c - walking a config tree's leaves by dotted path (see leaves.h). */
#include "config/leaves.h"

#include <stdio.h>
#include <string.h>

#include "config/path.h"

typedef struct {
    const cfg_node *const *skip;
    int n_skip;
    cfg_leaf_fn fn;
    void *ctx;
} walk;

static bool skipped(const walk *w, const cfg_node *n) {
    for (int i = 0; i < w->n_skip; i++)
        if (w->skip[i] == n) return true;
    return false;
}

/* A list whose every item is a map of one key: a pipeline. */
static bool is_pipeline(const cfg_node *n) {
    if (n->kind != CFG_LIST || n->u.list.count == 0) return false;
    for (int i = 0; i < n->u.list.count; i++) {
        const cfg_node *item = n->u.list.items[i];
        if (item->kind != CFG_MAP || item->u.map.count != 1) return false;
    }
    return true;
}

static pl_status visit(const walk *w, const cfg_node *n, char *path, size_t len, pl_error *err);

/* path + "." + name (or name alone at the root), then the walk below. */
static pl_status descend(const walk *w, const cfg_node *n, char *path, size_t len, const char *name,
                         pl_error *err) {
    int wrote = snprintf(path + len, CFG_PATH_MAX - len, "%s%s", len ? "." : "", name);
    if (wrote < 0 || (size_t)wrote >= CFG_PATH_MAX - len)
        return PL_ERROR(err, PL_ERR_CONFIG, "a config key path is longer than %d characters: %.80s...",
                        CFG_PATH_MAX, path);
    pl_status st = visit(w, n, path, len + (size_t)wrote, err);
    path[len] = '\0';
    return st;
}

static pl_status visit(const walk *w, const cfg_node *n, char *path, size_t len, pl_error *err) {
    if (skipped(w, n)) return PL_OK;
    if (n->kind == CFG_MAP) {
        for (int i = 0; i < n->u.map.count; i++)
            PL_TRY(descend(w, n->u.map.entries[i].value, path, len, n->u.map.entries[i].key, err));
        return PL_OK;
    }
    if (!is_pipeline(n)) return w->fn(w->ctx, path, n, err);
    for (int i = 0; i < n->u.list.count; i++) {
        const cfg_entry *stage = &n->u.list.items[i]->u.map.entries[0];
        int same = 0, before = 0;
        for (int j = 0; j < n->u.list.count; j++) {
            const bool match = strcmp(n->u.list.items[j]->u.map.entries[0].key, stage->key) == 0;
            same += match;
            before += match && j < i;
        }
        char name[128];
        if (same > 1) snprintf(name, sizeof name, "%s#%d", stage->key, before);
        else snprintf(name, sizeof name, "%s", stage->key);
        if (skipped(w, n->u.list.items[i])) continue;
        PL_TRY(descend(w, stage->value, path, len, name, err));
    }
    return PL_OK;
}

pl_status cfg_leaves(const cfg_node *tree, const cfg_node *const *skip, int n_skip, cfg_leaf_fn fn,
                     void *ctx, pl_error *err) {
    walk w = {skip, n_skip, fn, ctx};
    char path[CFG_PATH_MAX] = "";
    return visit(&w, tree, path, 0, err);
}
