/* expr.c - tokenizer, recursive-descent parser and evaluator for `where:` expressions. */
#include "config/expr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/suggest.h"
#include "core/alloc.h"

enum { MAX_NODES = 512, MAX_DEPTH = 64, MAX_STR = 128 };

typedef enum { E_NUM, E_STR, E_BOOL, E_VAR, E_NEG, E_NOT, E_BIN } e_kind;
typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
               OP_AND, OP_OR } e_op;

typedef struct {
    e_kind kind;
    e_op op;
    int a, b;   /* operand node indices */
    double num; /* E_NUM, E_BOOL (0/1) */
    int var;    /* E_VAR */
    int str;    /* E_STR: offset into strs */
    int col;    /* offset in the text, for messages */
} e_node;

struct cfg_expr {
    e_node nodes[MAX_NODES];
    int n_nodes, root;
    char strs[1024];
    int n_strs;
    const char *const *names;
    char text[256];
    cfg_pos pos;
};

typedef struct {
    cfg_expr *e;
    const char *s; /* text */
    int i;         /* cursor */
    int depth;
    const char *const *names;
    int n_names;
    pl_error *err;
} parser;

static pl_status perr(parser *p, int at, const char *fmt, const char *detail) {
    char where[300], msg[400];
    cfg_pos pos = p->e->pos;
    if (pos.line > 0) pos.col += at;
    cfg_pos_format(pos, where, sizeof where);
    snprintf(msg, sizeof msg, fmt, detail);
    return PL_ERROR(p->err, PL_ERR_CONFIG, "%s: where: %s (in '%.120s')", where, msg, p->s);
}

static void skip_ws(parser *p) {
    while (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n') p->i++;
}

static bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
/* '.' and '#' inside a name: a config key path such as pipeline.eval#1.samples (a column of
 * index.tsv) is one identifier. */
static bool is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '#'; }

/* True (and consumes) when the next token is the keyword or operator tok. */
static bool accept(parser *p, const char *tok) {
    skip_ws(p);
    size_t n = strlen(tok);
    if (strncmp(p->s + p->i, tok, n) != 0) return false;
    if (is_ident_start(tok[0]) && is_ident(p->s[p->i + (int)n])) return false;
    if ((tok[0] == '<' || tok[0] == '>') && n == 1 && p->s[p->i + 1] == '=') return false;
    p->i += (int)n;
    return true;
}

static int add_node(parser *p, e_node node) {
    if (p->e->n_nodes == MAX_NODES) return -1;
    p->e->nodes[p->e->n_nodes] = node;
    return p->e->n_nodes++;
}

static pl_status parse_or(parser *p, int *out);

static pl_status parse_primary(parser *p, int *out) {
    skip_ws(p);
    int at = p->i;
    char c = p->s[p->i];
    e_node n = {.col = at};
    if (c == '(') {
        p->i++;
        PL_TRY(parse_or(p, out));
        if (!accept(p, ")")) return perr(p, p->i, "%s", "expected ')'");
        return PL_OK;
    }
    if ((c >= '0' && c <= '9') || (c == '.' && p->s[p->i + 1] >= '0' && p->s[p->i + 1] <= '9')) {
        char *end;
        n.kind = E_NUM;
        n.num = strtod(p->s + p->i, &end);
        p->i = (int)(end - p->s);
        if (!isfinite(n.num)) return perr(p, at, "%s", "a number is out of range");
    } else if (c == '\'' || c == '"') {
        const char *close = strchr(p->s + p->i + 1, c);
        if (close == NULL) return perr(p, at, "%s", "a string is not closed");
        int len = (int)(close - (p->s + p->i + 1));
        if (len >= MAX_STR || p->e->n_strs + len + 1 > (int)sizeof p->e->strs)
            return perr(p, at, "%s", "a string is too long");
        n.kind = E_STR;
        n.str = p->e->n_strs;
        memcpy(p->e->strs + n.str, p->s + p->i + 1, (size_t)len);
        p->e->strs[n.str + len] = '\0';
        p->e->n_strs += len + 1;
        p->i += len + 2;
    } else if (is_ident_start(c)) {
        char name[MAX_STR];
        int len = 0;
        while (is_ident(p->s[p->i]) && len < MAX_STR - 1) name[len++] = p->s[p->i++];
        name[len] = '\0';
        if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0) {
            n.kind = E_BOOL;
            n.num = name[0] == 't';
        } else {
            n.kind = E_VAR;
            n.var = -1;
            for (int i = 0; i < p->n_names; i++)
                if (strcmp(p->names[i], name) == 0) n.var = i;
            if (n.var < 0) {
                const char *best = cfg_suggest(name, p->names, p->n_names);
                char detail[300];
                snprintf(detail, sizeof detail, "'%s' is not an axis alias%s%s%s", name,
                         best ? " (did you mean '" : "; declare it under sweep.axes", best ? best : "",
                         best ? "'?)" : "");
                return perr(p, at, "%s", detail);
            }
        }
    } else {
        char tok[8] = {c ? c : ' ', 0};
        return perr(p, at, c ? "unexpected '%s'; expected a number, an alias or '('"
                             : "the expression ends early%s; expected a number, an alias or '('",
                    c ? tok : "");
    }
    *out = add_node(p, n);
    return *out >= 0 ? PL_OK : perr(p, at, "%s", "the expression is too long");
}

static pl_status parse_unary(parser *p, int *out) {
    skip_ws(p);
    int at = p->i;
    if (++p->depth > MAX_DEPTH) return perr(p, at, "%s", "the expression nests too deeply");
    pl_status st;
    if (accept(p, "-") || accept(p, "+")) {
        bool neg = p->s[at] == '-';
        int a;
        st = parse_unary(p, &a);
        if (st == PL_OK) {
            *out = neg ? add_node(p, (e_node){.kind = E_NEG, .a = a, .col = at}) : a;
            if (*out < 0) st = perr(p, at, "%s", "the expression is too long");
        }
    } else {
        st = parse_primary(p, out);
    }
    p->depth--;
    return st;
}

typedef struct {
    const char *tok;
    e_op op;
} op_tok;

/* A left-associative level: operand (op operand)*, ops tried in order. */
static pl_status parse_level(parser *p, int *out, const op_tok *ops, int n_ops,
                             pl_status (*operand)(parser *, int *), bool once) {
    PL_TRY(operand(p, out));
    for (;;) {
        skip_ws(p);
        int at = p->i, k;
        for (k = 0; k < n_ops; k++)
            if (accept(p, ops[k].tok)) break;
        if (k == n_ops) return PL_OK;
        int b;
        PL_TRY(operand(p, &b));
        *out = add_node(p, (e_node){.kind = E_BIN, .op = ops[k].op, .a = *out, .b = b, .col = at});
        if (*out < 0) return perr(p, at, "%s", "the expression is too long");
        if (once) return PL_OK;
    }
}

static pl_status parse_mul(parser *p, int *out) {
    static const op_tok ops[] = {{"*", OP_MUL}, {"/", OP_DIV}, {"%", OP_MOD}};
    return parse_level(p, out, ops, 3, parse_unary, false);
}

static pl_status parse_add(parser *p, int *out) {
    static const op_tok ops[] = {{"+", OP_ADD}, {"-", OP_SUB}};
    return parse_level(p, out, ops, 2, parse_mul, false);
}

static pl_status parse_cmp(parser *p, int *out) {
    static const op_tok ops[] = {{"<=", OP_LE}, {">=", OP_GE}, {"==", OP_EQ}, {"!=", OP_NE},
                                 {"<", OP_LT}, {">", OP_GT}};
    return parse_level(p, out, ops, 6, parse_add, true);
}

static pl_status parse_not(parser *p, int *out) {
    skip_ws(p);
    int at = p->i;
    if (!accept(p, "not")) return parse_cmp(p, out);
    if (++p->depth > MAX_DEPTH) return perr(p, at, "%s", "the expression nests too deeply");
    int a;
    PL_TRY(parse_not(p, &a));
    p->depth--;
    *out = add_node(p, (e_node){.kind = E_NOT, .a = a, .col = at});
    return *out >= 0 ? PL_OK : perr(p, at, "%s", "the expression is too long");
}

static pl_status parse_and(parser *p, int *out) {
    static const op_tok ops[] = {{"and", OP_AND}};
    return parse_level(p, out, ops, 1, parse_not, false);
}

static pl_status parse_or(parser *p, int *out) {
    static const op_tok ops[] = {{"or", OP_OR}};
    if (++p->depth > MAX_DEPTH) return perr(p, p->i, "%s", "the expression nests too deeply");
    pl_status st = parse_level(p, out, ops, 1, parse_and, false);
    p->depth--;
    return st;
}

pl_status cfg_expr_parse(const char *text, const char *const *names, int n_names, cfg_pos pos,
                         cfg_expr **out, pl_error *err) {
    *out = NULL;
    cfg_expr *e = pl_alloc(1, sizeof *e, err);
    if (e == NULL) return PL_ERR_NOMEM;
    e->pos = pos;
    e->names = names;
    snprintf(e->text, sizeof e->text, "%s", text);
    parser p = {e, text, 0, 0, names, n_names, err};
    pl_status st = strlen(text) >= sizeof e->text ? perr(&p, 0, "%s", "the expression is longer than 255 characters")
                                                   : parse_or(&p, &e->root);
    if (st == PL_OK) {
        skip_ws(&p);
        if (text[p.i] != '\0') st = perr(&p, p.i, "unexpected '%s' after a complete expression", text + p.i);
    }
    if (st != PL_OK) {
        pl_free(e);
        return st;
    }
    *out = e;
    return PL_OK;
}

void cfg_expr_free(cfg_expr *e) { pl_free(e); }

/* ---- evaluation ---- */

typedef struct {
    char type; /* 'n' number, 's' string, 'b' bool */
    double num;
    const char *str;
} e_val;

static pl_status eerr(const cfg_expr *e, int col, pl_error *err, const char *msg) {
    char where[300];
    cfg_pos pos = e->pos;
    if (pos.line > 0) pos.col += col;
    cfg_pos_format(pos, where, sizeof where);
    return PL_ERROR(err, PL_ERR_CONFIG, "%s: where: %s (in '%s')", where, msg, e->text);
}

static const char *val_type(char t) { return t == 'n' ? "a number" : t == 's' ? "a string" : "a bool"; }

static pl_status eval(const cfg_expr *e, int i, const cfg_node *const *values, e_val *out, pl_error *err) {
    const e_node *n = &e->nodes[i];
    char msg[300];
    e_val a, b;
    switch (n->kind) {
    case E_NUM: *out = (e_val){'n', n->num, NULL}; return PL_OK;
    case E_BOOL: *out = (e_val){'b', n->num, NULL}; return PL_OK;
    case E_STR: *out = (e_val){'s', 0, e->strs + n->str}; return PL_OK;
    case E_VAR: {
        const cfg_node *v = values[n->var];
        if (cfg_is_number(v)) *out = (e_val){'n', cfg_number(v), NULL};
        else if (v->kind == CFG_BOOL) *out = (e_val){'b', v->u.b, NULL};
        else if (v->kind == CFG_STRING) *out = (e_val){'s', 0, v->u.s};
        else {
            snprintf(msg, sizeof msg, "alias '%s' has a %s value here; where compares numbers, strings and bools",
                     e->names[n->var], cfg_kind_name(v->kind));
            return eerr(e, n->col, err, msg);
        }
        return PL_OK;
    }
    case E_NEG:
        PL_TRY(eval(e, n->a, values, &a, err));
        if (a.type != 'n') return eerr(e, n->col, err, "unary '-' needs a number");
        *out = (e_val){'n', -a.num, NULL};
        return PL_OK;
    case E_NOT:
        PL_TRY(eval(e, n->a, values, &a, err));
        if (a.type != 'b') return eerr(e, n->col, err, "'not' needs a bool, such as a comparison");
        *out = (e_val){'b', !a.num, NULL};
        return PL_OK;
    case E_BIN: break;
    }
    PL_TRY(eval(e, n->a, values, &a, err));
    if (n->op == OP_AND || n->op == OP_OR) {
        if (a.type != 'b') return eerr(e, n->col, err, "'and'/'or' need bools on both sides, such as comparisons");
        if ((n->op == OP_AND) != (a.num != 0)) { /* short circuit */
            *out = a;
            return PL_OK;
        }
        PL_TRY(eval(e, n->b, values, &b, err));
        if (b.type != 'b') return eerr(e, n->col, err, "'and'/'or' need bools on both sides, such as comparisons");
        *out = b;
        return PL_OK;
    }
    PL_TRY(eval(e, n->b, values, &b, err));
    if (n->op == OP_EQ || n->op == OP_NE) {
        if (a.type != b.type) {
            snprintf(msg, sizeof msg, "'==' and '!=' compare values of one type, not %s and %s",
                     val_type(a.type), val_type(b.type));
            return eerr(e, n->col, err, msg);
        }
        bool eq = a.type == 's' ? strcmp(a.str, b.str) == 0 : a.num == b.num;
        *out = (e_val){'b', (n->op == OP_EQ) == eq, NULL};
        return PL_OK;
    }
    if (a.type != 'n' || b.type != 'n') {
        snprintf(msg, sizeof msg, "arithmetic and ordering need numbers, not %s and %s", val_type(a.type), val_type(b.type));
        return eerr(e, n->col, err, msg);
    }
    double x = a.num, y = b.num, r = 0;
    switch (n->op) {
    case OP_ADD: r = x + y; break;
    case OP_SUB: r = x - y; break;
    case OP_MUL: r = x * y; break;
    case OP_DIV:
    case OP_MOD:
        if (y == 0) return eerr(e, n->col, err, "division by zero");
        r = n->op == OP_DIV ? x / y : fmod(x, y);
        break;
    case OP_LT: *out = (e_val){'b', x < y, NULL}; return PL_OK;
    case OP_LE: *out = (e_val){'b', x <= y, NULL}; return PL_OK;
    case OP_GT: *out = (e_val){'b', x > y, NULL}; return PL_OK;
    case OP_GE: *out = (e_val){'b', x >= y, NULL}; return PL_OK;
    default: return PL_ERROR(err, PL_ERR_INTERNAL, "unknown where operator");
    }
    *out = (e_val){'n', r, NULL};
    return PL_OK;
}

pl_status cfg_expr_eval(const cfg_expr *e, const cfg_node *const *values, bool *out, pl_error *err) {
    e_val v;
    PL_TRY(eval(e, e->root, values, &v, err));
    if (v.type != 'b') return eerr(e, 0, err, "the expression gives a number or string, not true/false; compare it, e.g. 'sv + sl <= 1.2'");
    *out = v.num != 0;
    return PL_OK;
}
