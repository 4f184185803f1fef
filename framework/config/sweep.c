/* sweep.c - parsing the sweep block and expanding it into points. */
#include "config/sweep.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config/canon.h"
#include "config/path.h"
#include "config/scalar.h"
#include "config/schema.h"
#include "config/strbuf.h"
#include "config/suggest.h"

enum { MAX_VALUES = 1000000, MAX_AXES = 64 };
static const long long MAX_POINTS = 10000000; /* before the where filter */

static pl_status fail(pl_error *err, cfg_pos pos, const char *what, const char *msg) {
    return cfg_error_at(err, pos, "%s: %s", what, msg);
}

static bool is_alias_name(const char *name) {
    static const char *const reserved[] = {"and", "or", "not", "true", "false"};
    const char *s = name;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0) return false;
    return true;
}

static cfg_node *number_node(cfg_arena *a, double v, bool as_int, cfg_pos pos, pl_error *err) {
    return as_int ? cfg_new_int(a, (long long)v, pos, err) : cfg_new_float(a, cfg_round_sig12(v), pos, err);
}

static pl_status need_numbers(const cfg_node *args, int count, const char *ctx, pl_error *err) {
    char msg[300];
    snprintf(msg, sizeof msg, "write %s", ctx);
    if (args->kind != CFG_LIST || args->u.list.count != count) return fail(err, args->pos, "sweep values", msg);
    for (int i = 0; i < count; i++) {
        const cfg_node *x = args->u.list.items[i];
        if (!cfg_is_number(x) || !isfinite(cfg_number(x))) return fail(err, x->pos, "sweep values", msg);
    }
    return PL_OK;
}

/* linspace/logspace: [start, stop, count]. */
static pl_status gen_space(cfg_arena *a, const cfg_node *args, bool log, cfg_node ***out, int *n,
                           pl_error *err) {
    const char *ctx = log ? "logspace: [start exponent, stop exponent, count] (10^start .. 10^stop)"
                          : "linspace: [start, stop, count] (both ends included)";
    PL_TRY(need_numbers(args, 3, ctx, err));
    const cfg_node *c = args->u.list.items[2];
    if (c->kind != CFG_INT || c->u.i < 1 || c->u.i > MAX_VALUES)
        return fail(err, c->pos, "sweep values", "the count of a linspace/logspace must be an int from 1 to 1000000");
    double lo = cfg_number(args->u.list.items[0]), hi = cfg_number(args->u.list.items[1]);
    int count = (int)c->u.i;
    bool ints = !log && args->u.list.items[0]->kind == CFG_INT && args->u.list.items[1]->kind == CFG_INT;
    for (int i = 0; ints && i < count; i++) {
        double v = count == 1 ? lo : lo + (hi - lo) * i / (count - 1);
        if (v != floor(v)) ints = false;
    }
    *out = cfg_arena_array(a, (size_t)count, sizeof **out, err);
    if (*out == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < count; i++) {
        double t = count == 1 ? lo : lo + (hi - lo) * i / (count - 1);
        if (i == count - 1 && count > 1) t = hi;
        double v = log ? pow(10.0, t) : t;
        if (!isfinite(v)) return fail(err, args->pos, "sweep values", "logspace overflows a double; use smaller exponents");
        if (((*out)[i] = number_node(a, v, ints, args->pos, err)) == NULL) return PL_ERR_NOMEM;
    }
    *n = count;
    return PL_OK;
}

/* range: {from, to, step, inclusive}. */
static pl_status gen_range(cfg_arena *a, const cfg_node *args, cfg_node ***out, int *n, pl_error *err) {
    static const char *const keys[] = {"from", "to", "step", "inclusive"};
    const char *usage = "write range: {from: a, to: b, step: s, inclusive: true|false} "
                        "(inclusive says whether b itself is included)";
    if (args->kind != CFG_MAP) return fail(err, args->pos, "sweep values", usage);
    for (int i = 0; i < args->u.map.count; i++) {
        const char *k = args->u.map.entries[i].key;
        bool known = false;
        for (int j = 0; j < 4; j++) known |= strcmp(k, keys[j]) == 0;
        if (!known) return fail(err, args->u.map.entries[i].key_pos, "sweep values", usage);
    }
    const cfg_node *from = cfg_map_get(args, "from"), *to = cfg_map_get(args, "to"),
                   *step = cfg_map_get(args, "step"), *inc = cfg_map_get(args, "inclusive");
    if (from == NULL || to == NULL || step == NULL || inc == NULL) return fail(err, args->pos, "sweep values", usage);
    if (!cfg_is_number(from) || !cfg_is_number(to) || !cfg_is_number(step) || inc->kind != CFG_BOOL)
        return fail(err, args->pos, "sweep values", usage);
    double f = cfg_number(from), t = cfg_number(to), s = cfg_number(step);
    if (!isfinite(f) || !isfinite(t) || !isfinite(s) || s == 0 || (t - f) / s < 0)
        return fail(err, step->pos, "sweep values", "the range step must be non-zero and move from 'from' towards 'to'");
    double span = (t - f) / s;
    if (span > MAX_VALUES) return fail(err, args->pos, "sweep values", "the range has more than 1000000 values");
    long long steps = (long long)floor(span + 1e-9);
    bool hits_end = fabs(f + (double)steps * s - t) <= 1e-9 * fabs(s);
    int count = (int)steps + 1 - (hits_end && !inc->u.b ? 1 : 0);
    if (count <= 0) return fail(err, args->pos, "sweep values", "the range is empty; check from, to and inclusive");
    bool ints = from->kind == CFG_INT && to->kind == CFG_INT && step->kind == CFG_INT;
    *out = cfg_arena_array(a, (size_t)count, sizeof **out, err);
    if (*out == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < count; i++)
        if (((*out)[i] = number_node(a, f + i * s, ints, args->pos, err)) == NULL) return PL_ERR_NOMEM;
    *n = count;
    return PL_OK;
}

static pl_status axis_values(cfg_arena *a, const cfg_node *spec, cfg_node ***out, int *n, pl_error *err) {
    if (spec->kind == CFG_LIST) {
        if (spec->u.list.count == 0)
            return fail(err, spec->pos, "sweep values", "the value list is empty; give at least one value");
        *out = spec->u.list.items;
        *n = spec->u.list.count;
        return PL_OK;
    }
    if (spec->kind == CFG_MAP && spec->u.map.count == 1) {
        const cfg_entry *e = &spec->u.map.entries[0];
        if (strcmp(e->key, "linspace") == 0) return gen_space(a, e->value, false, out, n, err);
        if (strcmp(e->key, "logspace") == 0) return gen_space(a, e->value, true, out, n, err);
        if (strcmp(e->key, "range") == 0) return gen_range(a, e->value, out, n, err);
    }
    return fail(err, spec->pos, "sweep values", "give a list [a, b, ...] or one generator: "
                "{linspace: [start, stop, n]}, {logspace: [start, stop, n]} or "
                "{range: {from, to, step, inclusive}}");
}

static pl_status check_path(const cfg_stage_catalog *stages, const cfg_node *base, const char *path,
                            cfg_pos pos, const char *alias, pl_error *err) {
    const cfg_node *node;
    char what[200];
    pl_error why;
    pl_error_clear(&why);
    snprintf(what, sizeof what, "sweep axis '%.100s'", alias);
    const cfg_key *key = cfg_schema_find(stages, base, path, &why);
    if (key == NULL) return fail(err, pos, what, why.message);
    if (cfg_lookup(base, path, &node, &why) == PL_OK) return PL_OK;
    /* An optional key without a default (finetune.train_samples) is absent until an axis
     * sets it: the section holding it must be there. */
    const char *dot = strrchr(path, '.');
    if ((key->flags & CFG_KEY_OPTIONAL) && key->def == NULL && dot != NULL) {
        char parent[CFG_PATH_MAX];
        snprintf(parent, sizeof parent, "%.*s", (int)(dot - path), path);
        pl_error_clear(&why);
        if (cfg_lookup(base, parent, &node, &why) == PL_OK && node->kind == CFG_MAP) return PL_OK;
    }
    return fail(err, pos, what, why.message);
}

static int find_axis(const cfg_sweep *s, const char *alias) {
    for (int i = 0; i < s->n_axes; i++)
        if (strcmp(s->axes[i].alias, alias) == 0) return i;
    return -1;
}

static pl_status unknown_alias(const cfg_sweep *s, pl_error *err, cfg_pos pos, const char *what,
                               const char *alias) {
    const char *best = cfg_suggest(alias, s->aliases, s->n_axes);
    char msg[400];
    snprintf(msg, sizeof msg, "'%.100s' is not declared under sweep.axes%s%s%s", alias,
             best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
    return fail(err, pos, what, msg);
}

/* Refuses a value an axis of its own dimension lists twice: the two points would be one run
 * (zipped axes may repeat values; their group's tuples are the points). Longer value lists
 * (generators of thousands of points) are left to the run table's own de-duplication. */
enum { MAX_CHECKED_VALUES = 4096 };
static pl_status check_distinct(const cfg_axis *ax, pl_error *err) {
    if (ax->values == NULL || ax->n_values > MAX_CHECKED_VALUES) return PL_OK;
    for (int i = 1; i < ax->n_values; i++)
        for (int j = 0; j < i; j++) {
            if (!cfg_equal(ax->values[i], ax->values[j])) continue;
            char where[300], what[200], msg[600];
            cfg_strbuf text;
            cfg_strbuf_init(&text);
            cfg_canon_flow(ax->values[i], &text);
            cfg_pos_format(ax->values[j]->pos, where, sizeof where);
            snprintf(what, sizeof what, "sweep axis '%.100s'", ax->alias);
            snprintf(msg, sizeof msg, "the value %.100s is listed twice (values %d and %d, the first "
                     "at %.250s); the two points would be the same run, so list it once",
                     text.data ? text.data : "?", j + 1, i + 1, where);
            cfg_strbuf_free(&text);
            return fail(err, ax->values[i]->pos, what, msg);
        }
    return PL_OK;
}

/* Refuses two axes that set the same key: one would silently overwrite the other. */
static pl_status check_paths_distinct(const cfg_sweep *s, pl_error *err) {
    for (int i = 1; i < s->n_axes; i++)
        for (int j = 0; j < i; j++) {
            if (strcmp(s->axes[i].path, s->axes[j].path) != 0) continue;
            char what[200], msg[400];
            snprintf(what, sizeof what, "sweep axis '%.100s'", s->axes[i].alias);
            snprintf(msg, sizeof msg, "it sets %.150s, which axis '%.100s' sets already; sweep a key "
                     "with one axis (zip: or cases: combine values of several)", s->axes[i].path,
                     s->axes[j].alias);
            return fail(err, s->axes[i].pos, what, msg);
        }
    return PL_OK;
}

static pl_status parse_axes(cfg_arena *a, cfg_sweep *s, const cfg_node *axes, const cfg_node *base,
                            const cfg_extra_axis *extra, int n_extra, pl_error *err) {
    int declared = axes != NULL ? axes->u.map.count : 0;
    if (declared + n_extra > MAX_AXES) return fail(err, axes->pos, "sweep.axes", "more than 64 axes");
    s->axes = cfg_arena_array(a, (size_t)(declared + n_extra) + 1, sizeof *s->axes, err);
    s->aliases = cfg_arena_array(a, (size_t)(declared + n_extra) + 1, sizeof *s->aliases, err);
    if (s->axes == NULL || s->aliases == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < declared; i++) {
        const cfg_entry *e = &axes->u.map.entries[i];
        cfg_axis *ax = &s->axes[s->n_axes];
        char what[200];
        snprintf(what, sizeof what, "sweep axis '%.100s'", e->key);
        if (!is_alias_name(e->key))
            return fail(err, e->key_pos, what, "an alias is a name of letters, digits and '_' (usable in where:)");
        const cfg_node *spec = e->value;
        if (spec->kind != CFG_MAP)
            return fail(err, spec->pos, what, "write {path: dotted.key, values: [...]}");
        for (int k = 0; k < spec->u.map.count; k++) {
            const char *key = spec->u.map.entries[k].key;
            if (strcmp(key, "path") != 0 && strcmp(key, "values") != 0 && strcmp(key, "label") != 0 &&
                strcmp(key, "description") != 0) {
                char msg[300];
                snprintf(msg, sizeof msg, "unknown key '%.100s'; an axis has path:, values:, label: and description:", key);
                return fail(err, spec->u.map.entries[k].key_pos, what, msg);
            }
            const cfg_node *text = spec->u.map.entries[k].value;
            if ((strcmp(key, "label") == 0 || strcmp(key, "description") == 0) && text->kind != CFG_STRING)
                return fail(err, text->pos, what, "label: and description: are text (quote them if they look like numbers)");
        }
        const cfg_node *path = cfg_map_get(spec, "path"), *values = cfg_map_get(spec, "values");
        if (path == NULL || path->kind != CFG_STRING)
            return fail(err, spec->pos, what, "needs path: the dotted key it sets, such as pipeline.prune.sparsity.vision");
        const cfg_node *label = cfg_map_get(spec, "label"), *desc = cfg_map_get(spec, "description");
        *ax = (cfg_axis){.alias = e->key, .path = path->u.s, .pos = e->key_pos, .dim = -1,
                         .label = label ? label->u.s : e->key, .description = desc ? desc->u.s : NULL};
        PL_TRY(check_path(s->stages, base, ax->path, path->pos, e->key, err));
        if (values != NULL) PL_TRY(axis_values(a, values, &ax->values, &ax->n_values, err));
        s->aliases[s->n_axes++] = ax->alias;
    }
    for (int i = 0; i < n_extra; i++) {
        int same = -1;
        for (int j = 0; j < declared; j++)
            if (strcmp(s->axes[j].path, extra[i].path) == 0) same = j;
        if (same >= 0) {
            PL_TRY(axis_values(a, extra[i].values, &s->axes[same].values, &s->axes[same].n_values, err));
            continue;
        }
        if (extra[i].single) continue;
        const char *last = strrchr(extra[i].path, '.');
        const char *alias = last ? last + 1 : extra[i].path;
        if (find_axis(s, alias) >= 0 || !is_alias_name(alias)) {
            char buf[CFG_PATH_MAX];
            snprintf(buf, sizeof buf, "%s", extra[i].path);
            for (char *c = buf; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) *c = '_';
            if ((alias = cfg_arena_strdup(a, buf, err)) == NULL) return PL_ERR_NOMEM;
        }
        if (find_axis(s, alias) >= 0)
            return fail(err, extra[i].pos, "command-line axis", "this key is swept twice on the command line");
        cfg_axis *ax = &s->axes[s->n_axes];
        *ax = (cfg_axis){.alias = alias, .path = extra[i].path, .pos = extra[i].pos, .dim = -1, .label = alias};
        PL_TRY(check_path(s->stages, base, ax->path, extra[i].pos, alias, err));
        PL_TRY(axis_values(a, extra[i].values, &ax->values, &ax->n_values, err));
        s->aliases[s->n_axes++] = alias;
    }
    return check_paths_distinct(s, err);
}

static pl_status parse_zip(cfg_sweep *s, const cfg_node *zip, int *group_of, pl_error *err) {
    if (zip->kind != CFG_MAP) return fail(err, zip->pos, "sweep.zip", "write {group: [alias, alias, ...]}");
    for (int g = 0; g < zip->u.map.count; g++) {
        const cfg_entry *e = &zip->u.map.entries[g];
        char what[200];
        snprintf(what, sizeof what, "zip group '%.100s'", e->key);
        const cfg_node *members = e->value;
        if (members->kind != CFG_LIST || members->u.list.count == 0)
            return fail(err, members->pos, what, "list the aliases that advance together, such as [sv, sl]");
        int len = -1;
        const char *first = NULL;
        for (int m = 0; m < members->u.list.count; m++) {
            const cfg_node *name = members->u.list.items[m];
            if (name->kind != CFG_STRING) return fail(err, name->pos, what, "members are axis aliases");
            int ax = find_axis(s, name->u.s);
            if (ax < 0) return unknown_alias(s, err, name->pos, what, name->u.s);
            if (group_of[ax] >= 0) return fail(err, name->pos, what, "this axis is already in a zip group");
            if (s->axes[ax].values == NULL) return fail(err, name->pos, what, "this axis has no values: to zip");
            group_of[ax] = g;
            if (len >= 0 && s->axes[ax].n_values != len) {
                char msg[300];
                snprintf(msg, sizeof msg, "zipped axes need equal lengths, but %s has %d values and %s has %d",
                         first, len, name->u.s, s->axes[ax].n_values);
                return fail(err, name->pos, what, msg);
            }
            len = s->axes[ax].n_values;
            first = name->u.s;
        }
    }
    return PL_OK;
}

static pl_status parse_cases(cfg_sweep *s, const cfg_node *cases, pl_error *err) {
    if (cases->kind != CFG_LIST || cases->u.list.count == 0)
        return fail(err, cases->pos, "sweep.cases", "write a non-empty list of points such as [{sv: 0.5, m: wanda}]");
    for (int c = 0; c < cases->u.list.count; c++) {
        const cfg_node *pt = cases->u.list.items[c];
        if (pt->kind != CFG_MAP) return fail(err, pt->pos, "sweep.cases", "each case is a map alias: value");
        for (int k = 0; k < pt->u.map.count; k++) {
            const cfg_entry *e = &pt->u.map.entries[k];
            int ax = find_axis(s, e->key);
            if (ax < 0) return unknown_alias(s, err, e->key_pos, "sweep.cases", e->key);
            if (s->axes[ax].values != NULL) {
                char msg[300];
                snprintf(msg, sizeof msg, "axis '%s' has values: and is also set by cases; an axis is "
                         "either swept or set by cases (remove its values:)", e->key);
                return fail(err, e->key_pos, "sweep.cases", msg);
            }
        }
    }
    s->cases = cases;
    return PL_OK;
}

static pl_status parse_seeds(cfg_arena *a, cfg_sweep *s, const cfg_node *seeds, const cfg_node *base,
                             pl_error *err) {
    cfg_node **vals = NULL;
    int n = 0;
    if (seeds == NULL) {
        s->seeds = cfg_arena_alloc(a, sizeof *s->seeds, err);
        if (s->seeds == NULL) return PL_ERR_NOMEM;
        const cfg_node *seed = cfg_map_get(base, "seed");
        s->seeds[0] = seed != NULL && seed->kind == CFG_INT ? seed->u.i : 0;
        s->n_seeds = 1;
        return PL_OK;
    }
    PL_TRY(axis_values(a, seeds, &vals, &n, err));
    s->seeds = cfg_arena_array(a, (size_t)n, sizeof *s->seeds, err);
    if (s->seeds == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        if (vals[i]->kind != CFG_INT || vals[i]->u.i < 0)
            return fail(err, vals[i]->pos, "sweep.seeds", "seeds are ints >= 0");
        for (int j = 0; j < i; j++)
            if (s->seeds[j] == vals[i]->u.i) return fail(err, vals[i]->pos, "sweep.seeds", "this seed is listed twice");
        s->seeds[i] = vals[i]->u.i;
    }
    s->n_seeds = n;
    return PL_OK;
}

static pl_status build_dims(cfg_arena *a, cfg_sweep *s, const cfg_node *zip, const int *group_of,
                            pl_error *err) {
    s->dims = cfg_arena_array(a, (size_t)s->n_axes + 2, sizeof *s->dims, err);
    if (s->dims == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < s->n_axes; i++) {
        cfg_axis *ax = &s->axes[i];
        if (ax->values == NULL) continue;
        int g = group_of[i];
        if (g >= 0) {
            for (int j = 0; j < i; j++)
                if (group_of[j] == g) ax->dim = s->axes[j].dim;
            if (ax->dim >= 0) continue;
        }
        ax->dim = s->n_dims;
        s->dims[s->n_dims++] = (cfg_dim){g >= 0 ? CFG_DIM_ZIP : CFG_DIM_AXIS,
                                         g >= 0 ? zip->u.map.entries[g].key : ax->alias, ax->n_values};
    }
    if (s->cases != NULL) s->dims[s->n_dims++] = (cfg_dim){CFG_DIM_CASES, "cases", s->cases->u.list.count};
    for (int i = 0; i < s->n_axes; i++) {
        if (s->axes[i].values != NULL) continue;
        bool used = false;
        for (int c = 0; s->cases && c < s->cases->u.list.count; c++) used |= cfg_map_get(s->cases->u.list.items[c], s->axes[i].alias) != NULL;
        if (!used) return fail(err, s->axes[i].pos, "sweep axis", "this axis has no values: and no case sets it; "
                               "give values: [...] or use it in cases:");
    }
    return PL_OK;
}

pl_status cfg_sweep_parse(cfg_arena *a, const cfg_stage_catalog *stages, const cfg_node *spec,
                          const cfg_node *base, const cfg_extra_axis *extra, int n_extra,
                          cfg_sweep **out, pl_error *err) {
    *out = NULL;
    cfg_sweep *s = cfg_arena_alloc(a, sizeof *s, err);
    if (s == NULL) return PL_ERR_NOMEM;
    s->stages = stages;
    s->max_runs = 1000;
    /* errors point into a file: the sweep block, else the experiment (never a schema default) */
    s->pos = spec != NULL && spec->pos.line > 0 ? spec->pos : base->pos;
    s->where_pos = s->max_runs_pos = s->pos;
    const cfg_node *axes = spec ? cfg_map_get(spec, "axes") : NULL;
    if (axes != NULL && axes->kind != CFG_MAP)
        return fail(err, axes->pos, "sweep.axes", "write a map alias: {path: ..., values: [...]}");
    if (axes != NULL && axes->u.map.count == 0)
        return fail(err, axes->pos, "sweep.axes", "no axes are declared; remove axes: or add one");
    PL_TRY(parse_axes(a, s, axes, base, extra, n_extra, err));
    int group_of[MAX_AXES];
    for (int i = 0; i < MAX_AXES; i++) group_of[i] = -1;
    const cfg_node *zip = spec ? cfg_map_get(spec, "zip") : NULL;
    if (zip != NULL) PL_TRY(parse_zip(s, zip, group_of, err));
    for (int i = 0; i < s->n_axes; i++) /* a zipped axis may repeat values: its group is the point */
        if (group_of[i] < 0) PL_TRY(check_distinct(&s->axes[i], err));
    const cfg_node *cases = spec ? cfg_map_get(spec, "cases") : NULL;
    if (cases != NULL) PL_TRY(parse_cases(s, cases, err));
    PL_TRY(build_dims(a, s, zip, group_of, err));
    PL_TRY(parse_seeds(a, s, spec ? cfg_map_get(spec, "seeds") : NULL, base, err));
    const cfg_node *max_runs = spec ? cfg_map_get(spec, "max_runs") : NULL;
    if (max_runs != NULL && max_runs->kind == CFG_INT) {
        s->max_runs = max_runs->u.i;
        if (max_runs->pos.line > 0) s->max_runs_pos = max_runs->pos; /* set in a file or override */
    }
    const cfg_node *where = spec ? cfg_map_get(spec, "where") : NULL;
    if (where != NULL) {
        if (where->kind != CFG_STRING)
            return fail(err, where->pos, "sweep.where", "write a condition over aliases, such as 'sv + sl <= 1.2'");
        cfg_pos pos = s->where_pos = where->pos;
        if (where->quoted && pos.line > 0) pos.col += 1;
        PL_TRY(cfg_expr_parse(where->u.s, s->aliases, s->n_axes, pos, &s->where, err));
    }
    *out = s;
    return PL_OK;
}

void cfg_sweep_free(cfg_sweep *s) {
    if (s != NULL) cfg_expr_free(s->where);
}

/* Fills row (n_axes values) for the point with dimension indices idx. */
static void point_values(const cfg_sweep *s, const int *idx, const cfg_node **row) {
    for (int i = 0; i < s->n_axes; i++) {
        const cfg_axis *ax = &s->axes[i];
        row[i] = ax->dim >= 0 ? ax->values[idx[ax->dim]] : NULL;
    }
    for (int d = 0; d < s->n_dims; d++) {
        if (s->dims[d].kind != CFG_DIM_CASES) continue;
        const cfg_node *pt = s->cases->u.list.items[idx[d]];
        for (int k = 0; k < pt->u.map.count; k++)
            row[find_axis(s, pt->u.map.entries[k].key)] = pt->u.map.entries[k].value;
    }
}

pl_status cfg_sweep_expand(cfg_arena *a, const cfg_sweep *s, const cfg_node *base,
                           const cfg_node ***values, long long **seeds, int *n_runs, pl_error *err) {
    long long points = 1;
    for (int d = 0; d < s->n_dims; d++) {
        points *= s->dims[d].size;
        if (points > MAX_POINTS)
            return PL_ERROR(err, PL_ERR_CONFIG, "the sweep's grid has more than %lld points before filtering; "
                            "shrink the axes", MAX_POINTS);
    }
    int na = s->n_axes > 0 ? s->n_axes : 1;
    const cfg_node **row = cfg_arena_array(a, (size_t)na, sizeof *row, err);
    const cfg_node **eval_row = cfg_arena_array(a, (size_t)na, sizeof *eval_row, err);
    char *keep = cfg_arena_alloc(a, (size_t)points, err);
    int idx[MAX_AXES + 2] = {0};
    if (row == NULL || eval_row == NULL || keep == NULL) return PL_ERR_NOMEM;
    long long kept = 0;
    for (long long p = 0; p < points; p++) {
        long long rest = p;
        for (int d = s->n_dims - 1; d >= 0; d--) {
            idx[d] = (int)(rest % s->dims[d].size);
            rest /= s->dims[d].size;
        }
        bool ok = true;
        if (s->where != NULL) {
            point_values(s, idx, row);
            for (int i = 0; i < s->n_axes; i++) eval_row[i] = row[i] ? row[i] : cfg_get(base, s->axes[i].path);
            PL_TRY(cfg_expr_eval(s->where, eval_row, &ok, err));
        }
        keep[p] = ok;
        kept += ok;
    }
    long long total = kept * s->n_seeds;
    if (total == 0) return cfg_error_at(err, s->where_pos, "sweep.where rejects every point, so the sweep has no runs");
    if (total > s->max_runs)
        return cfg_error_at(err, s->max_runs_pos, "sweep.max_runs: the sweep expands to %lld runs, more than "
                            "max_runs = %lld; raise sweep.max_runs in the file or pass sweep.max_runs=%lld if you "
                            "mean it", total, s->max_runs, total);
    const cfg_node **vals = cfg_arena_array(a, (size_t)(total * na), sizeof *vals, err);
    long long *sd = cfg_arena_array(a, (size_t)total, sizeof *sd, err);
    if (vals == NULL || sd == NULL) return PL_ERR_NOMEM;
    long long r = 0;
    for (long long p = 0; p < points; p++) {
        if (!keep[p]) continue;
        long long rest = p;
        for (int d = s->n_dims - 1; d >= 0; d--) {
            idx[d] = (int)(rest % s->dims[d].size);
            rest /= s->dims[d].size;
        }
        for (int k = 0; k < s->n_seeds; k++, r++) {
            if (s->n_axes > 0) point_values(s, idx, vals + r * s->n_axes);
            sd[r] = s->seeds[k];
        }
    }
    *values = vals;
    *seeds = sd;
    *n_runs = (int)total;
    return PL_OK;
}
