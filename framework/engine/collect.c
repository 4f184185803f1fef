/* collect.c - rebuilding an experiment's index from its run folders (see collect.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "engine/collect.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/canon.h"
#include "config/leaves.h"
#include "config/path.h"
#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/exp_state.h"
#include "engine/fsutil.h"
#include "engine/lock.h"
#include "engine/run_record.h"
#include "engine/stage.h"
#include "io/tsv.h"

/* What one run folder's files say, before the columns are known. */
typedef struct {
    int n_axes;
    const char **axis_names, **axis_values, **axis_paths; /* run.tsv's axis.<a> and path.<a> */
    pl_run stored;        /* config.yaml read back (stored.config NULL when it did not) */
} folder;

/* One column of config keys whose values differ between runs. */
typedef struct {
    const char *path;
    const char *first;    /* the value of the first run that has the key */
    int present;          /* runs that have it */
    bool differs;
} key_column;

typedef struct {
    pl_index *idx;
    folder *folders;      /* parallel to idx->rows until sorted, then reordered with them */
    int cap_rows, cap_metrics;
    int cap_aliases;
    key_column *keys;
    int n_keys, cap_keys;
    int row;              /* the row a leaf walk is for */
    const cfg_node **skip; /* the alias subtrees of that row */
    int n_skip;
    pl_hash_memo memo;
    char results[4096];   /* the results directory: exp_dir's parent */
} collector;

void pl_index_free(pl_index *idx) {
    for (int r = 0; r < idx->n_rows; r++) pl_h5_summary_free(&idx->rows[r].summary);
    pl_free(idx->rows);
    for (int m = 0; m < idx->n_metrics; m++) pl_free(idx->metrics[m]);
    pl_free(idx->metrics);
    pl_free(idx->aliases);
    pl_free(idx->alias_paths);
    cfg_arena_free(&idx->arena);
    memset(idx, 0, sizeof *idx);
}

static const char *copy(collector *c, const char *s, pl_error *err) {
    return cfg_arena_strdup(&c->idx->arena, s, err);
}

/* Appends a column (an alias or a config key) unless one of that name exists. */
static pl_status add_column(collector *c, const char *name, const char *path, pl_error *err) {
    pl_index *idx = c->idx;
    for (int a = 0; a < idx->n_aliases; a++)
        if (strcmp(idx->aliases[a], name) == 0) {
            if (idx->alias_paths[a][0] == '\0' && path[0] != '\0' && (idx->alias_paths[a] = copy(c, path, err)) == NULL)
                return PL_ERR_NOMEM;
            return PL_OK;
        }
    if (idx->n_aliases == c->cap_aliases) {
        const int cap = c->cap_aliases ? 2 * c->cap_aliases : 16;
        const char **names = pl_realloc(idx->aliases, (size_t)cap, sizeof *names, err);
        if (names != NULL) idx->aliases = names;
        const char **paths = names ? pl_realloc(idx->alias_paths, (size_t)cap, sizeof *paths, err) : NULL;
        if (paths == NULL) return PL_ERR_NOMEM;
        idx->alias_paths = paths, c->cap_aliases = cap;
    }
    idx->aliases[idx->n_aliases] = copy(c, name, err);
    idx->alias_paths[idx->n_aliases] = copy(c, path, err);
    if (idx->aliases[idx->n_aliases] == NULL || idx->alias_paths[idx->n_aliases] == NULL) return PL_ERR_NOMEM;
    idx->n_aliases++;
    return PL_OK;
}

/* ---- reading run folders ---------------------------------------------------------------- */

/* Next line of a text (modified in place); NULL at the end. */
static char *next_line(char **cursor) {
    char *line = *cursor;
    if (line == NULL || *line == '\0') return NULL;
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    *cursor = nl ? nl + 1 : NULL;
    return line;
}

/* run.tsv's axis.<alias> (and path.<alias>) lines into f. */
static pl_status add_axis(collector *c, folder *f, const char *name, const char *value, bool is_path,
                          pl_error *err) {
    for (int a = 0; a < f->n_axes; a++)
        if (strcmp(f->axis_names[a], name) == 0) {
            const char **slot = is_path ? &f->axis_paths[a] : &f->axis_values[a];
            return (*slot = copy(c, value, err)) != NULL ? PL_OK : PL_ERR_NOMEM;
        }
    const size_t n = (size_t)f->n_axes + 1;
    const char **names = cfg_arena_array(&c->idx->arena, n, sizeof *names, err);
    const char **values = cfg_arena_array(&c->idx->arena, n, sizeof *values, err);
    const char **paths = cfg_arena_array(&c->idx->arena, n, sizeof *paths, err);
    if (names == NULL || values == NULL || paths == NULL) return PL_ERR_NOMEM;
    for (int a = 0; a < f->n_axes; a++)
        names[a] = f->axis_names[a], values[a] = f->axis_values[a], paths[a] = f->axis_paths[a];
    names[f->n_axes] = copy(c, name, err);
    values[f->n_axes] = is_path ? NULL : copy(c, value, err);
    paths[f->n_axes] = is_path ? copy(c, value, err) : "";
    if (names[f->n_axes] == NULL || (is_path ? paths : values)[f->n_axes] == NULL) return PL_ERR_NOMEM;
    f->axis_names = names, f->axis_values = values, f->axis_paths = paths;
    f->n_axes++;
    return PL_OK;
}

static pl_status read_run_tsv(collector *c, const char *dir, pl_index_row *row, folder *f, bool *ok, pl_error *err) {
    char path[4700], *text;
    *ok = false;
    snprintf(path, sizeof path, "%s/run.tsv", dir);
    if (pl_read_file(path, &text, NULL, NULL) != PL_OK) return PL_OK;
    pl_status st = PL_OK;
    char *cur = text, *line;
    while (st == PL_OK && (line = next_line(&cur)) != NULL) {
        char *tab = strchr(line, '\t');
        if (tab == NULL) continue;
        *tab = '\0';
        const char *v = tab + 1;
        if (strcmp(line, "run_id") == 0) snprintf(row->run_id, sizeof row->run_id, "%s", v);
        else if (strcmp(line, "group_id") == 0) snprintf(row->group_id, sizeof row->group_id, "%s", v);
        else if (strcmp(line, "seed") == 0) row->seed = atoll(v);
        else if (strcmp(line, "index") == 0) row->index = atoi(v);
        else if (strncmp(line, "axis.", 5) == 0) st = add_axis(c, f, line + 5, v, false, err);
        else if (strncmp(line, "path.", 5) == 0) st = add_axis(c, f, line + 5, v, true, err);
    }
    pl_free(text);
    *ok = st == PL_OK && row->run_id[0] != '\0';
    return st;
}

/* config.yaml read back as the run it describes (left empty when it does not read, or
 * describes another run than the folder's). */
static pl_status read_config(collector *c, const char *dir, const pl_index_row *row, folder *f, pl_error *err) {
    char path[4700], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    if (pl_read_file(path, &text, &len, NULL) != PL_OK) return PL_OK;
    pl_error why;
    pl_error_clear(&why);
    pl_status st = cfg_run_from_text(pl_stage_catalog(), &c->idx->arena, text, len, path, &f->stored, &why);
    pl_free(text);
    if (st == PL_ERR_NOMEM) {
        if (err != NULL) *err = why;
        return st;
    }
    if (st != PL_OK || strcmp(f->stored.run_id, row->run_id) != 0) memset(&f->stored, 0, sizeof f->stored);
    return PL_OK;
}

static pl_status grow_rows(collector *c, pl_error *err) {
    if (c->idx->n_rows < c->cap_rows) return PL_OK;
    const int cap = c->cap_rows ? 2 * c->cap_rows : 64;
    pl_index_row *rows = pl_realloc(c->idx->rows, (size_t)cap, sizeof *rows, err);
    if (rows != NULL) c->idx->rows = rows;
    folder *folders = rows ? pl_realloc(c->folders, (size_t)cap, sizeof *folders, err) : NULL;
    if (folders == NULL) return PL_ERR_NOMEM;
    c->folders = folders, c->cap_rows = cap;
    return PL_OK;
}

static pl_status read_folders(collector *c, const char *exp_dir, bool full, pl_error *err) {
    char runs[4096];
    snprintf(runs, sizeof runs, "%s/runs", exp_dir);
    DIR *d = opendir(runs);
    if (d == NULL) return PL_OK; /* no runs yet: only experiment.state */
    pl_status st = PL_OK;
    struct dirent *ent;
    while (st == PL_OK && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.' || (st = grow_rows(c, err)) != PL_OK) continue;
        char dir[4096 + 512];
        snprintf(dir, sizeof dir, "%s/%s", runs, ent->d_name);
        pl_index_row *row = &c->idx->rows[c->idx->n_rows];
        folder *f = &c->folders[c->idx->n_rows];
        memset(row, 0, sizeof *row);
        memset(f, 0, sizeof *f);
        bool ok;
        st = read_run_tsv(c, dir, row, f, &ok, err);
        if (st != PL_OK || !ok) continue;
        pl_run_status_read(dir, &row->status);
        if (full) st = read_config(c, dir, row, f, err);
        c->idx->n_rows += st == PL_OK;
    }
    closedir(d);
    return st;
}

/* Sorts rows (and their folders) by index, then run id. */
static pl_status sort_rows(collector *c, pl_error *err) {
    const int n = c->idx->n_rows;
    if (n < 2) return PL_OK;
    int *order = pl_alloc((size_t)n + 1, sizeof *order, err);
    pl_index_row *rows = pl_alloc((size_t)n + 1, sizeof *rows, err);
    folder *folders = pl_alloc((size_t)n + 1, sizeof *folders, err);
    pl_status st = order && rows && folders ? PL_OK : PL_ERR_NOMEM;
    if (st == PL_OK) {
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = 1; i < n; i++) /* insertion sort: stable, and n is a sweep's size */
            for (int j = i; j > 0; j--) {
                const pl_index_row *a = &c->idx->rows[order[j - 1]], *b = &c->idx->rows[order[j]];
                if (a->index < b->index || (a->index == b->index && strcmp(a->run_id, b->run_id) <= 0)) break;
                const int t = order[j];
                order[j] = order[j - 1], order[j - 1] = t;
            }
        for (int i = 0; i < n; i++) rows[i] = c->idx->rows[order[i]], folders[i] = c->folders[order[i]];
        memcpy(c->idx->rows, rows, (size_t)n * sizeof *rows);
        memcpy(c->folders, folders, (size_t)n * sizeof *folders);
    }
    pl_free(order);
    pl_free(rows);
    pl_free(folders);
    return st;
}

/* ---- columns ------------------------------------------------------------------------------ */

/* Every alias: experiment.state's (unless damaged), then any other the run folders name. */
static pl_status alias_columns(collector *c, const char *exp_dir, pl_error *err) {
    pl_exp_state state;
    PL_TRY(pl_exp_state_read(exp_dir, &state, err));
    pl_index *idx = c->idx;
    idx->started = state.started;
    idx->jobs = state.jobs;
    idx->state_damaged = state.damaged;
    snprintf(idx->state_why, sizeof idx->state_why, "%s", state.why);
    pl_status st = PL_OK;
    for (int a = 0; st == PL_OK && a < state.n_aliases; a++) st = add_column(c, state.aliases[a], state.alias_paths[a], err);
    pl_exp_state_free(&state);
    for (int r = 0; st == PL_OK && r < idx->n_rows; r++)
        for (int a = 0; st == PL_OK && a < c->folders[r].n_axes; a++)
            st = add_column(c, c->folders[r].axis_names[a], c->folders[r].axis_paths[a], err);
    idx->n_axes = idx->n_aliases;
    return st;
}

/* The one-line text of a config value (arena). */
static const char *flow_text(collector *c, const cfg_node *n, pl_error *err) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_canon_flow(n, &sb);
    const char *text = cfg_strbuf_check(&sb, err) == PL_OK ? copy(c, sb.data ? sb.data : "", err) : NULL;
    cfg_strbuf_free(&sb);
    return text;
}

/* The run's value of alias a: run.tsv's, or its stored config's at the alias's path. */
static pl_status alias_value(collector *c, int r, int a, const char **out, pl_error *err) {
    const folder *f = &c->folders[r];
    for (int i = 0; i < f->n_axes; i++)
        if (strcmp(f->axis_names[i], c->idx->aliases[a]) == 0 && f->axis_values[i] != NULL)
            return (*out = f->axis_values[i]), PL_OK;
    const char *path = c->idx->alias_paths[a];
    const cfg_node *v = f->stored.config != NULL && path[0] ? cfg_get(f->stored.config, path) : NULL;
    *out = v != NULL ? flow_text(c, v, err) : "";
    return *out != NULL ? PL_OK : PL_ERR_NOMEM;
}

static pl_status note_key(void *ctx, const char *path, const cfg_node *leaf, pl_error *err) {
    collector *c = ctx;
    if (strcmp(path, "seed") == 0) return PL_OK; /* the replicate axis, never a configuration */
    const char *value = flow_text(c, leaf, err);
    if (value == NULL) return PL_ERR_NOMEM;
    for (int k = 0; k < c->n_keys; k++)
        if (strcmp(c->keys[k].path, path) == 0) {
            c->keys[k].present++;
            c->keys[k].differs = c->keys[k].differs || strcmp(c->keys[k].first, value) != 0;
            return PL_OK;
        }
    if (c->n_keys == c->cap_keys) {
        const int cap = c->cap_keys ? 2 * c->cap_keys : 256;
        key_column *keys = pl_realloc(c->keys, (size_t)cap, sizeof *keys, err);
        if (keys == NULL) return PL_ERR_NOMEM;
        c->keys = keys, c->cap_keys = cap;
    }
    const char *name = copy(c, path, err);
    if (name == NULL) return PL_ERR_NOMEM;
    c->keys[c->n_keys++] = (key_column){name, value, 1, false};
    return PL_OK;
}

/* The subtrees of run r's config that its aliases cover (their columns show them). */
static pl_status alias_subtrees(collector *c, int r, pl_error *err) {
    c->n_skip = 0;
    c->skip = cfg_arena_array(&c->idx->arena, (size_t)c->idx->n_axes + 1, sizeof *c->skip, err);
    if (c->skip == NULL) return PL_ERR_NOMEM;
    for (int a = 0; a < c->idx->n_axes; a++) {
        const cfg_node *n = c->idx->alias_paths[a][0] ? cfg_get(c->folders[r].stored.semantic, c->idx->alias_paths[a]) : NULL;
        if (n != NULL) c->skip[c->n_skip++] = n;
    }
    return PL_OK;
}

/* A column for every config key whose value differs between the runs (a key some runs
 * lack differs too), in key order after the aliases. */
static pl_status key_columns(collector *c, pl_error *err) {
    int with_config = 0;
    for (int r = 0; r < c->idx->n_rows; r++) {
        if (c->folders[r].stored.semantic == NULL) continue;
        with_config++;
        PL_TRY(alias_subtrees(c, r, err));
        PL_TRY(cfg_leaves(c->folders[r].stored.semantic, c->skip, c->n_skip, note_key, c, err));
    }
    for (int k = 0; k < c->n_keys; k++) /* in path order, one at a time: few columns differ */
        for (int j = k + 1; j < c->n_keys; j++)
            if (strcmp(c->keys[j].path, c->keys[k].path) < 0) {
                const key_column t = c->keys[k];
                c->keys[k] = c->keys[j], c->keys[j] = t;
            }
    for (int k = 0; k < c->n_keys; k++)
        if (c->keys[k].differs || c->keys[k].present < with_config)
            PL_TRY(add_column(c, c->keys[k].path, c->keys[k].path, err));
    return PL_OK;
}

typedef struct {
    collector *c;
    const char **values;
} row_fill;

static pl_status fill_key(void *ctx, const char *path, const cfg_node *leaf, pl_error *err) {
    row_fill *rf = ctx;
    const pl_index *idx = rf->c->idx;
    for (int a = idx->n_axes; a < idx->n_aliases; a++)
        if (strcmp(idx->aliases[a], path) == 0)
            return (rf->values[a] = flow_text(rf->c, leaf, err)) != NULL ? PL_OK : PL_ERR_NOMEM;
    return PL_OK;
}

static pl_status fill_values(collector *c, pl_error *err) {
    pl_index *idx = c->idx;
    for (int r = 0; r < idx->n_rows; r++) {
        pl_index_row *row = &idx->rows[r];
        row->values = cfg_arena_array(&idx->arena, (size_t)idx->n_aliases + 1, sizeof *row->values, err);
        if (row->values == NULL) return PL_ERR_NOMEM;
        for (int a = 0; a < idx->n_axes; a++) PL_TRY(alias_value(c, r, a, &row->values[a], err));
        for (int a = idx->n_axes; a < idx->n_aliases; a++) row->values[a] = "";
        if (c->folders[r].stored.semantic == NULL || idx->n_aliases == idx->n_axes) continue;
        row_fill rf = {c, row->values};
        PL_TRY(alias_subtrees(c, r, err));
        PL_TRY(cfg_leaves(c->folders[r].stored.semantic, c->skip, c->n_skip, fill_key, &rf, err));
    }
    return PL_OK;
}

/* ---- verdicts and metrics ------------------------------------------------------------- */

/* A completed run's record against its inputs now (engine/run_record.h). */
static pl_status judge(collector *c, const char *exp_dir, int r, pl_error *err) {
    pl_index *idx = c->idx;
    pl_index_row *row = &idx->rows[r];
    if (row->status.state != PL_RUN_COMPLETED) return PL_OK;
    char dir[4096 + 64];
    snprintf(dir, sizeof dir, "%s/runs/%s", exp_dir, row->run_id);
    pl_run_record now;
    pl_error why;
    pl_error_clear(&why);
    bool known = false;
    if (c->folders[r].stored.semantic == NULL) {
        snprintf(why.message, sizeof why.message, "%.900s/config.yaml does not read back", dir);
    } else {
        const pl_status st = pl_run_record_of(&c->folders[r].stored, &c->memo, &now, &why);
        if (st == PL_ERR_NOMEM) {
            if (err != NULL) *err = why;
            return st;
        }
        known = st == PL_OK;
    }
    if (!known && idx->n_unchecked++ == 0)
        snprintf(idx->unchecked_why, sizeof idx->unchecked_why, "run %s: %.560s", row->run_id, why.message);
    const pl_record_verdict v = pl_run_judge(dir, c->results, known ? &now : NULL, row->status.reason,
                                             sizeof row->status.reason);
    if (known) pl_run_record_free(&now);
    if (v == PL_RECORD_STALE) row->status.state = PL_RUN_STALE, idx->n_stale++;
    if (v == PL_RECORD_DAMAGED) row->status.state = PL_RUN_DAMAGED, idx->n_damaged++;
    return PL_OK;
}

static pl_status add_metric(collector *c, const char *name, pl_error *err) {
    pl_index *idx = c->idx;
    for (int i = 0; i < idx->n_metrics; i++)
        if (strcmp(idx->metrics[i], name) == 0) return PL_OK;
    if (idx->n_metrics == c->cap_metrics) {
        const int cap = c->cap_metrics ? 2 * c->cap_metrics : 16;
        char **bigger = pl_realloc(idx->metrics, (size_t)cap, sizeof *bigger, err);
        if (bigger == NULL) return PL_ERR_NOMEM;
        idx->metrics = bigger, c->cap_metrics = cap;
    }
    if ((idx->metrics[idx->n_metrics] = pl_strdup(name, err)) == NULL) return PL_ERR_NOMEM;
    idx->n_metrics++;
    return PL_OK;
}

static pl_status read_metrics(collector *c, const char *exp_dir, pl_index_row *row, pl_error *err) {
    if (row->status.state != PL_RUN_COMPLETED && row->status.state != PL_RUN_STALE) return PL_OK;
    char h5[4096 + 64];
    snprintf(h5, sizeof h5, "%s/runs/%s/metrics.h5", exp_dir, row->run_id);
    if (pl_h5_read_summary(h5, &row->summary, NULL) != PL_OK) memset(&row->summary, 0, sizeof row->summary);
    for (int m = 0; m < row->summary.count; m++) PL_TRY(add_metric(c, row->summary.names[m], err));
    return PL_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* exp_dir's parent: the results directory whose cache/ the runs used (resolved first, so
 * "." and "results/x/." have the right parent). */
static void parent_of(const char *exp_dir, char *out, size_t cap) {
    char resolved[PATH_MAX];
    snprintf(out, cap, "%s", realpath(exp_dir, resolved) != NULL ? resolved : exp_dir);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/') out[--n] = '\0';
    char *slash = strrchr(out, '/');
    if (slash == NULL) snprintf(out, cap, ".");
    else if (slash == out) out[1] = '\0';
    else *slash = '\0';
}

static pl_status collect(collector *c, const char *exp_dir, bool full, pl_error *err) {
    PL_TRY(read_folders(c, exp_dir, full, err));
    PL_TRY(sort_rows(c, err));
    PL_TRY(alias_columns(c, exp_dir, err));
    if (full) PL_TRY(key_columns(c, err));
    PL_TRY(fill_values(c, err));
    parent_of(exp_dir, c->results, sizeof c->results);
    for (int r = 0; full && r < c->idx->n_rows; r++) {
        PL_TRY(judge(c, exp_dir, r, err));
        PL_TRY(read_metrics(c, exp_dir, &c->idx->rows[r], err));
    }
    if (c->idx->n_metrics) qsort(c->idx->metrics, (size_t)c->idx->n_metrics, sizeof *c->idx->metrics, cmp_str);
    return PL_OK;
}

pl_status pl_collect(const char *exp_dir, bool full, pl_index *idx, pl_error *err) {
    memset(idx, 0, sizeof *idx);
    cfg_arena_init(&idx->arena);
    pl_status st = pl_exp_dir_check(exp_dir, err);
    collector c = {.idx = idx};
    if (st == PL_OK) st = collect(&c, exp_dir, full, err);
    pl_free(c.folders);
    pl_free(c.keys);
    pl_hash_memo_free(&c.memo);
    if (st != PL_OK) pl_index_free(idx);
    return st;
}

double pl_index_metric(const pl_index_row *row, const char *name) {
    for (int i = 0; i < row->summary.count; i++)
        if (strcmp(row->summary.names[i], name) == 0) return row->summary.values[i];
    return NAN;
}

void pl_index_notes(const pl_index *idx, const char *exp_dir, FILE *out) {
    if (idx->state_damaged)
        fprintf(out, "warning: %s/experiment.state is damaged (%s): the aliases come from the run folders; "
                "`prunelab collect %s` or the next `prunelab run` writes it again\n", exp_dir, idx->state_why, exp_dir);
    if (idx->n_unchecked > 0)
        fprintf(out, "note: %d completed run%s could not be checked against %s inputs from here, only against "
                "%s seal (%s)\n", idx->n_unchecked, idx->n_unchecked == 1 ? "" : "s",
                idx->n_unchecked == 1 ? "its" : "their", idx->n_unchecked == 1 ? "its" : "their", idx->unchecked_why);
}

void pl_index_run_notes(const pl_index *idx, FILE *out) {
    for (int r = 0; r < idx->n_rows; r++) {
        const pl_index_row *row = &idx->rows[r];
        if (row->status.state == PL_RUN_DAMAGED)
            fprintf(out, "warning: run %s is damaged: %s; its row keeps its run id, axes and status, its metrics "
                    "are left out; `prunelab run` computes it again\n", row->run_id, row->status.reason);
        else if (row->status.state == PL_RUN_STALE)
            fprintf(out, "warning: run %s is stale: %s; export and plot leave it out; `prunelab run` computes it "
                    "again\n", row->run_id, row->status.reason);
    }
}

pl_status pl_index_rewrite_state(const pl_index *idx, const char *exp_dir, pl_error *err) {
    char lock_path[4096];
    pl_exp_state_lock_path(exp_dir, lock_path, sizeof lock_path);
    pl_lock lock;
    PL_TRY(pl_lock_wait(lock_path, &lock, err));
    pl_exp_state state;
    pl_status st = pl_exp_state_read(exp_dir, &state, err);
    if (st == PL_OK && state.damaged) { /* still: nobody rewrote it meanwhile */
        pl_exp_state_free(&state);
        state.started = idx->started, state.jobs = idx->jobs;
        for (int a = 0; st == PL_OK && a < idx->n_axes; a++)
            st = pl_exp_state_add_alias(&state, idx->aliases[a], idx->alias_paths[a], err);
        if (st == PL_OK) st = pl_exp_state_write(exp_dir, &state, err);
    }
    pl_exp_state_free(&state);
    pl_lock_release(&lock);
    return st;
}

pl_status pl_index_write(const pl_index *idx, const char *exp_dir, pl_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/index.tsv", exp_dir);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) return PL_ERROR(err, PL_ERR_NOMEM, "cannot build index.tsv in memory");
    pl_tsv_writer w;
    pl_tsv_begin(&w, mem);
    pl_tsv_text(&w, "run_id");
    pl_tsv_text(&w, "group_id");
    pl_tsv_text(&w, "seed");
    for (int a = 0; a < idx->n_aliases; a++) pl_tsv_text(&w, idx->aliases[a]);
    pl_tsv_text(&w, "status");
    pl_tsv_text(&w, "reason");
    for (int m = 0; m < idx->n_metrics; m++) pl_tsv_text(&w, idx->metrics[m]);
    pl_status st = pl_tsv_end_row(&w, path, err);
    for (int r = 0; r < idx->n_rows && st == PL_OK; r++) {
        const pl_index_row *row = &idx->rows[r];
        pl_tsv_text(&w, row->run_id);
        pl_tsv_text(&w, row->group_id);
        pl_tsv_int(&w, row->seed);
        for (int a = 0; a < idx->n_aliases; a++) pl_tsv_text(&w, row->values[a]);
        pl_tsv_text(&w, pl_run_state_name(row->status.state));
        pl_tsv_text(&w, row->status.reason);
        for (int m = 0; m < idx->n_metrics; m++) {
            double v = pl_index_metric(row, idx->metrics[m]);
            if (isnan(v) && row->summary.count == 0) pl_tsv_text(&w, "");
            else pl_tsv_number(&w, v);
        }
        st = pl_tsv_end_row(&w, path, err);
    }
    fclose(mem);
    if (st == PL_OK) st = pl_write_atomic(path, buf ? buf : "", len, err);
    free(buf); /* from open_memstream: plain free */
    return st;
}
