/* results.c - reading index.tsv into a pl_results table (see results.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/results.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/expr.h"
#include "config/yaml_load.h"
#include "core/alloc.h"
#include "core/file_open.h"
#include "io/tsv.h"

enum { MAX_COLS = 4096 };

/* Splits line (modified in place) at tabs into at most max fields, unescaping each. */
static int split_fields(char *line, char **fields, int max) {
    int n = 0;
    for (char *p = line;; ) {
        char *tab = strchr(p, '\t');
        if (tab) *tab = '\0';
        if (n == max) return -1;
        pl_tsv_unescape(p);
        fields[n++] = p;
        if (tab == NULL) return n;
        p = tab + 1;
    }
}

/* A cell as a number ('.' decimals: parsed under the C locale, see pl_results_read); NaN
 * for empty cells, `nan` and anything that is not a number. */
static double parse_number(const char *s) {
    if (*s == '\0') return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end == '\0' ? v : NAN;
}

static pl_status fail_format(pl_error *err, const char *path, long line, const char *msg) {
    return PL_ERROR(err, PL_ERR_FORMAT, "%s:%ld: %s", path, line, msg);
}

/* Locates the alias, status and metric columns from the header. */
static pl_status layout(pl_results *r, const char *path, pl_error *err) {
    if (r->n_cols < 4 || strcmp(r->cols[0], "run_id") != 0 || strcmp(r->cols[1], "group_id") != 0 ||
        strcmp(r->cols[2], "seed") != 0)
        return fail_format(err, path, 1, "the header must start with run_id, group_id, seed");
    r->status_col = -1;
    for (int c = 3; c < r->n_cols && r->status_col < 0; c++)
        if (strcmp(r->cols[c], "status") == 0) r->status_col = c;
    if (r->status_col < 0) return fail_format(err, path, 1, "the header has no status column");
    r->alias_col = 3;
    r->n_aliases = r->status_col - 3;
    r->aliases = r->cols + 3;
    r->metric_col = r->status_col + 1;
    if (r->metric_col < r->n_cols && strcmp(r->cols[r->metric_col], "reason") == 0) r->metric_col++;
    r->n_metrics = r->n_cols - r->metric_col;
    r->metrics = r->cols + r->metric_col;
    return PL_OK;
}

static char *arena_copy(pl_results *r, const char *s, pl_error *err) {
    return cfg_arena_strdup(&r->arena, s, err);
}

/* Appends one data row; grows the cell array as needed. */
static pl_status add_row(pl_results *r, char **fields, int n, int *cap, const char *path, long line, pl_error *err) {
    if (n != r->n_cols) {
        char msg[128];
        snprintf(msg, sizeof msg, "%d fields where the header has %d", n, r->n_cols);
        return fail_format(err, path, line, msg);
    }
    if (r->n_rows == *cap) {
        int c = *cap ? 2 * *cap : 64;
        char **cells = pl_realloc(r->cells, (size_t)c * (size_t)r->n_cols, sizeof *cells, err);
        if (cells == NULL) return PL_ERR_NOMEM;
        r->cells = cells;
        *cap = c;
    }
    for (int c = 0; c < n; c++)
        if ((r->cells[(size_t)r->n_rows * r->n_cols + c] = arena_copy(r, fields[c], err)) == NULL) return PL_ERR_NOMEM;
    r->n_rows++;
    return PL_OK;
}

static pl_status read_lines(pl_results *r, FILE *f, const char *path, pl_error *err) {
    char *line = NULL, **fields = pl_alloc(MAX_COLS, sizeof *fields, err);
    if (fields == NULL) return PL_ERR_NOMEM;
    size_t size = 0;
    long lineno = 0;
    int cap = 0;
    pl_status st = PL_OK;
    ssize_t len;
    while (st == PL_OK && (len = getline(&line, &size, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        int n = split_fields(line, fields, MAX_COLS);
        if (n < 0) st = fail_format(err, path, lineno, "more than 4096 columns");
        else if (r->cols == NULL) {
            r->n_cols = n;
            r->cols = cfg_arena_array(&r->arena, (size_t)n, sizeof *r->cols, err);
            for (int c = 0; r->cols != NULL && c < n && st == PL_OK; c++)
                if ((r->cols[c] = arena_copy(r, fields[c], err)) == NULL) st = PL_ERR_NOMEM;
            if (r->cols == NULL) st = PL_ERR_NOMEM;
            if (st == PL_OK) st = layout(r, path, err);
        } else
            st = add_row(r, fields, n, &cap, path, lineno, err);
    }
    if (st == PL_OK && ferror(f)) st = PL_ERROR(err, PL_ERR_IO, "cannot read %s", path);
    if (st == PL_OK && r->cols == NULL) st = fail_format(err, path, 1, "the file is empty (no header row)");
    free(line); /* from getline */
    pl_free(fields);
    return st;
}

/* Numbers for every cell, YAML values and display text for alias cells. */
static pl_status derive(pl_results *r, const char *path, pl_error *err) {
    size_t cells = (size_t)r->n_rows * (size_t)r->n_cols, avals = (size_t)r->n_rows * (size_t)r->n_aliases;
    r->num = cfg_arena_array(&r->arena, cells + 1, sizeof *r->num, err);
    r->values = cfg_arena_array(&r->arena, avals + 1, sizeof *r->values, err);
    r->shown = cfg_arena_array(&r->arena, avals + 1, sizeof *r->shown, err);
    if (r->num == NULL || r->values == NULL || r->shown == NULL) return PL_ERR_NOMEM;
    for (size_t i = 0; i < cells; i++) r->num[i] = parse_number(r->cells[i]);
    for (int row = 0; row < r->n_rows; row++)
        for (int a = 0; a < r->n_aliases; a++) {
            const char *text = r->cells[(size_t)row * r->n_cols + r->alias_col + a];
            cfg_node *node;
            if (cfg_load_string(&r->arena, text, strlen(text), path, &node, err) != PL_OK)
                return pl_error_wrap(err, "alias %s of run %s", r->aliases[a], r->cells[(size_t)row * r->n_cols]);
            size_t k = (size_t)row * r->n_aliases + a;
            r->values[k] = node;
            r->shown[k] = node->kind == CFG_STRING ? node->u.s : text;
        }
    return PL_OK;
}

pl_status pl_results_read(const char *dir, pl_results *r, pl_error *err) {
    memset(r, 0, sizeof *r);
    cfg_arena_init(&r->arena);
    r->dir = dir;
    size_t n = strlen(dir) + sizeof "/index.tsv";
    char *path = pl_alloc(n, 1, err);
    if (path == NULL) return PL_ERR_NOMEM;
    snprintf(path, n, "%s/index.tsv", dir);
    FILE *f;
    pl_status st = pl_fopen_read(path, NULL, PL_OPEN_DATASET, &f, err);
    if (st == PL_ERR_MISSING)
        st = PL_ERROR(err, PL_ERR_MISSING, "cannot open %s: no runs collected there yet? (run `prunelab collect %s`)",
                      path, dir);
    if (st == PL_OK) {
        st = read_lines(r, f, path, err);
        fclose(f);
        /* numbers in index.tsv (and the YAML scalar parser's strtod) use '.' whatever the
         * caller's locale: parse under the C locale, for this thread only */
        locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        locale_t previous = c_locale != (locale_t)0 ? uselocale(c_locale) : (locale_t)0;
        if (st == PL_OK) st = derive(r, path, err);
        if (c_locale != (locale_t)0) {
            uselocale(previous);
            freelocale(c_locale);
        }
    }
    pl_free(path);
    if (st != PL_OK) pl_results_free(r);
    return st;
}

void pl_results_free(pl_results *r) {
    pl_free(r->cells);
    cfg_arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

int pl_results_col(const pl_results *r, const char *name) {
    for (int c = 0; c < r->n_cols; c++)
        if (strcmp(r->cols[c], name) == 0) return c;
    return -1;
}

int pl_results_alias(const pl_results *r, const char *name) {
    for (int a = 0; a < r->n_aliases; a++)
        if (strcmp(r->aliases[a], name) == 0) return a;
    return -1;
}

const char *pl_results_cell(const pl_results *r, int row, int col) {
    return r->cells[(size_t)row * r->n_cols + col];
}

double pl_results_number(const pl_results *r, int row, int col) {
    return r->num[(size_t)row * r->n_cols + col];
}

bool pl_results_completed(const pl_results *r, int row) {
    const char *s = pl_results_cell(r, row, r->status_col);
    return strcmp(s, "done") == 0 || strcmp(s, "completed") == 0;
}

int pl_results_left_out(const pl_results *r, char *out, size_t cap) {
    int total = 0;
    out[0] = '\0';
    for (int row = 0; row < r->n_rows; row++) {
        if (pl_results_completed(r, row)) continue;
        const char *state = pl_results_cell(r, row, r->status_col);
        bool counted = false; /* each state once, with its count */
        for (int q = 0; q < row && !counted; q++)
            counted = !pl_results_completed(r, q) && strcmp(pl_results_cell(r, q, r->status_col), state) == 0;
        total++;
        if (counted) continue;
        int n = 0;
        for (int q = row; q < r->n_rows; q++) n += strcmp(pl_results_cell(r, q, r->status_col), state) == 0;
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%d %s run%s", used ? ", " : "", n, state[0] ? state : "unknown",
                 n == 1 ? "" : "s");
    }
    return total;
}

int pl_results_value_cmp(const cfg_node *a, const char *a_text, const cfg_node *b, const char *b_text) {
    bool na = cfg_is_number(a), nb = cfg_is_number(b);
    if (na && nb) {
        double x = cfg_number(a), y = cfg_number(b);
        return x < y ? -1 : x > y;
    }
    if (na != nb) return na ? -1 : 1;
    return strcmp(a_text, b_text);
}

pl_status pl_results_filter(const pl_results *r, const char *expr, cfg_pos pos, bool *keep, pl_error *err) {
    if (expr == NULL || *expr == '\0') return PL_OK;
    cfg_expr *e;
    PL_TRY(cfg_expr_parse(expr, (const char *const *)r->aliases, r->n_aliases, pos, &e, err));
    pl_status st = PL_OK;
    for (int row = 0; row < r->n_rows && st == PL_OK; row++) {
        if (!keep[row]) continue;
        bool ok;
        st = cfg_expr_eval(e, r->values + (size_t)row * r->n_aliases, &ok, err);
        if (st != PL_OK) pl_error_wrap(err, "run %s", pl_results_cell(r, row, 0));
        keep[row] = ok;
    }
    cfg_expr_free(e);
    return st;
}
