/* yaml_load.c - libyaml event stream -> cfg_node tree (typing, anchors, merge keys, errors). */
#include "config/yaml_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/scalar.h"
#include "core/alloc.h"
#include "core/file_open.h"

enum { MAX_DEPTH = 200, MAX_FILE_BYTES = 16 << 20, CFG_KEY_MAX_CHARS = 256 };

typedef struct {
    const char *name;
    cfg_node *node; /* NULL while the anchored node is still being read */
} anchor;

typedef struct {
    cfg_arena *arena;
    yaml_parser_t parser;
    const char *file; /* arena copy */
    const char *text;
    size_t len;
    pl_error *err;
    anchor *anchors; /* heap array */
    int n_anchors, cap_anchors;
} loader;

static cfg_pos mark_pos(const loader *ld, yaml_mark_t m) {
    return (cfg_pos){ld->file, (int)m.line + 1, (int)m.column + 1};
}

static pl_status fail_at(loader *ld, cfg_pos pos, const char *fmt, const char *detail) {
    char msg[700];
    snprintf(msg, sizeof msg, fmt, detail);
    return cfg_error_at(ld->err, pos, "%s", msg);
}

static pl_status syntax_error(loader *ld) {
    yaml_parser_t *p = &ld->parser;
    cfg_pos pos = mark_pos(ld, p->problem_mark);
    if (p->problem_mark.index < ld->len && ld->text[p->problem_mark.index] == '\t')
        return fail_at(ld, pos, "%s", "a tab character is not allowed here; YAML indents with spaces only");
    char detail[400];
    if (p->context != NULL)
        snprintf(detail, sizeof detail, "%s %s (line %d)", p->problem ? p->problem : "syntax error",
                 p->context, (int)p->context_mark.line + 1);
    else
        snprintf(detail, sizeof detail, "%s", p->problem ? p->problem : "syntax error");
    if (p->error == YAML_MEMORY_ERROR) return PL_ERROR(ld->err, PL_ERR_NOMEM, "out of memory parsing YAML");
    return fail_at(ld, pos, "malformed YAML: %s; check the indentation and brackets here", detail);
}

static pl_status next_event(loader *ld, yaml_event_t *ev) {
    if (!yaml_parser_parse(&ld->parser, ev)) return syntax_error(ld);
    return PL_OK;
}

static pl_status push_anchor(loader *ld, const yaml_char_t *name, int *slot) {
    *slot = -1;
    if (name == NULL) return PL_OK;
    if (ld->n_anchors == ld->cap_anchors) {
        int cap = ld->cap_anchors ? ld->cap_anchors * 2 : 16;
        anchor *p = pl_realloc(ld->anchors, (size_t)cap, sizeof *p, ld->err);
        if (p == NULL) return PL_ERR_NOMEM;
        ld->anchors = p;
        ld->cap_anchors = cap;
    }
    const char *copy = cfg_arena_strdup(ld->arena, (const char *)name, ld->err);
    if (copy == NULL) return PL_ERR_NOMEM;
    ld->anchors[ld->n_anchors] = (anchor){copy, NULL};
    *slot = ld->n_anchors++;
    return PL_OK;
}

static pl_status check_tag(loader *ld, const yaml_char_t *tag, const char *allowed, cfg_pos pos) {
    if (tag == NULL || strcmp((const char *)tag, "!") == 0) return PL_OK;
    if (allowed != NULL && strcmp((const char *)tag, allowed) == 0) return PL_OK;
    return fail_at(ld, pos, "the YAML tag '%s' is not supported here; remove it", (const char *)tag);
}

static pl_status check_weight(loader *ld, const cfg_node *n) {
    if (n->weight <= CFG_MAX_WEIGHT) return PL_OK;
    return fail_at(ld, n->pos, "%s", "this node expands to more than 1,000,000 nodes through aliases; "
                                     "a config never needs that many, so the file is refused");
}

static pl_status parse_node(loader *ld, yaml_event_t *ev, int depth, cfg_node **out);

static pl_status parse_scalar(loader *ld, yaml_event_t *ev, cfg_node **out) {
    cfg_pos pos = mark_pos(ld, ev->start_mark);
    const char *v = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const yaml_char_t *tag = ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag != NULL && strcmp((const char *)tag, YAML_STR_TAG) == 0) {
        *out = cfg_new_string(ld->arena, v, n, true, pos, ld->err);
    } else {
        PL_TRY(check_tag(ld, tag, NULL, pos));
        *out = plain ? cfg_scalar_resolve(ld->arena, v, n, pos, ld->err)
                     : cfg_new_string(ld->arena, v, n, true, pos, ld->err);
    }
    return *out != NULL ? PL_OK : ld->err->status;
}

/* Copies entries of src the map lacks (merge-key semantics). */
static pl_status merge_from(loader *ld, cfg_node *map, const cfg_node *src) {
    if (src->kind != CFG_MAP)
        return fail_at(ld, src->pos, "a '<<' merge key needs a map or a list of maps, not a %s",
                       cfg_kind_name(src->kind));
    for (int i = 0; i < src->u.map.count; i++) {
        const cfg_entry *e = &src->u.map.entries[i];
        if (cfg_map_find(map, e->key) >= 0) continue;
        PL_TRY(cfg_map_append(ld->arena, map, e->key, e->key_pos, e->value, ld->err));
    }
    return PL_OK;
}

static pl_status parse_mapping(loader *ld, yaml_event_t *start, int depth, cfg_node **out) {
    cfg_pos pos = mark_pos(ld, start->start_mark);
    PL_TRY(check_tag(ld, start->data.mapping_start.tag, YAML_MAP_TAG, pos));
    cfg_node *map = cfg_new_map(ld->arena, pos, ld->err);
    if (map == NULL) return PL_ERR_NOMEM;
    cfg_node *merges[64];
    int n_merges = 0;
    for (;;) {
        yaml_event_t ev;
        PL_TRY(next_event(ld, &ev));
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        cfg_pos key_pos = mark_pos(ld, ev.start_mark);
        cfg_node *key = NULL;
        bool merge_key = ev.type == YAML_SCALAR_EVENT && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                         strcmp((const char *)ev.data.scalar.value, "<<") == 0;
        if (ev.type == YAML_SCALAR_EVENT) {
            key = cfg_new_string(ld->arena, (const char *)ev.data.scalar.value, ev.data.scalar.length,
                                 true, key_pos, ld->err);
            yaml_event_delete(&ev);
            if (key == NULL) return PL_ERR_NOMEM;
        } else {
            pl_status st = parse_node(ld, &ev, depth + 1, &key);
            if (st != PL_OK) return st;
            if (key->kind == CFG_MAP || key->kind == CFG_LIST)
                return fail_at(ld, key_pos, "a map key must be plain text, not a %s", cfg_kind_name(key->kind));
            if (key->kind != CFG_STRING)
                return fail_at(ld, key_pos, "%s", "an alias used as a map key must name a text scalar");
        }
        /* YAML's simple keys end at 1024 characters, and a quoted key's canonical text is
         * longer than the key: refuse keys no config has long before that */
        if (strlen(key->u.s) > CFG_KEY_MAX_CHARS) {
            char detail[96];
            snprintf(detail, sizeof detail, "a map key of %zu characters; keys are at most %d",
                     strlen(key->u.s), (int)CFG_KEY_MAX_CHARS);
            return fail_at(ld, key_pos, "%s", detail);
        }
        yaml_event_t vev;
        PL_TRY(next_event(ld, &vev));
        cfg_node *value = NULL;
        PL_TRY(parse_node(ld, &vev, depth + 1, &value));
        if (merge_key) {
            if (n_merges == (int)(sizeof merges / sizeof merges[0]))
                return fail_at(ld, key_pos, "%s", "too many '<<' merge keys in one map");
            merges[n_merges++] = value;
            continue;
        }
        int prev = cfg_map_find(map, key->u.s);
        if (prev >= 0) {
            char detail[400];
            snprintf(detail, sizeof detail, "key '%.200s' appears twice in this map (first at line %d); "
                     "remove one of them", key->u.s, map->u.map.entries[prev].key_pos.line);
            return fail_at(ld, key_pos, "%s", detail);
        }
        PL_TRY(cfg_map_append(ld->arena, map, key->u.s, key_pos, value, ld->err));
    }
    for (int m = 0; m < n_merges; m++) {
        const cfg_node *src = merges[m];
        if (src->kind == CFG_LIST) {
            for (int i = 0; i < src->u.list.count; i++) PL_TRY(merge_from(ld, map, src->u.list.items[i]));
        } else {
            PL_TRY(merge_from(ld, map, src));
        }
    }
    PL_TRY(check_weight(ld, map));
    *out = map;
    return PL_OK;
}

static pl_status parse_sequence(loader *ld, yaml_event_t *start, int depth, cfg_node **out) {
    cfg_pos pos = mark_pos(ld, start->start_mark);
    PL_TRY(check_tag(ld, start->data.sequence_start.tag, YAML_SEQ_TAG, pos));
    cfg_node *list = cfg_new_list(ld->arena, pos, ld->err);
    if (list == NULL) return PL_ERR_NOMEM;
    for (;;) {
        yaml_event_t ev;
        PL_TRY(next_event(ld, &ev));
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        cfg_node *item = NULL;
        PL_TRY(parse_node(ld, &ev, depth + 1, &item));
        PL_TRY(cfg_list_append(ld->arena, list, item, ld->err));
    }
    PL_TRY(check_weight(ld, list));
    *out = list;
    return PL_OK;
}

static pl_status parse_alias(loader *ld, yaml_event_t *ev, cfg_node **out) {
    cfg_pos pos = mark_pos(ld, ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    for (int i = ld->n_anchors - 1; i >= 0; i--) {
        if (strcmp(ld->anchors[i].name, name) != 0) continue;
        if (ld->anchors[i].node == NULL)
            return fail_at(ld, pos, "alias '*%s' refers to the node that contains it, a cycle; "
                           "an alias may only repeat a node that is already complete", name);
        *out = ld->anchors[i].node;
        return PL_OK;
    }
    return fail_at(ld, pos, "alias '*%s' has no anchor; define '&name' on a node before using '*name'", name);
}

/* Consumes ev (and the events of its children). */
static pl_status parse_node(loader *ld, yaml_event_t *ev, int depth, cfg_node **out) {
    pl_status st;
    int slot = -1;
    if (depth > MAX_DEPTH) {
        st = fail_at(ld, mark_pos(ld, ev->start_mark), "%s", "the document nests more than 200 levels deep");
        yaml_event_delete(ev);
        return st;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        st = push_anchor(ld, ev->data.scalar.anchor, &slot);
        if (st == PL_OK) st = parse_scalar(ld, ev, out);
        break;
    case YAML_MAPPING_START_EVENT:
        st = push_anchor(ld, ev->data.mapping_start.anchor, &slot);
        if (st == PL_OK) st = parse_mapping(ld, ev, depth, out);
        break;
    case YAML_SEQUENCE_START_EVENT:
        st = push_anchor(ld, ev->data.sequence_start.anchor, &slot);
        if (st == PL_OK) st = parse_sequence(ld, ev, depth, out);
        break;
    case YAML_ALIAS_EVENT:
        st = parse_alias(ld, ev, out);
        break;
    default:
        st = fail_at(ld, mark_pos(ld, ev->start_mark), "%s", "unexpected YAML structure here");
        break;
    }
    yaml_event_delete(ev);
    if (st == PL_OK && slot >= 0) ld->anchors[slot].node = *out;
    return st;
}

static pl_status parse_stream(loader *ld, cfg_node **root) {
    yaml_event_t ev;
    PL_TRY(next_event(ld, &ev)); /* STREAM_START */
    yaml_event_delete(&ev);
    PL_TRY(next_event(ld, &ev));
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        *root = cfg_new_null(ld->arena, (cfg_pos){ld->file, 1, 1}, ld->err);
        return *root != NULL ? PL_OK : PL_ERR_NOMEM;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    PL_TRY(next_event(ld, &ev));
    PL_TRY(parse_node(ld, &ev, 0, root));
    PL_TRY(next_event(ld, &ev)); /* DOCUMENT_END */
    yaml_event_delete(&ev);
    PL_TRY(next_event(ld, &ev));
    cfg_pos pos = mark_pos(ld, ev.start_mark);
    bool more = ev.type != YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
    if (more) return fail_at(ld, pos, "%s", "a second YAML document starts here; a config file holds one document");
    return PL_OK;
}

pl_status cfg_load_string(cfg_arena *a, const char *text, size_t len, const char *name,
                          cfg_node **root, pl_error *err) {
    pl_error local;
    if (err == NULL) err = &local;
    *root = NULL;
    loader ld = {.arena = a, .text = text, .len = len, .err = err};
    ld.file = cfg_arena_strdup(a, name, err);
    if (ld.file == NULL) return PL_ERR_NOMEM;
    if (!yaml_parser_initialize(&ld.parser))
        return PL_ERROR(err, PL_ERR_NOMEM, "out of memory starting the YAML parser");
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, len);
    pl_status st = parse_stream(&ld, root);
    yaml_parser_delete(&ld.parser);
    pl_free(ld.anchors);
    if (st != PL_OK) *root = NULL;
    return st;
}

pl_status cfg_load_file(cfg_arena *a, const char *path, cfg_node **root, pl_error *err) {
    *root = NULL;
    FILE *f;
    PL_TRY(pl_fopen_read(path, "config file", 0, &f, err));
    char *text = NULL;
    size_t len = 0, cap = 0;
    pl_status st = PL_OK;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > MAX_FILE_BYTES) {
                st = PL_ERROR(err, PL_ERR_CONFIG, "config file '%s' is larger than 16 MiB; "
                              "a config file should be a few kilobytes", path);
                break;
            }
            char *p = pl_realloc(text, cap, 1, err);
            if (p == NULL) {
                st = PL_ERR_NOMEM;
                break;
            }
            text = p;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) st = PL_ERROR(err, PL_ERR_IO, "cannot read config file '%s': %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (st == PL_OK) st = cfg_load_string(a, text ? text : "", len, path, root, err);
    pl_free(text);
    return st;
}
