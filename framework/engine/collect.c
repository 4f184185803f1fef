/* collect.c - rebuilding index.tsv from run directories (see collect.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/collect.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/exp_state.h"
#include "engine/fsutil.h"
#include "io/tsv.h"

static void free_strings(char **v, int n) {
    for (int i = 0; v && i < n; i++) pl_free(v[i]);
    pl_free(v);
}

void pl_index_free(pl_index *idx) {
    for (int r = 0; r < idx->n_rows; r++) {
        free_strings(idx->rows[r].values, idx->n_aliases);
        pl_h5_summary_free(&idx->rows[r].summary);
    }
    pl_free(idx->rows);
    free_strings(idx->aliases, idx->n_aliases);
    free_strings(idx->metrics, idx->n_metrics);
    free_strings(idx->current, idx->n_current);
    free_strings(idx->superseded_ids, idx->superseded);
    memset(idx, 0, sizeof *idx);
}

/* Next line of a text (modified in place); NULL at the end. */
static char *next_line(char **cursor) {
    char *line = *cursor;
    if (line == NULL || *line == '\0') return NULL;
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    *cursor = nl ? nl + 1 : NULL;
    return line;
}

/* The aliases, run ids, start time and jobs experiment.state records (engine/exp_state.h). */
static pl_status read_state(pl_index *idx, const char *exp_dir, pl_error *err) {
    pl_exp_state state;
    PL_TRY(pl_exp_state_read(exp_dir, &state, err));
    idx->started = state.started;
    idx->jobs = state.jobs;
    idx->aliases = state.aliases, idx->n_aliases = state.n_aliases;
    idx->current = state.runs, idx->n_current = state.n_runs;
    state.aliases = state.runs = NULL, state.n_aliases = state.n_runs = 0;
    pl_exp_state_free(&state);
    return PL_OK;
}

static pl_status read_row(pl_index *idx, const char *dir, pl_index_row *row, bool *ok, pl_error *err) {
    char path[8192], *text;
    *ok = false;
    memset(row, 0, sizeof *row);
    snprintf(path, sizeof path, "%s/run.tsv", dir);
    if (pl_read_file(path, &text, NULL, NULL) != PL_OK) return PL_OK;
    row->values = pl_alloc((size_t)idx->n_aliases + 1, sizeof *row->values, err);
    if (row->values == NULL) {
        pl_free(text);
        return PL_ERR_NOMEM;
    }
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
        else if (strncmp(line, "axis.", 5) == 0)
            for (int a = 0; a < idx->n_aliases; a++)
                if (strcmp(idx->aliases[a], line + 5) == 0 && row->values[a] == NULL &&
                    (row->values[a] = pl_strdup(v, err)) == NULL)
                    st = PL_ERR_NOMEM;
    }
    pl_free(text);
    for (int a = 0; st == PL_OK && a < idx->n_aliases; a++)
        if (row->values[a] == NULL && (row->values[a] = pl_strdup("", err)) == NULL) st = PL_ERR_NOMEM;
    if (st != PL_OK) return st;
    pl_run_status_read(dir, &row->status);
    *ok = row->run_id[0] != '\0';
    return PL_OK;
}

static int cmp_rows(const void *a, const void *b) {
    const pl_index_row *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return strcmp(x->run_id, y->run_id);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static pl_status add_metric(pl_index *idx, const char *name, int *cap, pl_error *err) {
    for (int i = 0; i < idx->n_metrics; i++)
        if (strcmp(idx->metrics[i], name) == 0) return PL_OK;
    if (idx->n_metrics == *cap) {
        int c = *cap ? 2 * *cap : 16;
        char **bigger = pl_realloc(idx->metrics, (size_t)c, sizeof *bigger, err);
        if (bigger == NULL) return PL_ERR_NOMEM;
        idx->metrics = bigger, *cap = c;
    }
    if ((idx->metrics[idx->n_metrics] = pl_strdup(name, err)) == NULL) return PL_ERR_NOMEM;
    idx->n_metrics++;
    return PL_OK;
}

static pl_status add_superseded(pl_index *idx, const char *run_id, pl_error *err) {
    char **bigger = pl_realloc(idx->superseded_ids, (size_t)idx->superseded + 1, sizeof *bigger, err);
    if (bigger == NULL) return PL_ERR_NOMEM;
    idx->superseded_ids = bigger;
    if ((bigger[idx->superseded] = pl_strdup(run_id, err)) == NULL) return PL_ERR_NOMEM;
    idx->superseded++;
    return PL_OK;
}

static bool in_current_spec(const pl_index *idx, const char *run_id) {
    if (idx->n_current == 0) return true; /* an older state file: keep everything */
    for (int i = 0; i < idx->n_current; i++)
        if (strcmp(idx->current[i], run_id) == 0) return true;
    return false;
}

pl_status pl_collect(const char *exp_dir, bool with_metrics, pl_index *idx, pl_error *err) {
    memset(idx, 0, sizeof *idx);
    PL_TRY(pl_exp_dir_check(exp_dir, err));
    PL_TRY(read_state(idx, exp_dir, err));
    char runs[4096];
    snprintf(runs, sizeof runs, "%s/runs", exp_dir);
    DIR *d = opendir(runs);
    if (d == NULL) return PL_OK; /* no runs yet: only experiment.state */
    pl_status st = PL_OK;
    int cap = 0, mcap = 0;
    struct dirent *ent;
    while (st == PL_OK && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        if (idx->n_rows == cap) {
            int c = cap ? 2 * cap : 64;
            pl_index_row *bigger = pl_realloc(idx->rows, (size_t)c, sizeof *bigger, err);
            if (bigger == NULL) {
                st = PL_ERR_NOMEM;
                break;
            }
            idx->rows = bigger, cap = c;
        }
        char dir[4096 + 512];
        snprintf(dir, sizeof dir, "%s/%s", runs, ent->d_name);
        pl_index_row *row = &idx->rows[idx->n_rows];
        bool ok;
        st = read_row(idx, dir, row, &ok, err);
        if (st == PL_OK && ok && !in_current_spec(idx, row->run_id)) {
            st = add_superseded(idx, row->run_id, err);
            ok = false;
        }
        if (st != PL_OK || !ok) {
            free_strings(row->values, idx->n_aliases);
            continue;
        }
        idx->n_rows++;
        if (with_metrics && row->status.state == PL_RUN_COMPLETED) {
            char h5[8192];
            snprintf(h5, sizeof h5, "%s/metrics.h5", dir);
            if (pl_h5_read_summary(h5, &row->summary, NULL) != PL_OK) memset(&row->summary, 0, sizeof row->summary);
            for (int m = 0; st == PL_OK && m < row->summary.count; m++)
                st = add_metric(idx, row->summary.names[m], &mcap, err);
        }
    }
    closedir(d);
    if (st != PL_OK) {
        pl_index_free(idx);
        return st;
    }
    if (idx->n_rows) qsort(idx->rows, (size_t)idx->n_rows, sizeof *idx->rows, cmp_rows);
    if (idx->n_metrics) qsort(idx->metrics, (size_t)idx->n_metrics, sizeof *idx->metrics, cmp_str);
    if (idx->superseded) qsort(idx->superseded_ids, (size_t)idx->superseded, sizeof *idx->superseded_ids, cmp_str);
    return PL_OK;
}

double pl_index_metric(const pl_index_row *row, const char *name) {
    for (int i = 0; i < row->summary.count; i++)
        if (strcmp(row->summary.names[i], name) == 0) return row->summary.values[i];
    return NAN;
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
