/* interp.c - resolving ${...} references with cycle detection and memoisation. */
#include "config/interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/path.h"
#include "config/scalar.h"
#include "config/strbuf.h"

enum { MAX_CHAIN = 64, MAX_MEMO = 256, MAX_TEXT = 65536 };

typedef struct {
    cfg_arena *a;
    const cfg_node *root;
    pl_error *err;
    const char *chain[MAX_CHAIN]; /* paths being resolved, outermost first */
    int depth;
    const char *memo_path[MAX_MEMO];
    cfg_node *memo_node[MAX_MEMO];
    int n_memo;
} interp;

static pl_status fail(interp *in, cfg_pos pos, const char *msg) {
    return cfg_error_at(in->err, pos, "%s", msg);
}

static pl_status resolve_tree(interp *in, const cfg_node *node, cfg_node **out);

static pl_status resolve_path(interp *in, const char *path, cfg_pos pos, cfg_node **out) {
    char msg[900];
    for (int i = 0; i < in->n_memo; i++)
        if (strcmp(in->memo_path[i], path) == 0) {
            *out = in->memo_node[i];
            return PL_OK;
        }
    for (int i = 0; i < in->depth; i++) {
        if (strcmp(in->chain[i], path) != 0) continue;
        size_t n = (size_t)snprintf(msg, sizeof msg, "interpolation cycle: ");
        for (int j = i; j < in->depth && n < sizeof msg; j++)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "${%s} -> ", in->chain[j]);
        if (n < sizeof msg) snprintf(msg + n, sizeof msg - n, "${%s}; break the loop with a literal value", path);
        return fail(in, pos, msg);
    }
    if (in->depth == MAX_CHAIN) return fail(in, pos, "interpolations are nested more than 64 deep");
    const cfg_node *target;
    pl_error why;
    pl_error_clear(&why);
    if (cfg_lookup(in->root, path, &target, &why) != PL_OK) {
        snprintf(msg, sizeof msg, "${%.200s} refers to a key that does not exist (%.500s)", path, why.message);
        return fail(in, pos, msg);
    }
    const char *copy = cfg_arena_strdup(in->a, path, in->err);
    if (copy == NULL) return PL_ERR_NOMEM;
    in->chain[in->depth++] = copy;
    pl_status st = resolve_tree(in, target, out);
    in->depth--;
    if (st == PL_OK && in->n_memo < MAX_MEMO) {
        in->memo_path[in->n_memo] = copy;
        in->memo_node[in->n_memo++] = *out;
    }
    return st;
}

/* Resolves one reference body (between "${" and "}"). */
static pl_status resolve_ref(interp *in, const char *ref, size_t n, cfg_pos pos, bool whole,
                             cfg_node **out) {
    char name[CFG_PATH_MAX], msg[700];
    if (n == 0 || n >= sizeof name) return fail(in, pos, "an empty or over-long ${...} reference");
    memcpy(name, ref, n);
    name[n] = '\0';
    if (strncmp(name, "env:", 4) != 0) return resolve_path(in, name, pos, out);
    const char *value = getenv(name + 4);
    if (value == NULL) {
        snprintf(msg, sizeof msg, "${%.200s} needs the environment variable %.200s, which is not set; export it or change the value", name, name + 4);
        return fail(in, pos, msg);
    }
    *out = whole ? cfg_scalar_resolve(in->a, value, strlen(value), pos, in->err)
                 : cfg_new_string(in->a, value, strlen(value), true, pos, in->err);
    return *out != NULL ? PL_OK : in->err->status;
}

static void scalar_text(const cfg_node *n, cfg_strbuf *sb) {
    switch (n->kind) {
    case CFG_NULL: cfg_strbuf_puts(sb, "null"); break;
    case CFG_BOOL: cfg_strbuf_puts(sb, n->u.b ? "true" : "false"); break;
    case CFG_INT: cfg_strbuf_printf(sb, "%lld", n->u.i); break;
    case CFG_FLOAT: cfg_strbuf_puts(sb, n->u.f.text); break;
    case CFG_STRING: cfg_strbuf_puts(sb, n->u.s); break;
    default: break;
    }
}

static pl_status resolve_string(interp *in, const cfg_node *node, cfg_node **out) {
    const char *s = node->u.s;
    size_t len = strlen(s);
    const char *open = strstr(s, "${");
    if (open == NULL) {
        *out = (cfg_node *)node;
        return PL_OK;
    }
    if (open == s && s[len - 1] == '}' && strchr(s + 2, '}') == s + len - 1 && strstr(s + 2, "${") == NULL)
        return resolve_ref(in, s + 2, len - 3, node->pos, true, out);
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    pl_status st = PL_OK;
    for (const char *p = s; *p && st == PL_OK;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            cfg_strbuf_puts(&sb, "${");
            p += 3;
        } else if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (close == NULL) {
                st = fail(in, node->pos, "a ${ reference is not closed with }; write $${ for a literal ${");
                break;
            }
            cfg_node *v;
            st = resolve_ref(in, p + 2, (size_t)(close - p - 2), node->pos, false, &v);
            if (st != PL_OK) break;
            if (!cfg_is_scalar(v)) {
                char msg[400];
                snprintf(msg, sizeof msg, "${%.*s} is a %s and cannot be spliced into text; "
                         "make the reference the whole value", (int)(close - p - 2), p + 2, cfg_kind_name(v->kind));
                st = fail(in, node->pos, msg);
                break;
            }
            scalar_text(v, &sb);
            p = close + 1;
        } else {
            cfg_strbuf_putc(&sb, *p++);
        }
        if (sb.len > MAX_TEXT) st = fail(in, node->pos, "interpolation makes a string longer than 64 KiB");
    }
    if (st == PL_OK) st = cfg_strbuf_check(&sb, in->err);
    if (st == PL_OK) {
        *out = cfg_new_string(in->a, sb.data ? sb.data : "", sb.len, true, node->pos, in->err);
        if (*out == NULL) st = PL_ERR_NOMEM;
    }
    cfg_strbuf_free(&sb);
    return st;
}

static pl_status resolve_tree(interp *in, const cfg_node *node, cfg_node **out) {
    *out = (cfg_node *)node;
    if (node->kind == CFG_STRING) return resolve_string(in, node, out);
    if (node->kind != CFG_MAP && node->kind != CFG_LIST) return PL_OK;
    bool map = node->kind == CFG_MAP;
    int n = map ? node->u.map.count : node->u.list.count;
    cfg_node *res = NULL;
    for (int i = 0; i < n; i++) {
        cfg_node *child = map ? node->u.map.entries[i].value : node->u.list.items[i], *nc;
        PL_TRY(resolve_tree(in, child, &nc));
        if (nc == child) continue;
        if (res == NULL && (res = cfg_shallow_copy(in->a, node, in->err)) == NULL) return PL_ERR_NOMEM;
        if (map) res->u.map.entries[i].value = nc;
        else res->u.list.items[i] = nc;
    }
    if (res != NULL) {
        cfg_node_reweigh(res);
        *out = res;
    }
    return PL_OK;
}

pl_status cfg_interpolate(cfg_arena *a, const cfg_node *root, cfg_node **out, pl_error *err) {
    pl_error local;
    interp *in = malloc(sizeof *in);
    if (in == NULL) return PL_ERROR(err, PL_ERR_NOMEM, "out of memory starting interpolation");
    in->a = a;
    in->root = root;
    in->err = err != NULL ? err : &local;
    in->depth = in->n_memo = 0;
    pl_status st = resolve_tree(in, root, out);
    free(in);
    return st;
}
