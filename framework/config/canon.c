/* canon.c - canonical (sorted, shortest-number) YAML serialisation. */
#include "config/canon.h"

#include <stdlib.h>
#include <string.h>

#include "config/scalar.h"

static bool plain_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || cfg_scalar_is_special(s, n)) return false;
    char c0 = s[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || (c0 >= '0' && c0 <= '9') || c0 == '_' || c0 == '/'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '/' || c == '-' || c == '+' || (c == ':' && i + 1 < n);
        if (!ok) return false;
    }
    return true;
}

static void put_string(const char *s, cfg_strbuf *sb) {
    if (plain_ok(s)) {
        cfg_strbuf_puts(sb, s);
        return;
    }
    cfg_strbuf_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* Unicode line breaks, C1 controls and the BOM would not survive a reload raw */
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            cfg_strbuf_printf(sb, "\\x%02x", p[1]);
            p++;
            continue;
        }
        if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            cfg_strbuf_puts(sb, p[2] == 0xa8 ? "\\L" : "\\P");
            p += 2;
            continue;
        }
        if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
            cfg_strbuf_puts(sb, "\\ufeff");
            p += 2;
            continue;
        }
        switch (*p) {
        case '"': cfg_strbuf_puts(sb, "\\\""); break;
        case '\\': cfg_strbuf_puts(sb, "\\\\"); break;
        case '\n': cfg_strbuf_puts(sb, "\\n"); break;
        case '\t': cfg_strbuf_puts(sb, "\\t"); break;
        case '\r': cfg_strbuf_puts(sb, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) cfg_strbuf_printf(sb, "\\x%02x", *p);
            else cfg_strbuf_putc(sb, (char)*p);
        }
    }
    cfg_strbuf_putc(sb, '"');
}

static void put_scalar(const cfg_node *n, cfg_strbuf *sb) {
    switch (n->kind) {
    case CFG_NULL: cfg_strbuf_puts(sb, "null"); break;
    case CFG_BOOL: cfg_strbuf_puts(sb, n->u.b ? "true" : "false"); break;
    case CFG_INT: cfg_strbuf_printf(sb, "%lld", n->u.i); break;
    case CFG_FLOAT: cfg_strbuf_puts(sb, n->u.f.text); break;
    case CFG_STRING: put_string(n->u.s, sb); break;
    default: break;
    }
}

static int cmp_entries(const void *a, const void *b) {
    return strcmp((*(const cfg_entry *const *)a)->key, (*(const cfg_entry *const *)b)->key);
}

/* Sorted entry pointers of a map; small maps use the caller's stack array. */
static const cfg_entry **sorted(const cfg_node *map, const cfg_entry **stack, int cap, cfg_strbuf *sb) {
    int n = map->u.map.count;
    const cfg_entry **e = n <= cap ? stack : malloc((size_t)n * sizeof *e);
    if (e == NULL) {
        sb->status = PL_ERR_NOMEM;
        return NULL;
    }
    for (int i = 0; i < n; i++) e[i] = &map->u.map.entries[i];
    qsort(e, (size_t)n, sizeof *e, cmp_entries);
    return e;
}

void cfg_canon_flow(const cfg_node *n, cfg_strbuf *sb) {
    if (n->kind == CFG_LIST) {
        cfg_strbuf_putc(sb, '[');
        for (int i = 0; i < n->u.list.count; i++) {
            if (i) cfg_strbuf_puts(sb, ", ");
            cfg_canon_flow(n->u.list.items[i], sb);
        }
        cfg_strbuf_putc(sb, ']');
    } else if (n->kind == CFG_MAP) {
        const cfg_entry *stack[64];
        const cfg_entry **e = sorted(n, stack, 64, sb);
        if (e == NULL) return;
        cfg_strbuf_putc(sb, '{');
        for (int i = 0; i < n->u.map.count; i++) {
            if (i) cfg_strbuf_puts(sb, ", ");
            put_string(e[i]->key, sb);
            cfg_strbuf_puts(sb, ": ");
            cfg_canon_flow(e[i]->value, sb);
        }
        cfg_strbuf_putc(sb, '}');
        if (e != stack) free(e);
    } else {
        put_scalar(n, sb);
    }
}

static bool all_scalars(const cfg_node *list) {
    for (int i = 0; i < list->u.list.count; i++)
        if (!cfg_is_scalar(list->u.list.items[i])) return false;
    return true;
}

static void indent(cfg_strbuf *sb, int n) {
    for (int i = 0; i < n; i++) cfg_strbuf_putc(sb, ' ');
}

static bool inline_value(const cfg_node *v) {
    return cfg_is_scalar(v) || (v->kind == CFG_MAP && v->u.map.count == 0) ||
           (v->kind == CFG_LIST && all_scalars(v));
}

static void emit_block(const cfg_node *n, int depth, bool first_inline, cfg_strbuf *sb);

/* Writes a value after "key:" or "-" (a space and a flow value, or a newline and a block). */
static void emit_after(const cfg_node *v, int depth, cfg_strbuf *sb) {
    if (inline_value(v)) {
        cfg_strbuf_putc(sb, ' ');
        cfg_canon_flow(v, sb);
        cfg_strbuf_putc(sb, '\n');
    } else {
        cfg_strbuf_putc(sb, '\n');
        emit_block(v, depth, false, sb);
    }
}

static void emit_block(const cfg_node *n, int depth, bool first_inline, cfg_strbuf *sb) {
    if (n->kind == CFG_MAP) {
        const cfg_entry *stack[64];
        const cfg_entry **e = sorted(n, stack, 64, sb);
        if (e == NULL) return;
        for (int i = 0; i < n->u.map.count; i++) {
            if (i > 0 || !first_inline) indent(sb, depth);
            put_string(e[i]->key, sb);
            cfg_strbuf_putc(sb, ':');
            emit_after(e[i]->value, depth + 2, sb);
        }
        if (e != stack) free(e);
    } else if (n->kind == CFG_LIST) {
        for (int i = 0; i < n->u.list.count; i++) {
            const cfg_node *item = n->u.list.items[i];
            indent(sb, depth);
            cfg_strbuf_putc(sb, '-');
            if (item->kind == CFG_MAP && item->u.map.count > 0) {
                cfg_strbuf_putc(sb, ' ');
                emit_block(item, depth + 2, true, sb);
            } else {
                emit_after(item, depth + 2, sb);
            }
        }
    } else {
        indent(sb, depth);
        put_scalar(n, sb);
        cfg_strbuf_putc(sb, '\n');
    }
}

void cfg_canon_append(const cfg_node *node, cfg_strbuf *sb) {
    if (inline_value(node)) {
        cfg_canon_flow(node, sb);
        cfg_strbuf_putc(sb, '\n');
    } else {
        emit_block(node, 0, false, sb);
    }
}

char *cfg_to_yaml(const cfg_node *node, pl_error *err) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_canon_append(node, &sb);
    if (cfg_strbuf_check(&sb, err) != PL_OK) {
        cfg_strbuf_free(&sb);
        return NULL;
    }
    char *text = cfg_strbuf_take(&sb);
    if (text == NULL) PL_ERROR(err, PL_ERR_NOMEM, "out of memory serialising a config");
    return text;
}
