/* bind.c - storing a checked section's values at the fields its keys name (see bind.h). */
#include "config/bind.h"

#include <stdint.h>
#include <string.h>

#include "config/scalar.h"

/* The place of text among the '|'-separated choices, or -1. */
static int choice_place(const char *choices, const char *text) {
    const size_t n = strlen(text);
    int place = 0;
    for (const char *c = choices; c != NULL && *c; place++) {
        const size_t len = strcspn(c, "|");
        if (len == n && strncmp(c, text, n) == 0) return place;
        c += len + (c[len] == '|');
    }
    return -1;
}

static pl_status wrong(const cfg_key *k, const cfg_node *v, pl_error *err) {
    char where[300];
    cfg_pos_format(v->pos, where, sizeof where);
    return PL_ERROR(err, PL_ERR_INTERNAL, "%s: %s: the checked value does not fit its field (a schema table "
                    "binds it to the wrong kind)", where, k->name);
}

static pl_status bind_key(const char *section, const cfg_key *k, const cfg_node *v, char *base, pl_error *err) {
    void *field = base + k->offset;
    switch (k->bind) {
    case CFG_BIND_NONE: return PL_OK;
    case CFG_BIND_INT:
        if (v->kind != CFG_INT || v->u.i < INT32_MIN || v->u.i > INT32_MAX) return wrong(k, v, err);
        *(int *)field = (int)v->u.i;
        return PL_OK;
    case CFG_BIND_LLONG:
        if (v->kind != CFG_INT) return wrong(k, v, err);
        *(long long *)field = v->u.i;
        return PL_OK;
    case CFG_BIND_INT64:
        if (v->kind != CFG_INT) return wrong(k, v, err);
        *(int64_t *)field = (int64_t)v->u.i;
        return PL_OK;
    case CFG_BIND_UINT64:
        if (v->kind != CFG_INT || v->u.i < 0) return wrong(k, v, err);
        *(uint64_t *)field = (uint64_t)v->u.i;
        return PL_OK;
    case CFG_BIND_FLOAT:
    case CFG_BIND_DOUBLE:
        if (!cfg_is_number(v)) return wrong(k, v, err);
        if (k->bind == CFG_BIND_FLOAT) *(float *)field = (float)cfg_number(v);
        else *(double *)field = cfg_number(v);
        return PL_OK;
    case CFG_BIND_BOOL:
        if (v->kind != CFG_BOOL) return wrong(k, v, err);
        *(bool *)field = v->u.b;
        return PL_OK;
    case CFG_BIND_TEXT:
        if (v->kind != CFG_STRING) return wrong(k, v, err);
        *(const char **)field = v->u.s;
        return PL_OK;
    case CFG_BIND_CHARS:
        if (v->kind != CFG_STRING) return wrong(k, v, err);
        if (strlen(v->u.s) >= (size_t)k->cap)
            return PL_ERROR(err, PL_ERR_CONFIG, "%s.%s is longer than %d characters", section, k->name, k->cap - 1);
        memcpy(field, v->u.s, strlen(v->u.s) + 1);
        return PL_OK;
    case CFG_BIND_CHOICE: {
        const int place = v->kind == CFG_STRING ? choice_place(k->choices, v->u.s) : -1;
        if (place < 0) return wrong(k, v, err);
        *(int *)field = k->values != NULL ? k->values[place] : place;
        return PL_OK;
    }
    case CFG_BIND_SECTION:
        if (v->kind != CFG_MAP || k->sub == NULL) return wrong(k, v, err);
        return cfg_bind(k->sub, v, field, err);
    case CFG_BIND_INT_LIST:
        if (v->kind != CFG_LIST || v->u.list.count > k->cap) return wrong(k, v, err);
        for (int i = 0; i < v->u.list.count; i++) {
            const cfg_node *item = v->u.list.items[i];
            if (item->kind != CFG_INT || item->u.i < INT32_MIN || item->u.i > INT32_MAX) return wrong(k, v, err);
            ((int *)field)[i] = (int)item->u.i;
        }
        *(int *)(base + k->count_offset) = v->u.list.count;
        return PL_OK;
    case CFG_BIND_NODE:
        *(const cfg_node **)field = v;
        return PL_OK;
    case CFG_BIND_CONVERT:
        return k->convert != NULL ? k->convert(v, field, k->name, err) : wrong(k, v, err);
    }
    return wrong(k, v, err);
}

pl_status cfg_bind(const cfg_section *section, const cfg_node *map, void *out, pl_error *err) {
    if (map == NULL || map->kind != CFG_MAP)
        return PL_ERROR(err, PL_ERR_INTERNAL, "section %s: no settings map to bind", section->name);
    for (int i = 0; i < section->n_keys; i++) {
        const cfg_key *k = &section->keys[i];
        const cfg_node *v = k->bind != CFG_BIND_NONE ? cfg_map_get(map, k->name) : NULL;
        if (v != NULL) PL_TRY(bind_key(section->name, k, v, out, err));
    }
    return PL_OK;
}
