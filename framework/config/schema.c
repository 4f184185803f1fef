/* schema.c - validation, default filling, key lookup, help text and hash exclusions, all
 * driven by the section tables: schema_sections.c's and the stage catalog's. */
#include "config/schema.h"

#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

#include "config/path.h"
#include "config/scalar.h"
#include "config/suggest.h"
#include "config/yaml_load.h"

enum { MODE_FILL, MODE_CHECK, MODE_PARTIAL };
enum { CACHE_MAX = 512 };

struct cfg_validator {
    cfg_arena *a;
    const cfg_stage_catalog *stages;
    const cfg_key *cache_keys[CACHE_MAX];
    cfg_node *cache_nodes[CACHE_MAX];
    int n_cache;
};

/* A key path under construction, formatted only when an error needs it. */
typedef struct vpath {
    const struct vpath *up;
    const char *seg; /* NULL: list item number index */
    int index;
} vpath;

static void vpath_format(const vpath *p, char *out, size_t size) {
    if (p == NULL || size == 0) {
        if (size) out[0] = '\0';
        return;
    }
    vpath_format(p->up, out, size);
    size_t n = strlen(out);
    if (p->seg != NULL && p->seg[0] == '\0') return;
    if (p->seg == NULL)
        snprintf(out + n, size - n, "%s%d", n ? "." : "", p->index);
    else
        snprintf(out + n, size - n, "%s%s", n ? "." : "", p->seg);
}

static pl_status verr(pl_error *err, cfg_pos pos, const vpath *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static pl_status verr(pl_error *err, cfg_pos pos, const vpath *p, const char *fmt, ...) {
    char where[300], path[CFG_PATH_MAX], msg[700];
    cfg_pos_format(pos, where, sizeof where);
    vpath_format(p, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return PL_ERROR(err, PL_ERR_CONFIG, "%s: %s%s%s", where, path, path[0] ? ": " : "", msg);
}

static void value_text(const cfg_node *n, char *out, size_t size) {
    switch (n->kind) {
    case CFG_NULL: snprintf(out, size, "null"); break;
    case CFG_BOOL: snprintf(out, size, "the bool %s", n->u.b ? "true" : "false"); break;
    case CFG_INT: snprintf(out, size, "the int %lld", n->u.i); break;
    case CFG_FLOAT: snprintf(out, size, "the float %s", n->u.f.text); break;
    case CFG_STRING: snprintf(out, size, "the string '%.60s'", n->u.s); break;
    case CFG_MAP: snprintf(out, size, "a map"); break;
    case CFG_LIST: snprintf(out, size, "a list"); break;
    }
}

static const char *type_name(cfg_type t) {
    switch (t) {
    case CFG_T_ANY: return "any";
    case CFG_T_INT: return "int";
    case CFG_T_FLOAT: return "float";
    case CFG_T_BOOL: return "bool";
    case CFG_T_STRING: return "string";
    case CFG_T_ENUM: return "choice";
    case CFG_T_MAP: return "map";
    case CFG_T_LIST: return "list";
    case CFG_T_PIPELINE: return "stages";
    case CFG_T_STAGES: return "stage defaults";
    }
    return "?";
}

static void choices_text(const char *choices, char *out, size_t size) {
    size_t j = 0;
    for (const char *c = choices; *c && j + 3 < size; c++) {
        if (*c == '|') {
            out[j++] = ',';
            out[j++] = ' ';
        } else {
            out[j++] = *c;
        }
    }
    out[j] = '\0';
}

static void fmt_bound(double v, char *out) {
    if (v == floor(v) && fabs(v) < 1e15) snprintf(out, 32, "%.0f", v);
    else cfg_format_double(v, out);
}

void cfg_schema_describe(const cfg_key *k, char *out, size_t size) {
    char lo[32], hi[32], items[300];
    if (k->type == CFG_T_ENUM) {
        choices_text(k->choices, items, sizeof items);
        snprintf(out, size, "one of %s", items);
    } else if (k->type == CFG_T_LIST && k->item == CFG_T_ENUM) {
        choices_text(k->choices, items, sizeof items);
        snprintf(out, size, "list of: %s", items);
    } else if (k->type == CFG_T_LIST) {
        snprintf(out, size, "list of %s", k->item == CFG_T_MAP ? "maps (keys below)" : type_name(k->item));
    } else if (k->choices != NULL) {
        snprintf(out, size, "%s", k->choices);
    } else if (k->range & (CFG_RANGE_LO | CFG_RANGE_HI)) {
        fmt_bound(k->lo, lo);
        fmt_bound(k->hi, hi);
        const char *t = type_name(k->type);
        if ((k->range & CFG_RANGE_LO) && (k->range & CFG_RANGE_HI))
            snprintf(out, size, "%s %s %s %s %s", lo, k->range & CFG_RANGE_LO_OPEN ? "<" : "<=", t,
                     k->range & CFG_RANGE_HI_OPEN ? "<" : "<=", hi);
        else if (k->range & CFG_RANGE_LO)
            snprintf(out, size, "%s %s %s", t, k->range & CFG_RANGE_LO_OPEN ? ">" : ">=", lo);
        else
            snprintf(out, size, "%s %s %s", t, k->range & CFG_RANGE_HI_OPEN ? "<" : "<=", hi);
    } else {
        snprintf(out, size, "%s", type_name(k->type));
    }
}

static const cfg_key *section_key(const cfg_section *sec, const char *name) {
    for (int i = 0; i < sec->n_keys; i++)
        if (strcmp(sec->keys[i].name, name) == 0) return &sec->keys[i];
    return NULL;
}

static void key_suggestion(const cfg_section *sec, const char *word, char *out, size_t size) {
    const char *names[128] = {0};
    int n = 0;
    for (int i = 0; i < sec->n_keys && n < 128; i++) names[n++] = sec->keys[i].name;
    const char *best = cfg_suggest(word, names, n);
    size_t j = 0;
    out[0] = '\0';
    if (best != NULL) j = (size_t)snprintf(out, size, "did you mean '%s'? ", best);
    if (j >= size) return;
    j += (size_t)snprintf(out + j, size - j, "allowed keys:");
    for (int i = 0; i < n && j < size; i++) j += (size_t)snprintf(out + j, size - j, " %s", names[i]);
}

static pl_status unknown_key(pl_error *err, cfg_pos pos, const vpath *p, const cfg_section *sec,
                             const char *key) {
    char hint[600];
    key_suggestion(sec, key, hint, sizeof hint);
    return verr(err, pos, p, "unknown key '%s' in %s; %s", key, sec->name, hint);
}

cfg_validator *cfg_validator_new(cfg_arena *a, const cfg_stage_catalog *stages, pl_error *err) {
    cfg_validator *v = cfg_arena_alloc(a, sizeof *v, err);
    if (v != NULL) v->a = a, v->stages = stages;
    return v;
}

static cfg_node *default_node(cfg_validator *v, const cfg_key *k, pl_error *err) {
    for (int i = 0; i < v->n_cache; i++)
        if (v->cache_keys[i] == k) return v->cache_nodes[i];
    cfg_node *node = NULL;
    cfg_pos pos = {"<schema default>", 0, 0};
    if (k->type == CFG_T_STRING || k->type == CFG_T_ENUM) { /* string defaults are literal */
        node = cfg_new_string(v->a, k->def, strlen(k->def), true, pos, err);
        if (node == NULL) return NULL;
    } else if (k->def[0] == '[' || k->def[0] == '{') {
        if (cfg_load_string(v->a, k->def, strlen(k->def), "<schema default>", &node, err) != PL_OK)
            return NULL;
    } else {
        node = cfg_scalar_resolve(v->a, k->def, strlen(k->def), pos, err);
        if (node == NULL) return NULL;
    }
    if (k->type == CFG_T_FLOAT && node->kind == CFG_INT &&
        (node = cfg_new_float(v->a, (double)node->u.i, pos, err)) == NULL)
        return NULL;
    if (v->n_cache < CACHE_MAX) {
        v->cache_keys[v->n_cache] = k;
        v->cache_nodes[v->n_cache++] = node;
    }
    return node;
}

static pl_status walk_value(cfg_validator *v, int mode, const cfg_key *k, const cfg_node *node,
                            const vpath *p, cfg_node **out, pl_error *err);

static pl_status walk_map(cfg_validator *v, int mode, const cfg_section *sec, const cfg_node *map,
                          const vpath *p, cfg_node **out, pl_error *err) {
    if (map->kind != CFG_MAP) {
        char got[100];
        value_text(map, got, sizeof got);
        return verr(err, map->pos, p, "must be a map of %s settings, not %s", sec->name, got);
    }
    if (!sec->open)
        for (int i = 0; i < map->u.map.count; i++) {
            const cfg_entry *e = &map->u.map.entries[i];
            if (section_key(sec, e->key) == NULL) return unknown_key(err, e->key_pos, p, sec, e->key);
        }
    cfg_node *res = NULL;
    for (int i = 0; i < sec->n_keys; i++) {
        const cfg_key *k = &sec->keys[i];
        int idx = cfg_map_find(map, k->name);
        const cfg_node *orig = idx >= 0 ? map->u.map.entries[idx].value : NULL;
        const cfg_node *child = orig;
        vpath cp = {p, k->name, 0};
        if (child == NULL || (child->kind == CFG_NULL && mode == MODE_FILL && k->def != NULL)) {
            if (mode == MODE_FILL && k->def != NULL) {
                child = default_node(v, k, err);
                if (child == NULL) return err ? err->status : PL_ERR_NOMEM;
            } else {
                if (mode == MODE_CHECK && k->def == NULL && !(k->flags & CFG_KEY_OPTIONAL)) {
                    char allowed[300];
                    cfg_schema_describe(k, allowed, sizeof allowed);
                    return verr(err, map->pos, p, "the required key '%s' (%s: %s) is missing; set it here%s",
                                k->name, allowed, k->help,
                                strcmp(sec->name, "model") == 0 ? " or list a model preset under defaults:" : "");
                }
                continue;
            }
        }
        cfg_node *nc;
        PL_TRY(walk_value(v, mode, k, child, &cp, &nc, err));
        if (nc == orig) continue;
        if (res == NULL) {
            res = cfg_shallow_copy(v->a, map, err);
            if (res == NULL) return PL_ERR_NOMEM;
        }
        if (idx >= 0) res->u.map.entries[idx].value = nc;
        else PL_TRY(cfg_map_append(v->a, res, k->name, map->pos, nc, err));
    }
    if (res != NULL) cfg_node_reweigh(res);
    *out = res != NULL ? res : (cfg_node *)map;
    return PL_OK;
}

static pl_status range_check(const cfg_key *k, double x, const cfg_node *node, const vpath *p,
                             pl_error *err) {
    bool bad = ((k->range & CFG_RANGE_LO) && (k->range & CFG_RANGE_LO_OPEN ? !(x > k->lo) : !(x >= k->lo))) ||
               ((k->range & CFG_RANGE_HI) && (k->range & CFG_RANGE_HI_OPEN ? !(x < k->hi) : !(x <= k->hi)));
    if (!bad) return PL_OK;
    char got[100], allowed[300];
    value_text(node, got, sizeof got);
    cfg_schema_describe(k, allowed, sizeof allowed);
    return verr(err, node->pos, p, "%s is out of range; allowed: %s", got, allowed);
}

/* A text value named by synonyms ("new=old|...") as a new word, as the old one. */
static pl_status canonical_word(cfg_validator *v, const char *synonyms, const cfg_node *node,
                                cfg_node **out, pl_error *err) {
    size_t n = strlen(node->u.s);
    for (const char *c = synonyms;;) {
        const char *eq = strchr(c, '='), *bar = strchr(c, '|');
        if ((size_t)(eq - c) == n && memcmp(c, node->u.s, n) == 0) {
            size_t old = bar != NULL ? (size_t)(bar - eq - 1) : strlen(eq + 1);
            *out = cfg_new_string(v->a, eq + 1, old, node->quoted, node->pos, err);
            return *out != NULL ? PL_OK : PL_ERR_NOMEM;
        }
        if (bar == NULL) return PL_OK;
        c = bar + 1;
    }
}

static pl_status check_scalar(cfg_validator *v, const cfg_key *k, const cfg_node *node,
                              const vpath *p, cfg_node **out, pl_error *err) {
    char got[100], allowed[300];
    *out = (cfg_node *)node;
    cfg_kind want;
    switch (k->type) {
    case CFG_T_INT: want = CFG_INT; break;
    case CFG_T_FLOAT: want = CFG_FLOAT; break;
    case CFG_T_BOOL: want = CFG_BOOL; break;
    default: want = CFG_STRING; break;
    }
    bool ok = node->kind == want || (want == CFG_FLOAT && node->kind == CFG_INT);
    if (!ok) {
        value_text(node, got, sizeof got);
        cfg_schema_describe(k, allowed, sizeof allowed);
        const char *hint = node->kind == CFG_STRING && strstr(node->u.s, "${") != NULL
                               ? " (an interpolation that did not resolve)" : "";
        bool plain = strcmp(allowed, cfg_kind_name(want)) == 0;
        return verr(err, node->pos, p, "must be %s %s%s%s%s, not %s%s", want == CFG_INT ? "an" : "a",
                    cfg_kind_name(want), plain ? "" : " (", plain ? "" : allowed, plain ? "" : ")", got, hint);
    }
    if (want == CFG_FLOAT && node->kind == CFG_INT) {
        *out = cfg_new_float(v->a, (double)node->u.i, node->pos, err);
        if (*out == NULL) return PL_ERR_NOMEM;
    }
    if (want == CFG_INT || want == CFG_FLOAT) PL_TRY(range_check(k, cfg_number(node), node, p, err));
    if (want == CFG_STRING && k->synonyms != NULL) return canonical_word(v, k->synonyms, node, out, err);
    if (k->type == CFG_T_ENUM) {
        size_t n = strlen(node->u.s);
        const char *c = k->choices;
        for (;;) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && memcmp(c, node->u.s, n) == 0) break;
            if (bar == NULL) {
                char sugg[64], hint[120] = "";
                if (cfg_suggest_choice(node->u.s, k->choices, sugg, sizeof sugg))
                    snprintf(hint, sizeof hint, " (did you mean '%s'?)", sugg);
                cfg_schema_describe(k, allowed, sizeof allowed);
                return verr(err, node->pos, p, "'%.60s' is not allowed; use %s%s", node->u.s, allowed, hint);
            }
            c = bar + 1;
        }
    }
    return PL_OK;
}

static pl_status walk_list(cfg_validator *v, int mode, const cfg_key *k, const cfg_node *list,
                           const vpath *p, cfg_node **out, pl_error *err) {
    *out = (cfg_node *)list;
    if (list->kind != CFG_LIST) {
        if (mode == MODE_FILL) return PL_OK;
        char got[100], allowed[300];
        value_text(list, got, sizeof got);
        cfg_schema_describe(k, allowed, sizeof allowed);
        return verr(err, list->pos, p, "must be a %s, not %s", allowed, got);
    }
    /* Items keep the list key's range: an int list with GE(1) refuses a 0 item. */
    cfg_key item = {.name = k->name, .type = k->item, .choices = k->choices, .sub = k->sub,
                    .lo = k->lo, .hi = k->hi, .range = k->range};
    cfg_node *res = NULL;
    for (int i = 0; i < list->u.list.count; i++) {
        vpath ip = {p, NULL, i};
        cfg_node *ni = NULL;
        PL_TRY(walk_value(v, mode, &item, list->u.list.items[i], &ip, &ni, err));
        if (ni == list->u.list.items[i]) continue;
        if (res == NULL && (res = cfg_shallow_copy(v->a, list, err)) == NULL) return PL_ERR_NOMEM;
        res->u.list.items[i] = ni;
    }
    if (res != NULL) {
        cfg_node_reweigh(res);
        *out = res;
    }
    return PL_OK;
}

const cfg_section *cfg_stage_section(const cfg_stage_catalog *stages, const char *kind) {
    for (int i = 0; i < stages->count; i++) {
        const cfg_section *sec = stages->section_at(i);
        if (strcmp(sec->name, kind) == 0) return sec;
    }
    return NULL;
}

/* "pretrain, load, ... and bench" into out. */
static void kind_list(const cfg_stage_catalog *stages, char *out, size_t size) {
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < stages->count && at < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == stages->count ? " or " : ", ";
        int w = snprintf(out + at, size - at, "%s%s", sep, stages->section_at(i)->name);
        if (w < 0) break;
        at += (size_t)w;
    }
}

/* The catalog kind nearest to word, or NULL. */
static const char *kind_suggestion(const cfg_stage_catalog *stages, const char *word) {
    const char *names[64];
    int n = 0;
    for (int i = 0; i < stages->count && n < 64; i++) names[n++] = stages->section_at(i)->name;
    return cfg_suggest(word, names, n);
}

static pl_status stage_kind_error(const cfg_validator *v, pl_error *err, cfg_pos pos,
                                  const vpath *p, const char *kind) {
    const char *best = kind_suggestion(v->stages, kind);
    char hint[80] = "", kinds[400];
    if (best) snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
    kind_list(v->stages, kinds, sizeof kinds);
    return verr(err, pos, p, "'%.60s' is not a stage kind; use %s%s", kind, kinds, hint);
}

/* One pipeline item: `- kind: {settings}`, `- kind:` (null) or `- kind` (a bare string). */
static pl_status walk_stage(cfg_validator *v, int mode, const cfg_node *item, const vpath *p,
                            cfg_node **out, pl_error *err) {
    const char *kind;
    cfg_pos key_pos = item->pos;
    const cfg_node *body;
    if (item->kind == CFG_STRING) {
        kind = item->u.s;
        body = NULL;
    } else if (item->kind == CFG_MAP && item->u.map.count == 1) {
        kind = item->u.map.entries[0].key;
        key_pos = item->u.map.entries[0].key_pos;
        body = item->u.map.entries[0].value;
    } else {
        char got[100];
        value_text(item, got, sizeof got);
        if (item->kind == CFG_MAP) snprintf(got, sizeof got, "a map with %d keys", item->u.map.count);
        return verr(err, item->pos, p, "each pipeline item is one stage written '- kind: {settings}' "
                    "(for example '- prune: {method: wanda}'), not %s; check the indentation", got);
    }
    const cfg_section *sec = cfg_stage_section(v->stages, kind);
    if (sec == NULL) return stage_kind_error(v, err, key_pos, p, kind);
    vpath sp = {p, kind, 0};
    cfg_node *fresh = NULL;
    if (body == NULL || body->kind == CFG_NULL) {
        if ((fresh = cfg_new_map(v->a, key_pos, err)) == NULL) return PL_ERR_NOMEM;
        body = fresh;
    }
    cfg_node *nb;
    PL_TRY(walk_map(v, mode, sec, body, &sp, &nb, err));
    if (nb == body && fresh == NULL) {
        *out = (cfg_node *)item;
        return PL_OK;
    }
    cfg_node *m = cfg_new_map(v->a, item->pos, err);
    if (m == NULL) return PL_ERR_NOMEM;
    PL_TRY(cfg_map_append(v->a, m, kind, key_pos, nb, err));
    *out = m;
    return PL_OK;
}

static pl_status walk_pipeline(cfg_validator *v, int mode, const cfg_node *list, const vpath *p,
                               cfg_node **out, pl_error *err) {
    if (list->kind != CFG_LIST) {
        char got[100];
        value_text(list, got, sizeof got);
        return verr(err, list->pos, p, "must be a list of stages ('- pretrain: {...}'), not %s", got);
    }
    if (list->u.list.count == 0 && mode == MODE_CHECK)
        return verr(err, list->pos, p, "the pipeline is empty; list at least one stage, such as '- eval: {}'");
    cfg_node *res = NULL;
    for (int i = 0; i < list->u.list.count; i++) {
        vpath ip = {p, "", i};
        cfg_node *ni = NULL;
        PL_TRY(walk_stage(v, mode, list->u.list.items[i], &ip, &ni, err));
        if (ni == list->u.list.items[i]) continue;
        if (res == NULL && (res = cfg_shallow_copy(v->a, list, err)) == NULL) return PL_ERR_NOMEM;
        res->u.list.items[i] = ni;
    }
    if (res != NULL) cfg_node_reweigh(res);
    *out = res != NULL ? res : (cfg_node *)list;
    return PL_OK;
}

/* The `stages:` defaults: each key a stage kind, its value settings of that kind. */
static pl_status walk_stages(cfg_validator *v, int mode, const cfg_node *map, const vpath *p,
                             cfg_node **out, pl_error *err) {
    *out = (cfg_node *)map;
    if (map->kind != CFG_MAP) {
        char got[100];
        value_text(map, got, sizeof got);
        return verr(err, map->pos, p, "must be a map of stage kind -> settings, not %s", got);
    }
    cfg_node *res = NULL;
    for (int i = 0; i < map->u.map.count; i++) {
        const cfg_entry *e = &map->u.map.entries[i];
        const cfg_section *sec = cfg_stage_section(v->stages, e->key);
        if (sec == NULL) return stage_kind_error(v, err, e->key_pos, p, e->key);
        if (e->value->kind == CFG_NULL) continue;
        vpath sp = {p, e->key, 0};
        cfg_node *nv;
        PL_TRY(walk_map(v, mode, sec, e->value, &sp, &nv, err));
        if (nv == e->value) continue;
        if (res == NULL && (res = cfg_shallow_copy(v->a, map, err)) == NULL) return PL_ERR_NOMEM;
        res->u.map.entries[i].value = nv;
    }
    if (res != NULL) {
        cfg_node_reweigh(res);
        *out = res;
    }
    return PL_OK;
}

static pl_status walk_value(cfg_validator *v, int mode, const cfg_key *k, const cfg_node *node,
                            const vpath *p, cfg_node **out, pl_error *err) {
    *out = (cfg_node *)node;
    switch (k->type) {
    case CFG_T_ANY: return PL_OK;
    case CFG_T_MAP:
        if (node->kind != CFG_MAP && mode == MODE_FILL) return PL_OK;
        PL_TRY(walk_map(v, mode, k->sub, node, p, out, err));
        break;
    case CFG_T_LIST: PL_TRY(walk_list(v, mode, k, node, p, out, err)); break;
    case CFG_T_PIPELINE: return walk_pipeline(v, mode, node, p, out, err);
    case CFG_T_STAGES: return walk_stages(v, mode, node, p, out, err);
    default:
        if (mode == MODE_FILL) { /* ints given for float keys become floats once, here */
            if (k->type == CFG_T_FLOAT && node->kind == CFG_INT &&
                (*out = cfg_new_float(v->a, (double)node->u.i, node->pos, err)) == NULL)
                return PL_ERR_NOMEM;
            return PL_OK;
        }
        PL_TRY(check_scalar(v, k, node, p, out, err));
        break;
    }
    char why[300];
    if (mode != MODE_FILL && k->check != NULL && !k->check(*out, why, sizeof why)) {
        if (!cfg_is_scalar(*out)) return verr(err, node->pos, p, "%s", why);
        char got[100];
        value_text(*out, got, sizeof got);
        return verr(err, node->pos, p, "%s is not allowed: %s", got, why);
    }
    return PL_OK;
}

static pl_status walk_root(cfg_validator *v, int mode, const cfg_node *root, cfg_node **out,
                           pl_error *err) {
    if (root->kind != CFG_MAP) {
        char got[100];
        value_text(root, got, sizeof got);
        return verr(err, root->pos, NULL, "an experiment file must be a map of sections "
                    "(model:, data:, pipeline:, ...), not %s", got);
    }
    vpath top = {NULL, "", 0};
    return walk_map(v, mode, cfg_schema_root(), root, &top, out, err);
}

pl_status cfg_fill_defaults(cfg_validator *v, const cfg_node *root, cfg_node **out, pl_error *err) {
    return walk_root(v, MODE_FILL, root, out, err);
}

pl_status cfg_check(cfg_validator *v, const cfg_node *root, cfg_node **out, pl_error *err) {
    return walk_root(v, MODE_CHECK, root, out, err);
}

pl_status cfg_check_stage_defaults(cfg_validator *v, const cfg_node *stages, pl_error *err) {
    vpath p = {NULL, "stages", 0};
    cfg_node *ignored;
    return walk_stages(v, MODE_PARTIAL, stages, &p, &ignored, err);
}

/* ---- hash exclusions ---- */

static pl_status strip_map(cfg_arena *a, const cfg_stage_catalog *stages, const cfg_section *sec,
                           const cfg_node *map, const cfg_node **out, pl_error *err);

static pl_status strip_value(cfg_arena *a, const cfg_stage_catalog *stages, const cfg_key *k,
                             const cfg_node *node, const cfg_node **out, pl_error *err) {
    *out = node;
    if (k->type == CFG_T_MAP && node->kind == CFG_MAP) return strip_map(a, stages, k->sub, node, out, err);
    if (k->type != CFG_T_PIPELINE || node->kind != CFG_LIST) return PL_OK;
    cfg_node *res = NULL;
    for (int i = 0; i < node->u.list.count; i++) {
        const char *kind;
        const cfg_node *item = node->u.list.items[i];
        if (item->kind != CFG_MAP || item->u.map.count != 1) continue;
        kind = item->u.map.entries[0].key;
        const cfg_section *sec = cfg_stage_section(stages, kind);
        const cfg_node *body = item->u.map.entries[0].value, *nb;
        if (sec == NULL) continue;
        PL_TRY(strip_map(a, stages, sec, body, &nb, err));
        if (nb == body) continue;
        if (res == NULL && (res = cfg_shallow_copy(a, node, err)) == NULL) return PL_ERR_NOMEM;
        res->u.list.items[i] = cfg_map_with(a, item, kind, item->u.map.entries[0].key_pos, (cfg_node *)nb, err);
        if (res->u.list.items[i] == NULL) return PL_ERR_NOMEM;
    }
    if (res != NULL) {
        cfg_node_reweigh(res);
        *out = res;
    }
    return PL_OK;
}

/* A value equal to the key's default, for the defaults CFG_KEY_DEFAULT_UNSEEN supports. */
static bool is_default(const cfg_key *k, const cfg_node *v) {
    if (k->def == NULL) return false;
    if (v->kind == CFG_MAP) return v->u.map.count == 0 && strcmp(k->def, "{}") == 0;
    return v->kind == CFG_STRING && strcmp(v->u.s, k->def) == 0;
}

static pl_status strip_map(cfg_arena *a, const cfg_stage_catalog *stages, const cfg_section *sec,
                           const cfg_node *map, const cfg_node **out, pl_error *err) {
    *out = map;
    if (map->kind != CFG_MAP) return PL_OK;
    cfg_node *res = NULL;
    for (int i = 0; i < sec->n_keys; i++) {
        const cfg_key *k = &sec->keys[i];
        const cfg_node *cur = res != NULL ? res : map;
        const cfg_node *child = cfg_map_get(cur, k->name), *nc;
        if (child == NULL) continue;
        if (k->flags & CFG_KEY_NONSEMANTIC) {
            res = cfg_map_without(a, cur, k->name, err);
            if (res == NULL) return PL_ERR_NOMEM;
            continue;
        }
        PL_TRY(strip_value(a, stages, k, child, &nc, err));
        if ((k->flags & CFG_KEY_DEFAULT_UNSEEN) && is_default(k, nc)) {
            res = cfg_map_without(a, cur, k->name, err);
            if (res == NULL) return PL_ERR_NOMEM;
            continue;
        }
        if (nc == child) continue;
        res = cfg_map_with(a, cur, k->name, cur->pos, (cfg_node *)nc, err);
        if (res == NULL) return PL_ERR_NOMEM;
    }
    if (res != NULL) *out = res;
    return PL_OK;
}

pl_status cfg_strip_nonsemantic(cfg_arena *a, const cfg_stage_catalog *stages,
                                const cfg_node *root, const cfg_node **out, pl_error *err) {
    return strip_map(a, stages, cfg_schema_root(), root, out, err);
}

/* ---- lookup by path ---- */

static const cfg_key *find_fail(pl_error *err, const char *path, const cfg_section *sec,
                                const char *seg) {
    char hint[600];
    key_suggestion(sec, seg, hint, sizeof hint);
    PL_ERROR(err, PL_ERR_CONFIG, "'%s' names no config key: %s has no key '%s'; %s", path,
             sec->name, seg, hint);
    return NULL;
}

/* The value of a run of digits when it is below count, else -1 (no overflow: any run of
 * more than 9 digits is past every list prunelab can hold). */
static int stage_index(const char *digits, int count) {
    if (strlen(digits) > 9) return -1;
    long v = strtol(digits, NULL, 10);
    return v < count ? (int)v : -1;
}

const cfg_key *cfg_schema_find(const cfg_stage_catalog *stages, const cfg_node *tree,
                               const char *path, pl_error *err) {
    char buf[CFG_PATH_MAX];
    char *segs[CFG_PATH_SEGMENTS];
    int n = cfg_path_split(path, buf, segs);
    if (n < 0) {
        PL_ERROR(err, PL_ERR_CONFIG, "'%s' is not a key path; write keys joined by dots, such as "
                 "model.heads", path);
        return NULL;
    }
    const cfg_section *sec = cfg_schema_root();
    const cfg_key *k = NULL;
    for (int i = 0; i < n; i++) {
        if (sec == NULL) {
            PL_ERROR(err, PL_ERR_CONFIG, "'%s' names no config key: '%s' is a %s, it has no keys",
                     path, k->name, type_name(k->type));
            return NULL;
        }
        k = section_key(sec, segs[i]);
        if (k == NULL) return find_fail(err, path, sec, segs[i]);
        if (k->type == CFG_T_ANY) return k;
        sec = k->type == CFG_T_MAP ? k->sub : NULL;
        if (k->type == CFG_T_LIST && k->item == CFG_T_MAP && i + 1 < n && cfg_path_is_index(segs[i + 1])) {
            sec = k->sub;
            i++;
        } else if (k->type == CFG_T_STAGES && i + 1 < n) {
            sec = cfg_stage_section(stages, segs[++i]);
            if (sec == NULL) {
                const char *best = kind_suggestion(stages, segs[i]);
                PL_ERROR(err, PL_ERR_CONFIG, "'%s' names no config key: '%s' is not a stage kind%s%s%s",
                         path, segs[i], best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
                return NULL;
            }
            k = NULL;
            if (i + 1 == n) {
                PL_ERROR(err, PL_ERR_CONFIG, "'%s' names a stage kind's defaults; name one of its keys",
                         path);
                return NULL;
            }
        } else if (k->type == CFG_T_PIPELINE && i + 1 < n) {
            char kind[CFG_PATH_MAX];
            snprintf(kind, sizeof kind, "%s", segs[++i]);
            if (cfg_path_is_index(kind)) {
                const cfg_node *list = cfg_map_get(tree, "pipeline");
                const char *actual;
                int count = list != NULL && list->kind == CFG_LIST ? list->u.list.count : 0;
                int idx = stage_index(kind, count);
                if (idx < 0 || list->u.list.items[idx]->kind != CFG_MAP ||
                    list->u.list.items[idx]->u.map.count != 1) {
                    PL_ERROR(err, PL_ERR_CONFIG, "'%s' names no config key: the pipeline has no stage %s "
                             "(it has %d, numbered from 0)", path, kind, count);
                    return NULL;
                }
                actual = list->u.list.items[idx]->u.map.entries[0].key;
                if (i + 1 < n && strcmp(segs[i + 1], actual) == 0) i++;
                snprintf(kind, sizeof kind, "%s", actual);
            }
            char *hash = strchr(kind, '#');
            if (hash) *hash = '\0';
            sec = cfg_stage_section(stages, kind);
            if (sec == NULL) {
                const char *best = kind_suggestion(stages, kind);
                PL_ERROR(err, PL_ERR_CONFIG, "'%s' names no config key: '%s' is not a stage kind%s%s%s",
                         path, kind, best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
                return NULL;
            }
            k = NULL;
            if (i + 1 == n) {
                if (sec->n_keys == 0)
                    PL_ERROR(err, PL_ERR_CONFIG, "'%s' names a whole stage, which has no keys", path);
                else
                    PL_ERROR(err, PL_ERR_CONFIG, "'%s' names a whole stage; name one of its keys, such as %s.%s",
                             path, path, sec->keys[0].name);
                return NULL;
            }
        }
    }
    return k;
}

/* ---- help ---- */

static void help_keys(FILE *out, const cfg_section *sec, const char *prefix) {
    for (int i = 0; i < sec->n_keys; i++) {
        const cfg_key *k = &sec->keys[i];
        char name[160], allowed[300];
        snprintf(name, sizeof name, "%s%s%s", prefix, k->name, k->type == CFG_T_LIST && k->item == CFG_T_MAP ? "[]" : "");
        cfg_schema_describe(k, allowed, sizeof allowed);
        const char *def = k->def ? k->def : (k->flags & CFG_KEY_OPTIONAL ? "(optional)" : "(required)");
        if (k->type == CFG_T_MAP && k->sub != NULL && !k->sub->open) {
            fprintf(out, "  %-30s %s\n", name, k->help);
            char sub[200];
            snprintf(sub, sizeof sub, "%s.", name);
            help_keys(out, k->sub, sub);
            continue;
        }
        fprintf(out, "  %-30s %-12s %s\n  %-30s   %s%s\n", name, def, allowed, "", k->help,
                k->flags & CFG_KEY_NONSEMANTIC ? " (not part of the run id)" : "");
        if (k->type == CFG_T_LIST && k->item == CFG_T_MAP && k->sub != NULL && !k->sub->open) {
            char sub[200];
            snprintf(sub, sizeof sub, "%s.", name);
            help_keys(out, k->sub, sub);
        }
    }
}

/* A top-level key without keys of its own (name, seed, labels, pipeline): its line. */
static const cfg_key *root_leaf(const char *name) {
    const cfg_section *root = cfg_schema_root();
    for (int i = 0; i < root->n_keys; i++)
        if (root->keys[i].sub == NULL && strcmp(root->keys[i].name, name) == 0) return &root->keys[i];
    return NULL;
}

pl_status cfg_schema_help(FILE *out, const cfg_stage_catalog *stages, const char *name,
                          pl_error *err) {
    const cfg_section *root = cfg_schema_root();
    if (name == NULL) {
        fprintf(out, "config sections (prunelab help config <section>):\n");
        for (int i = 0; i < root->n_keys; i++) {
            const cfg_key *k = &root->keys[i];
            fprintf(out, "  %-10s %s\n", k->name, k->help);
        }
        fprintf(out, "stage kinds (items of pipeline:, defaults under stages:):\n");
        for (int i = 0; i < stages->count; i++)
            fprintf(out, "  %-10s %s\n", stages->section_at(i)->name, stages->section_at(i)->help);
        return PL_OK;
    }
    const cfg_key *leaf = root_leaf(name);
    if (leaf != NULL) {
        char allowed[300];
        cfg_schema_describe(leaf, allowed, sizeof allowed);
        fprintf(out, "%s: %s\n\n  %-30s %-12s %s\n  %-30s %-12s %s\n", leaf->name, leaf->help, "key",
                "default", "allowed", leaf->name,
                leaf->def ? leaf->def : (leaf->flags & CFG_KEY_OPTIONAL ? "(optional)" : "(required)"),
                allowed);
        if (leaf->type == CFG_T_PIPELINE || leaf->type == CFG_T_STAGES) {
            char kinds[400];
            kind_list(stages, kinds, sizeof kinds);
            fprintf(out, "\n  stage kinds: %s (prunelab help config <kind>)\n", kinds);
        }
        return PL_OK;
    }
    const cfg_section *sec = cfg_schema_section(stages, name);
    if (sec == NULL) {
        const char *names[128];
        int n = 0;
        for (int i = 0; i < root->n_keys && n < 64; i++) names[n++] = root->keys[i].name;
        for (int i = 0; i < stages->count && n < 128; i++) names[n++] = stages->section_at(i)->name;
        const char *best = cfg_suggest(name, names, n);
        return PL_ERROR(err, PL_ERR_CONFIG, "there is no config section '%s'%s%s%s; "
                        "`prunelab help config` lists them", name, best ? " (did you mean '" : "",
                        best ? best : "", best ? "'?)" : "");
    }
    fprintf(out, "%s: %s\n\n  %-30s %-12s %s\n", sec->name, sec->help, "key", "default", "allowed");
    help_keys(out, sec, "");
    if (sec->open) fprintf(out, "  (other keys are accepted and passed through unchecked)\n");
    return PL_OK;
}
