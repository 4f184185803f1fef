/* node.c - constructing, copying and comparing config tree nodes. */
#include "config/node.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/scalar.h"

static cfg_node *new_node(cfg_arena *a, cfg_kind kind, cfg_pos pos, pl_error *err) {
    cfg_node *n = cfg_arena_alloc(a, sizeof *n, err);
    if (n == NULL) return NULL;
    n->kind = kind;
    n->pos = pos;
    n->weight = 1;
    return n;
}

cfg_node *cfg_new_null(cfg_arena *a, cfg_pos pos, pl_error *err) {
    return new_node(a, CFG_NULL, pos, err);
}

cfg_node *cfg_new_bool(cfg_arena *a, bool v, cfg_pos pos, pl_error *err) {
    cfg_node *n = new_node(a, CFG_BOOL, pos, err);
    if (n != NULL) n->u.b = v;
    return n;
}

cfg_node *cfg_new_int(cfg_arena *a, long long v, cfg_pos pos, pl_error *err) {
    cfg_node *n = new_node(a, CFG_INT, pos, err);
    if (n != NULL) n->u.i = v;
    return n;
}

cfg_node *cfg_new_float(cfg_arena *a, double v, cfg_pos pos, pl_error *err) {
    if (isnan(v)) {
        cfg_error_at(err, pos, "NaN is not a valid config value; give a number");
        return NULL;
    }
    cfg_node *n = new_node(a, CFG_FLOAT, pos, err);
    if (n == NULL) return NULL;
    char text[32];
    cfg_format_double(v, text);
    n->u.f.v = v;
    n->u.f.text = cfg_arena_strdup(a, text, err);
    return n->u.f.text != NULL ? n : NULL;
}

cfg_node *cfg_new_string(cfg_arena *a, const char *s, size_t len, bool quoted, cfg_pos pos,
                         pl_error *err) {
    cfg_node *n = new_node(a, CFG_STRING, pos, err);
    if (n == NULL) return NULL;
    n->quoted = quoted;
    n->u.s = cfg_arena_strndup(a, s, len, err);
    return n->u.s != NULL ? n : NULL;
}

cfg_node *cfg_new_map(cfg_arena *a, cfg_pos pos, pl_error *err) {
    return new_node(a, CFG_MAP, pos, err);
}

cfg_node *cfg_new_list(cfg_arena *a, cfg_pos pos, pl_error *err) {
    return new_node(a, CFG_LIST, pos, err);
}

static size_t add_weight(size_t w, size_t more) {
    return w > CFG_MAX_WEIGHT * (size_t)4 - more ? CFG_MAX_WEIGHT * (size_t)4 : w + more;
}

/* Grows an arena array of elem-sized slots from *cap to at least need. */
static void *grow(cfg_arena *a, void *old, int count, int *cap, int need, size_t elem,
                  pl_error *err) {
    if (need <= *cap) return old;
    int ncap = *cap ? *cap * 2 : 4;
    while (ncap < need) ncap *= 2;
    void *p = cfg_arena_array(a, (size_t)ncap, elem, err);
    if (p == NULL) return NULL;
    if (count > 0) memcpy(p, old, (size_t)count * elem);
    *cap = ncap;
    return p;
}

pl_status cfg_map_append(cfg_arena *a, cfg_node *map, const char *key, cfg_pos key_pos,
                         cfg_node *value, pl_error *err) {
    cfg_entry *e = grow(a, map->u.map.entries, map->u.map.count, &map->u.map.cap,
                        map->u.map.count + 1, sizeof *e, err);
    if (e == NULL) return err ? err->status : PL_ERR_NOMEM;
    map->u.map.entries = e;
    const char *k = cfg_arena_strdup(a, key, err);
    if (k == NULL) return PL_ERR_NOMEM;
    e[map->u.map.count++] = (cfg_entry){k, key_pos, value};
    map->weight = add_weight(map->weight, value->weight);
    return PL_OK;
}

pl_status cfg_list_append(cfg_arena *a, cfg_node *list, cfg_node *item, pl_error *err) {
    cfg_node **items = grow(a, list->u.list.items, list->u.list.count, &list->u.list.cap,
                            list->u.list.count + 1, sizeof *items, err);
    if (items == NULL) return err ? err->status : PL_ERR_NOMEM;
    list->u.list.items = items;
    items[list->u.list.count++] = item;
    list->weight = add_weight(list->weight, item->weight);
    return PL_OK;
}

int cfg_map_find(const cfg_node *map, const char *key) {
    if (map == NULL || map->kind != CFG_MAP) return -1;
    for (int i = 0; i < map->u.map.count; i++)
        if (strcmp(map->u.map.entries[i].key, key) == 0) return i;
    return -1;
}

cfg_node *cfg_map_get(const cfg_node *map, const char *key) {
    int i = cfg_map_find(map, key);
    return i < 0 ? NULL : map->u.map.entries[i].value;
}

cfg_node *cfg_shallow_copy(cfg_arena *a, const cfg_node *node, pl_error *err) {
    cfg_node *n = cfg_arena_alloc(a, sizeof *n, err);
    if (n == NULL) return NULL;
    *n = *node;
    if (node->kind == CFG_MAP) {
        int cap = node->u.map.count + 1;
        n->u.map.entries = cfg_arena_array(a, (size_t)cap, sizeof(cfg_entry), err);
        if (n->u.map.entries == NULL) return NULL;
        if (node->u.map.count > 0)
            memcpy(n->u.map.entries, node->u.map.entries, (size_t)node->u.map.count * sizeof(cfg_entry));
        n->u.map.cap = cap;
    } else if (node->kind == CFG_LIST) {
        int cap = node->u.list.count + 1;
        n->u.list.items = cfg_arena_array(a, (size_t)cap, sizeof(cfg_node *), err);
        if (n->u.list.items == NULL) return NULL;
        if (node->u.list.count > 0)
            memcpy(n->u.list.items, node->u.list.items, (size_t)node->u.list.count * sizeof(cfg_node *));
        n->u.list.cap = cap;
    }
    return n;
}

void cfg_node_reweigh(cfg_node *node) {
    size_t w = 1;
    if (node->kind == CFG_MAP)
        for (int i = 0; i < node->u.map.count; i++) w = add_weight(w, node->u.map.entries[i].value->weight);
    else if (node->kind == CFG_LIST)
        for (int i = 0; i < node->u.list.count; i++) w = add_weight(w, node->u.list.items[i]->weight);
    node->weight = w;
}

cfg_node *cfg_map_with(cfg_arena *a, const cfg_node *map, const char *key, cfg_pos key_pos,
                       cfg_node *value, pl_error *err) {
    cfg_node *n = cfg_shallow_copy(a, map, err);
    if (n == NULL) return NULL;
    int i = cfg_map_find(n, key);
    if (i >= 0) {
        n->u.map.entries[i].value = value;
        cfg_node_reweigh(n);
        return n;
    }
    return cfg_map_append(a, n, key, key_pos, value, err) == PL_OK ? n : NULL;
}

cfg_node *cfg_map_without(cfg_arena *a, const cfg_node *map, const char *key, pl_error *err) {
    cfg_node *n = cfg_shallow_copy(a, map, err);
    if (n == NULL) return NULL;
    int i = cfg_map_find(n, key);
    if (i < 0) return n;
    memmove(&n->u.map.entries[i], &n->u.map.entries[i + 1],
            (size_t)(n->u.map.count - i - 1) * sizeof(cfg_entry));
    n->u.map.count--;
    cfg_node_reweigh(n);
    return n;
}

const char *cfg_kind_name(cfg_kind kind) {
    switch (kind) {
    case CFG_NULL: return "null";
    case CFG_BOOL: return "bool";
    case CFG_INT: return "int";
    case CFG_FLOAT: return "float";
    case CFG_STRING: return "string";
    case CFG_MAP: return "map";
    case CFG_LIST: return "list";
    }
    return "?";
}

bool cfg_is_scalar(const cfg_node *node) {
    return node != NULL && node->kind != CFG_MAP && node->kind != CFG_LIST;
}

bool cfg_is_number(const cfg_node *node) {
    return node != NULL && (node->kind == CFG_INT || node->kind == CFG_FLOAT);
}

double cfg_number(const cfg_node *node) {
    return node->kind == CFG_INT ? (double)node->u.i : node->u.f.v;
}

bool cfg_equal(const cfg_node *a, const cfg_node *b) {
    if (a == b) return true;
    if (cfg_is_number(a) && cfg_is_number(b)) {
        if (a->kind == CFG_INT && b->kind == CFG_INT) return a->u.i == b->u.i;
        return cfg_number(a) == cfg_number(b);
    }
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case CFG_NULL: return true;
    case CFG_BOOL: return a->u.b == b->u.b;
    case CFG_STRING: return strcmp(a->u.s, b->u.s) == 0;
    case CFG_MAP:
        if (a->u.map.count != b->u.map.count) return false;
        for (int i = 0; i < a->u.map.count; i++) {
            const cfg_node *other = cfg_map_get(b, a->u.map.entries[i].key);
            if (other == NULL || !cfg_equal(a->u.map.entries[i].value, other)) return false;
        }
        return true;
    case CFG_LIST:
        if (a->u.list.count != b->u.list.count) return false;
        for (int i = 0; i < a->u.list.count; i++)
            if (!cfg_equal(a->u.list.items[i], b->u.list.items[i])) return false;
        return true;
    default: return false;
    }
}

void cfg_pos_format(cfg_pos pos, char *out, size_t size) {
    if (pos.file == NULL || pos.line <= 0)
        snprintf(out, size, "%s", pos.file ? pos.file : "<unknown position>");
    else
        snprintf(out, size, "%s:%d:%d", pos.file, pos.line, pos.col);
}

pl_status cfg_error_at(pl_error *err, cfg_pos pos, const char *fmt, ...) {
    char where[300], msg[900];
    cfg_pos_format(pos, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return PL_ERROR(err, PL_ERR_CONFIG, "%s: %s", where, msg);
}
