/* experiment.c - load, compose, override, validate and expand an experiment into runs. */
#include "config/experiment.h"

#include <stdlib.h>
#include <string.h>

#include "config/compose.h"
#include "config/figures.h"
#include "config/interp.h"
#include "config/override.h"
#include "config/schema.h"
#include "config/strbuf.h"
#include "config/yaml_load.h"
#include "core/alloc.h"

enum { MAX_OVERRIDES = 64 };

/* defaults -> interpolation -> checks: what turns a composed tree into a resolved one. */
static pl_status resolve(cfg_validator *v, cfg_arena *a, const cfg_node *tree, cfg_node **out,
                         pl_error *err) {
    cfg_node *filled, *interpolated;
    PL_TRY(cfg_fill_defaults(v, tree, &filled, err));
    PL_TRY(cfg_interpolate(a, filled, &interpolated, err));
    return cfg_check(v, interpolated, out, err);
}

static const char *stem(cfg_arena *a, const char *path, pl_error *err) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".yaml") == 0) n -= 5;
    else if (n > 4 && strcmp(base + n - 4, ".yml") == 0) n -= 4;
    return cfg_arena_strndup(a, base, n, err);
}

static pl_status apply_overrides(pl_experiment *exp, cfg_node **root, const char *const *overrides,
                                 int n, cfg_extra_axis *extra, int *n_extra, pl_error *err) {
    *n_extra = 0;
    if (n > MAX_OVERRIDES) return PL_ERROR(err, PL_ERR_CONFIG, "more than %d overrides", MAX_OVERRIDES);
    for (int i = 0; i < n; i++) {
        cfg_node *next;
        PL_TRY(cfg_override_apply(&exp->arena, exp->stages, *root, overrides[i], i + 1, &next,
                                  &extra[*n_extra], err));
        *root = next;
        if (strncmp(overrides[i], "sweep.", 6) != 0) (*n_extra)++;
    }
    return PL_OK;
}

/* Identity of a resolved run: its semantic tree and the two ids. The canonical text is
 * written once; `seed` is a top-level key, so its line starts at column 0, and the group id
 * hashes the same text without that line. */
static pl_status identify(cfg_arena *a, const cfg_stage_catalog *stages, pl_run *run, cfg_strbuf *sb,
                          pl_error *err) {
    char hex[CFG_HASH_HEX];
    PL_TRY(cfg_strip_nonsemantic(a, stages, run->config, &run->semantic, err));
    cfg_strbuf_reset(sb);
    cfg_canon_append(run->semantic, sb);
    PL_TRY(cfg_strbuf_check(sb, err));
    PL_TRY(cfg_sha256_hex(sb->data, sb->len, hex, err));
    memcpy(run->run_id, hex, CFG_ID_LEN);
    const char *line = strncmp(sb->data, "seed: ", 6) == 0 ? sb->data : strstr(sb->data, "\nseed: ");
    if (line == NULL) return PL_ERROR(err, PL_ERR_INTERNAL, "a resolved config has no seed line");
    if (line != sb->data) line++;
    const char *end = strchr(line, '\n') + 1;
    const void *parts[2] = {sb->data, end};
    size_t lens[2] = {(size_t)(line - sb->data), sb->len - (size_t)(end - sb->data)};
    PL_TRY(cfg_sha256_hex_parts(parts, lens, 2, hex, err));
    memcpy(run->group_id, hex, CFG_ID_LEN);
    return PL_OK;
}

/* "run R of N (alias=value, ..., seed=S)", each value as the sweep wrote it when row is
 * given (its n_axes values, NULL where the axis is not set), else as resolved */
static void describe_run(const pl_experiment *exp, int r, const cfg_node *const *row, cfg_strbuf *sb) {
    cfg_strbuf_printf(sb, "run %d of %d (", r + 1, exp->n_runs);
    for (int i = 0; i < exp->n_axes; i++) {
        cfg_strbuf_printf(sb, "%s%s=", i ? ", " : "", exp->aliases[i]);
        const cfg_node *value = row != NULL && row[i] != NULL ? row[i] : exp->runs[r].values[i];
        if (value != NULL) cfg_canon_flow(value, sb);
    }
    cfg_strbuf_printf(sb, "%sseed=%lld)", exp->n_axes ? ", " : "", exp->runs[r].seed);
}

static pl_status run_context(pl_experiment *exp, int r, pl_error *err) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    describe_run(exp, r, NULL, &sb);
    pl_error_wrap(err, "%s", sb.status == PL_OK ? sb.data : "a run");
    cfg_strbuf_free(&sb);
    return err ? err->status : PL_ERR_CONFIG;
}

static pl_status build_run(pl_experiment *exp, cfg_validator *v, const cfg_node *template,
                           int r, const cfg_node **row, long long seed, cfg_strbuf *sb, pl_error *err) {
    pl_run *run = &exp->runs[r];
    cfg_arena *a = &exp->arena;
    run->seed = seed;
    run->values = cfg_arena_array(a, (size_t)(exp->n_axes ? exp->n_axes : 1), sizeof *run->values, err);
    if (run->values == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < exp->n_axes; i++) run->values[i] = row[i] ? row[i] : cfg_get(exp->base, exp->paths[i]);
    cfg_node *tree = (cfg_node *)template;
    for (int i = 0; i < exp->n_axes; i++) {
        if (row[i] == NULL) continue;
        if (cfg_set(a, tree, exp->paths[i], (cfg_node *)row[i], &tree, err) != PL_OK) return run_context(exp, r, err);
    }
    cfg_node *seed_node = cfg_new_int(a, seed, (cfg_pos){"<sweep.seeds>", 0, 0}, err);
    if (seed_node == NULL) return PL_ERR_NOMEM;
    tree = cfg_map_with(a, tree, "seed", tree->pos, seed_node, err);
    if (tree == NULL) return PL_ERR_NOMEM;
    cfg_node *config;
    if (resolve(v, a, tree, &config, err) != PL_OK) return run_context(exp, r, err);
    run->config = config;
    for (int i = 0; i < exp->n_axes; i++) run->values[i] = cfg_get(config, exp->paths[i]);
    return identify(a, exp->stages, run, sb, err);
}

pl_status cfg_run_from_text(const cfg_stage_catalog *stages, cfg_arena *a, const char *text, size_t len,
                            const char *label, pl_run *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    cfg_node *config;
    PL_TRY(cfg_load_string(a, text, len, label, &config, err));
    if (config->kind != CFG_MAP) return PL_ERROR(err, PL_ERR_FORMAT, "%s: not a map of settings", label);
    if (cfg_get_int(config, "seed", &out->seed, err) != PL_OK) return pl_error_wrap(err, "%s", label);
    out->config = config;
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    pl_status st = identify(a, stages, out, &sb, err);
    cfg_strbuf_free(&sb);
    return st;
}

static int cmp_group(const void *a, const void *b) {
    return strcmp((*(const pl_run *const *)a)->group_id, (*(const pl_run *const *)b)->group_id);
}

static int cmp_run(const void *a, const void *b) {
    return strcmp((*(const pl_run *const *)a)->run_id, (*(const pl_run *const *)b)->run_id);
}

/* Two points of the sweep (rows: each run's axis values as written) that resolve to one run
 * would share its folder and its result: refused, naming the first such pair (an axis over
 * a key outside run identity, such as engine.threads, or one value spelled two ways). */
static pl_status check_distinct(const pl_experiment *exp, const cfg_node **rows, pl_error *err) {
    const pl_run **order = pl_alloc((size_t)exp->n_runs + 1, sizeof *order, err);
    if (order == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < exp->n_runs; i++) order[i] = &exp->runs[i];
    qsort(order, (size_t)exp->n_runs, sizeof *order, cmp_run);
    int a = exp->n_runs, b = 0; /* the pair whose later run comes first in the sweep */
    for (int i = 1; i < exp->n_runs; i++) {
        if (strcmp(order[i]->run_id, order[i - 1]->run_id) != 0) continue;
        int x = (int)(order[i - 1] - exp->runs), y = (int)(order[i] - exp->runs);
        if (x > y) {
            int t = x;
            x = y, y = t;
        }
        if (a == exp->n_runs || y < b) a = x, b = y;
    }
    pl_free(order);
    if (a == exp->n_runs) return PL_OK;
    const size_t n = (size_t)exp->n_axes;
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    describe_run(exp, a, rows + (size_t)a * n, &sb);
    cfg_strbuf_printf(&sb, " and ");
    describe_run(exp, b, rows + (size_t)b * n, &sb);
    pl_status st = PL_ERROR(err, PL_ERR_CONFIG, "%s: %s are one run (id %s): their settings differ only in "
                            "keys that are not part of a run's identity, or name one value two ways; "
                            "sweep values that make different runs", exp->path,
                            sb.status == PL_OK ? sb.data : "two runs", exp->runs[a].run_id);
    cfg_strbuf_free(&sb);
    return st;
}

static pl_status count_groups(pl_experiment *exp, pl_error *err) {
    const pl_run **order = pl_alloc((size_t)exp->n_runs, sizeof *order, err);
    if (order == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < exp->n_runs; i++) order[i] = &exp->runs[i];
    qsort(order, (size_t)exp->n_runs, sizeof *order, cmp_group);
    exp->n_groups = exp->n_runs > 0;
    for (int i = 1; i < exp->n_runs; i++) exp->n_groups += strcmp(order[i]->group_id, order[i - 1]->group_id) != 0;
    pl_free(order);
    return PL_OK;
}

static pl_status load(pl_experiment *exp, const char *path, const char *const *overrides, int n_overrides,
                      pl_error *err) {
    cfg_arena *a = &exp->arena;
    cfg_node *root;
    PL_TRY(cfg_compose_file(a, path, &root, err));
    cfg_extra_axis extra[MAX_OVERRIDES];
    int n_extra;
    PL_TRY(apply_overrides(exp, &root, overrides, n_overrides, extra, &n_extra, err));
    cfg_validator *v = cfg_validator_new(a, exp->stages, err);
    if (v == NULL) return PL_ERR_NOMEM;
    const cfg_node *stages = cfg_map_get(root, "stages");
    if (stages != NULL) PL_TRY(cfg_check_stage_defaults(v, stages, err));
    PL_TRY(cfg_apply_stage_defaults(a, root, &root, err));
    cfg_node *full;
    PL_TRY(resolve(v, a, root, &full, err)); /* the whole file, once, before any run */
    exp->figures = cfg_map_get(full, "figures");
    const cfg_node *name = cfg_map_get(full, "name");
    exp->name = name != NULL ? name->u.s : stem(a, path, err);
    if (exp->name == NULL) return PL_ERR_NOMEM;
    cfg_node *base = cfg_map_without(a, full, "sweep", err);
    base = base ? cfg_map_without(a, base, "figures", err) : NULL;
    cfg_node *template;
    PL_TRY(cfg_fill_defaults(v, root, &template, err));
    /* The sweep as written, not interpolated: a ${...} in an axis value or a case resolves
     * per run, against that run's own config (interpolating it once with the whole file
     * would give every run the file's value). */
    const cfg_node *sweep_raw = cfg_map_get(template, "sweep");
    template = cfg_map_without(a, template, "sweep", err);
    template = template ? cfg_map_without(a, template, "figures", err) : NULL;
    if (base == NULL || template == NULL) return PL_ERR_NOMEM;
    exp->base = base;
    PL_TRY(cfg_sweep_parse(a, exp->stages, sweep_raw, base, extra, n_extra,
                           &exp->sweep, err));
    exp->n_axes = exp->sweep->n_axes;
    exp->aliases = exp->sweep->aliases;
    PL_TRY(cfg_figures_check(exp->figures, exp->sweep, err));
    const char **paths = cfg_arena_array(a, (size_t)exp->n_axes + 1, sizeof *paths, err);
    if (paths == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < exp->n_axes; i++) paths[i] = exp->sweep->axes[i].path;
    exp->paths = paths;
    const cfg_node **rows;
    long long *seeds;
    PL_TRY(cfg_sweep_expand(a, exp->sweep, base, &rows, &seeds, &exp->n_runs, err));
    exp->runs = cfg_arena_array(a, (size_t)exp->n_runs, sizeof *exp->runs, err);
    if (exp->runs == NULL) return PL_ERR_NOMEM;
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    pl_status st = PL_OK;
    for (int r = 0; r < exp->n_runs && st == PL_OK; r++)
        st = build_run(exp, v, template, r, rows + (size_t)r * exp->n_axes, seeds[r], &sb, err);
    cfg_strbuf_free(&sb);
    PL_TRY(st);
    PL_TRY(check_distinct(exp, rows, err));
    return count_groups(exp, err);
}

pl_status cfg_experiment_load(const cfg_stage_catalog *stages, const char *path,
                              const char *const *overrides, int n_overrides, pl_experiment **out,
                              pl_error *err) {
    *out = NULL;
    pl_experiment *exp = pl_alloc(1, sizeof *exp, err);
    if (exp == NULL) return PL_ERR_NOMEM;
    cfg_arena_init(&exp->arena);
    exp->path = path;
    exp->stages = stages;
    pl_status st = load(exp, path, overrides, n_overrides, err);
    if (st != PL_OK) {
        pl_experiment_free(exp);
        return st;
    }
    *out = exp;
    return PL_OK;
}

void pl_experiment_free(pl_experiment *exp) {
    if (exp == NULL) return;
    cfg_sweep_free(exp->sweep);
    cfg_arena_free(&exp->arena);
    pl_free(exp);
}
