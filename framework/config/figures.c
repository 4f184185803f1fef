/* figures.c - cross-checks of figure declarations against the sweep (see figures.h). */
#include "config/figures.h"

#include <string.h>

#include "config/expr.h"

const char *cfg_figure_kind(const char *kind) {
    static const char *const names[][2] = {{"heatmap", "heatmap"}, {"lines", "lines"}, {"line", "lines"},
                                           {"bars", "bars"},       {"bar", "bars"},     {"curves", "curves"},
                                           {"curve", "curves"}, {"scatter", "scatter"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(kind, names[i][0]) == 0) return names[i][1];
    return NULL;
}

static bool is_alias(const cfg_sweep *s, const char *name) {
    for (int i = 0; s != NULL && i < s->n_axes; i++)
        if (strcmp(s->aliases[i], name) == 0) return true;
    return false;
}

static pl_status need_alias(const cfg_node *fig, const char *key, bool required, const cfg_sweep *s,
                            const char *what, pl_error *err) {
    const cfg_node *v = cfg_map_get(fig, key);
    if (v == NULL) {
        if (!required) return PL_OK;
        return cfg_error_at(err, fig->pos, "%s needs %s: an alias of the sweep", what, key);
    }
    if (is_alias(s, v->u.s)) return PL_OK;
    char known[512] = "";
    size_t used = 0;
    for (int i = 0; s != NULL && i < s->n_axes && used + 1 < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", s->aliases[i]);
    return cfg_error_at(err, v->pos, "%s: %s: '%s' is not an alias of the sweep (aliases: %s)", what, key, v->u.s,
                        used ? known : "none");
}

static bool metric_name_ok(const char *s) {
    if (*s == '\0') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '.' || *s == '-'))
            return false;
    return true;
}

/* The metric of a figure: z/y (by kind) or metric:, exactly one of them. */
static pl_status need_metric(const cfg_node *fig, const char *key, const char *what, pl_error *err) {
    const cfg_node *a = key ? cfg_map_get(fig, key) : NULL, *b = cfg_map_get(fig, "metric");
    if (a != NULL && b != NULL)
        return cfg_error_at(err, b->pos, "%s: give the metric once, as %s: or metric:", what, key);
    const cfg_node *m = a ? a : b;
    if (m == NULL)
        return cfg_error_at(err, fig->pos, "%s needs %s: the metric to plot (acc, ce, loss, ...)", what,
                            key ? key : "metric");
    if (!metric_name_ok(m->u.s))
        return cfg_error_at(err, m->pos, "%s: '%s' is not a metric name (letters, digits, '_', '.', '-')", what, m->u.s);
    return PL_OK;
}

static pl_status refuse(const cfg_node *fig, const char *key, const char *what, const char *kind, pl_error *err) {
    const cfg_node *v = cfg_map_get(fig, key);
    if (v == NULL) return PL_OK;
    return cfg_error_at(err, v->pos, "%s: a %s figure has no %s:", what, kind, key);
}

static pl_status check_one(const cfg_node *fig, const cfg_sweep *s, pl_error *err) {
    const char *name = cfg_map_get(fig, "name")->u.s;
    const char *kind = cfg_figure_kind(cfg_map_get(fig, "kind")->u.s);
    char what[160];
    snprintf(what, sizeof what, "figure '%.100s'", name);
    if (kind == NULL) return cfg_error_at(err, cfg_map_get(fig, "kind")->pos, "%s: unknown kind", what);
    if (strcmp(kind, "heatmap") == 0) {
        PL_TRY(need_alias(fig, "x", true, s, what, err));
        PL_TRY(need_alias(fig, "y", true, s, what, err));
        PL_TRY(need_metric(fig, "z", what, err));
        PL_TRY(refuse(fig, "series", what, kind, err));
        if (strcmp(cfg_map_get(fig, "x")->u.s, cfg_map_get(fig, "y")->u.s) == 0)
            return cfg_error_at(err, cfg_map_get(fig, "y")->pos, "%s: x and y are the same alias", what);
    } else if (strcmp(kind, "curves") == 0) {
        PL_TRY(refuse(fig, "x", what, kind, err));
        PL_TRY(refuse(fig, "y", what, kind, err));
        PL_TRY(refuse(fig, "z", what, kind, err));
        PL_TRY(need_metric(fig, NULL, what, err));
        PL_TRY(need_alias(fig, "series", false, s, what, err));
        if (cfg_map_get(fig, "stage") == NULL)
            return cfg_error_at(err, fig->pos, "%s needs stage: the stage whose curve to draw (pretrain, ...)", what);
    } else if (strcmp(kind, "scatter") == 0) { /* one point per configuration: metric y vs x */
        PL_TRY(refuse(fig, "z", what, kind, err));
        PL_TRY(refuse(fig, "metric", what, kind, err));
        PL_TRY(need_alias(fig, "series", false, s, what, err));
        const char *axes[2] = {"x", "y"};
        for (int i = 0; i < 2; i++) {
            const cfg_node *v = cfg_map_get(fig, axes[i]);
            if (v == NULL)
                return cfg_error_at(err, fig->pos, "%s needs %s: a summary metric (a scatter plots "
                                    "one metric against another)", what, axes[i]);
            if (!metric_name_ok(v->u.s))
                return cfg_error_at(err, v->pos, "%s: %s: '%s' is not a metric name", what, axes[i], v->u.s);
        }
    } else { /* lines, bars */
        PL_TRY(refuse(fig, "z", what, kind, err));
        PL_TRY(need_alias(fig, "x", true, s, what, err));
        PL_TRY(need_metric(fig, "y", what, err));
        PL_TRY(need_alias(fig, "series", false, s, what, err));
        const cfg_node *series = cfg_map_get(fig, "series");
        if (series != NULL && strcmp(series->u.s, cfg_map_get(fig, "x")->u.s) == 0)
            return cfg_error_at(err, series->pos, "%s: x and series are the same alias", what);
    }
    const cfg_node *where = cfg_map_get(fig, "where");
    if (where != NULL) {
        cfg_expr *e;
        PL_TRY(cfg_expr_parse(where->u.s, s ? s->aliases : NULL, s ? s->n_axes : 0, where->pos, &e, err));
        cfg_expr_free(e);
    }
    return PL_OK;
}

pl_status cfg_figures_check(const cfg_node *figures, const cfg_sweep *sweep, pl_error *err) {
    if (figures == NULL || figures->kind != CFG_LIST) return PL_OK;
    for (int i = 0; i < figures->u.list.count; i++) {
        const cfg_node *fig = figures->u.list.items[i];
        PL_TRY(check_one(fig, sweep, err));
        const cfg_node *name = cfg_map_get(fig, "name");
        for (int j = 0; j < i; j++)
            if (strcmp(cfg_map_get(figures->u.list.items[j], "name")->u.s, name->u.s) == 0)
                return cfg_error_at(err, name->pos, "figure '%s' is declared twice (names are file names)", name->u.s);
    }
    return PL_OK;
}
