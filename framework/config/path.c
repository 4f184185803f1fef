/* path.c - resolving and editing dotted key paths, including pipeline stage addressing. */
#include "config/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_path_split(const char *path, char buf[CFG_PATH_MAX], char *segs[CFG_PATH_SEGMENTS]) {
    size_t n = strlen(path);
    if (n == 0 || n >= CFG_PATH_MAX) return -1;
    memcpy(buf, path, n + 1);
    int count = 0;
    char *s = buf;
    for (;;) {
        if (count == CFG_PATH_SEGMENTS) return -1;
        segs[count++] = s;
        char *dot = strchr(s, '.');
        if (dot == NULL) break;
        *dot = '\0';
        s = dot + 1;
    }
    for (int i = 0; i < count; i++)
        if (segs[i][0] == '\0') return -1;
    return count;
}

bool cfg_path_is_index(const char *s) {
    if (*s == '\0') return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

static const char *single_key(const cfg_node *item) {
    return item->kind == CFG_MAP && item->u.map.count == 1 ? item->u.map.entries[0].key : NULL;
}

bool cfg_path_list_index(const cfg_node *list, const char *seg, int *index, bool *by_kind,
                         pl_error *err) {
    int n = list->u.list.count;
    if (cfg_path_is_index(seg)) {
        long v = strlen(seg) > 9 ? n : strtol(seg, NULL, 10);
        if (v >= n) {
            PL_ERROR(err, PL_ERR_CONFIG, "index %s is past the end of a list of %d items", seg, n);
            return false;
        }
        *index = (int)v;
        *by_kind = false;
        return true;
    }
    char kind[CFG_PATH_MAX];
    snprintf(kind, sizeof kind, "%s", seg);
    char *hash = strchr(kind, '#');
    long want = 0;
    if (hash != NULL) {
        *hash = '\0';
        if (!cfg_path_is_index(hash + 1) || strlen(hash + 1) > 6) {
            PL_ERROR(err, PL_ERR_CONFIG, "'%s' is not a stage reference; write kind#n with n a number, "
                     "such as eval#1", seg);
            return false;
        }
        want = strtol(hash + 1, NULL, 10);
    }
    int found = 0, first = -1;
    for (int i = 0; i < n; i++) {
        const char *k = single_key(list->u.list.items[i]);
        if (k == NULL || strcmp(k, kind) != 0) continue;
        if (found == want) first = i;
        found++;
    }
    if (hash == NULL && found > 1) {
        PL_ERROR(err, PL_ERR_CONFIG, "the list has %d '%s' stages, so '%s' is ambiguous; "
                 "write %s#0 .. %s#%d or the stage's index", found, kind, seg, kind, kind, found - 1);
        return false;
    }
    if (found == 0 || (hash != NULL && want >= found)) {
        if (found == 0)
            PL_ERROR(err, PL_ERR_CONFIG, "there is no '%s' stage in this list (a stage is named by "
                     "its kind, as in pipeline.prune, or by its index)", kind);
        else
            PL_ERROR(err, PL_ERR_CONFIG, "the list has only %d '%s' stages, so '%s' names none",
                     found, kind, seg);
        return false;
    }
    *index = first;
    *by_kind = true;
    return true;
}

/* Walks one segment from node; on failure err says why. */
static const cfg_node *step(const cfg_node *node, const char *seg, pl_error *err) {
    if (node->kind == CFG_MAP) {
        const cfg_node *child = cfg_map_get(node, seg);
        if (child == NULL) PL_ERROR(err, PL_ERR_CONFIG, "there is no key '%s'", seg);
        return child;
    }
    if (node->kind == CFG_LIST) {
        int i;
        bool by_kind;
        if (!cfg_path_list_index(node, seg, &i, &by_kind, err)) return NULL;
        const cfg_node *item = node->u.list.items[i];
        return by_kind ? item->u.map.entries[0].value : item;
    }
    PL_ERROR(err, PL_ERR_CONFIG, "a %s has no key '%s'", cfg_kind_name(node->kind), seg);
    return NULL;
}

pl_status cfg_lookup(const cfg_node *root, const char *path, const cfg_node **out, pl_error *err) {
    char buf[CFG_PATH_MAX];
    char *segs[CFG_PATH_SEGMENTS];
    *out = NULL;
    int n = cfg_path_split(path, buf, segs);
    if (n < 0) return PL_ERROR(err, PL_ERR_CONFIG, "'%s' is not a valid key path", path);
    const cfg_node *node = root;
    for (int i = 0; i < n && node != NULL; i++) {
        node = step(node, segs[i], err);
        if (node == NULL) return pl_error_wrap(err, "config key '%s'", path);
    }
    *out = node;
    return PL_OK;
}

const cfg_node *cfg_get(const cfg_node *root, const char *path) {
    const cfg_node *node;
    return cfg_lookup(root, path, &node, NULL) == PL_OK ? node : NULL;
}

static pl_status typed(const cfg_node *root, const char *path, cfg_kind want, bool number,
                       const cfg_node **node, pl_error *err) {
    PL_TRY(cfg_lookup(root, path, node, err));
    if ((*node)->kind == want || (number && cfg_is_number(*node))) return PL_OK;
    return PL_ERROR(err, PL_ERR_CONFIG, "config key '%s' is a %s, not a %s", path,
                    cfg_kind_name((*node)->kind), cfg_kind_name(want));
}

pl_status cfg_get_int(const cfg_node *root, const char *path, long long *out, pl_error *err) {
    const cfg_node *n;
    PL_TRY(typed(root, path, CFG_INT, false, &n, err));
    *out = n->u.i;
    return PL_OK;
}

pl_status cfg_get_float(const cfg_node *root, const char *path, double *out, pl_error *err) {
    const cfg_node *n;
    PL_TRY(typed(root, path, CFG_FLOAT, true, &n, err));
    *out = cfg_number(n);
    return PL_OK;
}

pl_status cfg_get_bool(const cfg_node *root, const char *path, bool *out, pl_error *err) {
    const cfg_node *n;
    PL_TRY(typed(root, path, CFG_BOOL, false, &n, err));
    *out = n->u.b;
    return PL_OK;
}

pl_status cfg_get_string(const cfg_node *root, const char *path, const char **out, pl_error *err) {
    const cfg_node *n;
    PL_TRY(typed(root, path, CFG_STRING, false, &n, err));
    *out = n->u.s;
    return PL_OK;
}

static pl_status set_rec(cfg_arena *a, const cfg_node *node, char **segs, int n, cfg_node *value,
                         cfg_node **out, pl_error *err) {
    if (n == 0) {
        *out = value;
        return PL_OK;
    }
    if (node->kind == CFG_NULL) node = NULL;
    if (node == NULL || node->kind == CFG_MAP) {
        const cfg_node *child = node ? cfg_map_get(node, segs[0]) : NULL;
        cfg_node *fresh = NULL;
        if (child == NULL && n > 1) {
            fresh = cfg_new_map(a, value->pos, err);
            if (fresh == NULL) return PL_ERR_NOMEM;
            child = fresh;
        }
        cfg_node *new_child;
        PL_TRY(set_rec(a, child, segs + 1, n - 1, value, &new_child, err));
        if (node == NULL) {
            cfg_node *map = cfg_new_map(a, value->pos, err);
            if (map == NULL) return PL_ERR_NOMEM;
            PL_TRY(cfg_map_append(a, map, segs[0], value->pos, new_child, err));
            *out = map;
            return PL_OK;
        }
        *out = cfg_map_with(a, node, segs[0], value->pos, new_child, err);
        return *out ? PL_OK : PL_ERR_NOMEM;
    }
    if (node->kind == CFG_LIST) {
        int i;
        bool by_kind;
        if (!cfg_path_list_index(node, segs[0], &i, &by_kind, err)) return PL_ERR_CONFIG;
        const cfg_node *item = node->u.list.items[i];
        cfg_node *new_item;
        if (by_kind) {
            const cfg_entry *e = &item->u.map.entries[0];
            cfg_node *new_body;
            PL_TRY(set_rec(a, e->value, segs + 1, n - 1, value, &new_body, err));
            new_item = cfg_map_with(a, item, e->key, e->key_pos, new_body, err);
            if (new_item == NULL) return PL_ERR_NOMEM;
        } else {
            PL_TRY(set_rec(a, item, segs + 1, n - 1, value, &new_item, err));
        }
        cfg_node *list = cfg_shallow_copy(a, node, err);
        if (list == NULL) return PL_ERR_NOMEM;
        list->u.list.items[i] = new_item;
        cfg_node_reweigh(list);
        *out = list;
        return PL_OK;
    }
    return PL_ERROR(err, PL_ERR_CONFIG, "a %s has no key '%s'", cfg_kind_name(node->kind), segs[0]);
}

pl_status cfg_set(cfg_arena *a, const cfg_node *root, const char *path, cfg_node *value,
                  cfg_node **out, pl_error *err) {
    char buf[CFG_PATH_MAX];
    char *segs[CFG_PATH_SEGMENTS];
    int n = cfg_path_split(path, buf, segs);
    if (n < 0) return PL_ERROR(err, PL_ERR_CONFIG, "'%s' is not a valid key path", path);
    pl_status st = set_rec(a, root, segs, n, value, out, err);
    if (st == PL_ERR_CONFIG) pl_error_wrap(err, "cannot set '%s'", path);
    return st;
}

int cfg_stage_count(const cfg_node *root) {
    const cfg_node *p = cfg_map_get(root, "pipeline");
    return p != NULL && p->kind == CFG_LIST ? p->u.list.count : 0;
}

const cfg_node *cfg_stage_at(const cfg_node *root, int i, const char **kind) {
    const cfg_node *p = cfg_map_get(root, "pipeline");
    if (p == NULL || p->kind != CFG_LIST || i < 0 || i >= p->u.list.count) return NULL;
    const cfg_node *item = p->u.list.items[i];
    const char *k = single_key(item);
    if (k == NULL) return NULL;
    if (kind) *kind = k;
    return item->u.map.entries[0].value;
}
