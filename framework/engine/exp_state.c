/* exp_state.c - reading, merging and writing experiment.state, and telling an experiment's
 * results folder from other paths (see exp_state.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/exp_state.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/fsutil.h"

/* A copy of s with tabs and line breaks as spaces: one field of a key<TAB>value line. */
static char *field_copy(const char *s, pl_error *err) {
    char *copy = pl_strdup(s, err);
    for (char *p = copy; p && *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r') *p = ' ';
    return copy;
}

static bool contains(char *const *list, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

/* Appends a copy of s to the list unless it is there. */
static pl_status add_unique(char ***list, int *n, int *cap, const char *s, pl_error *err) {
    char *copy = field_copy(s, err);
    if (copy == NULL) return PL_ERR_NOMEM;
    if (contains(*list, *n, copy)) {
        pl_free(copy);
        return PL_OK;
    }
    if (*n == *cap) {
        int bigger_cap = *cap ? 2 * *cap : 16;
        char **bigger = pl_realloc(*list, (size_t)bigger_cap, sizeof *bigger, err);
        if (bigger == NULL) {
            pl_free(copy);
            return PL_ERR_NOMEM;
        }
        *list = bigger, *cap = bigger_cap;
    }
    (*list)[(*n)++] = copy;
    return PL_OK;
}

pl_status pl_exp_state_add_run(pl_exp_state *s, const char *run_id, pl_error *err) {
    return add_unique(&s->runs, &s->n_runs, &s->cap_runs, run_id, err);
}

pl_status pl_exp_state_add_alias(pl_exp_state *s, const char *alias, pl_error *err) {
    return add_unique(&s->aliases, &s->n_aliases, &s->cap_aliases, alias, err);
}

bool pl_exp_state_has_run(const pl_exp_state *s, const char *run_id) {
    return contains(s->runs, s->n_runs, run_id);
}

static void free_list(char ***list, int *n, int *cap) {
    for (int i = 0; i < *n; i++) pl_free((*list)[i]);
    pl_free(*list);
    *list = NULL, *n = *cap = 0;
}

void pl_exp_state_clear_lists(pl_exp_state *s) {
    free_list(&s->aliases, &s->n_aliases, &s->cap_aliases);
    free_list(&s->runs, &s->n_runs, &s->cap_runs);
}

void pl_exp_state_free(pl_exp_state *s) {
    pl_exp_state_clear_lists(s);
    pl_free(s->spec_path);
    memset(s, 0, sizeof *s);
}

void pl_exp_state_lock_path(const char *exp_dir, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/experiment.lock", exp_dir);
}

/* Each tab-separated item of value into the list. */
static pl_status read_list(char *value, pl_exp_state *s, bool runs, pl_error *err) {
    for (char *item = value; item && *item;) {
        char *tab = strchr(item, '\t');
        if (tab) *tab = '\0';
        PL_TRY(runs ? pl_exp_state_add_run(s, item, err) : pl_exp_state_add_alias(s, item, err));
        item = tab ? tab + 1 : NULL;
    }
    return PL_OK;
}

static pl_status read_line(char *line, pl_exp_state *s, pl_error *err) {
    char *tab = strchr(line, '\t');
    if (tab == NULL) return PL_OK;
    *tab = '\0';
    char *value = tab + 1;
    if (strcmp(line, "spec_sha256") == 0) {
        snprintf(s->spec_sha256, sizeof s->spec_sha256, "%.64s", value);
    } else if (strcmp(line, "spec_path") == 0) {
        if (s->spec_path == NULL && (s->spec_path = pl_strdup(value, err)) == NULL) return PL_ERR_NOMEM;
    } else if (strcmp(line, "started") == 0) {
        s->started = strtod(value, NULL);
    } else if (strcmp(line, "jobs") == 0) {
        s->jobs = atoi(value);
    } else if (strcmp(line, "threads") == 0) {
        s->threads = atoi(value);
    } else if (strcmp(line, "aliases") == 0) {
        return read_list(value, s, false, err);
    } else if (strcmp(line, "runs") == 0) {
        s->has_runs = true;
        return read_list(value, s, true, err);
    }
    return PL_OK;
}

pl_status pl_exp_state_read(const char *exp_dir, pl_exp_state *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    char path[4096], *text;
    snprintf(path, sizeof path, "%s/experiment.state", exp_dir);
    if (pl_read_file(path, &text, NULL, NULL) != PL_OK) return PL_OK;
    pl_status st = PL_OK;
    for (char *line = text; st == PL_OK && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        st = read_line(line, out, err);
        line = nl ? nl + 1 : NULL;
    }
    pl_free(text);
    if (st != PL_OK) pl_exp_state_free(out);
    return st;
}

pl_status pl_exp_state_write(const char *exp_dir, const pl_exp_state *s, pl_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/experiment.state", exp_dir);
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_strbuf_printf(&sb, "spec_sha256\t%s\nspec_path\t", s->spec_sha256);
    for (const char *p = s->spec_path ? s->spec_path : ""; *p; p++)
        cfg_strbuf_putc(&sb, (*p == '\t' || *p == '\n' || *p == '\r') ? ' ' : *p);
    cfg_strbuf_printf(&sb, "\nstarted\t%.3f\njobs\t%d\nthreads\t%d\naliases", s->started, s->jobs, s->threads);
    for (int a = 0; a < s->n_aliases; a++) cfg_strbuf_printf(&sb, "\t%s", s->aliases[a]);
    cfg_strbuf_puts(&sb, "\nruns");
    for (int r = 0; r < s->n_runs; r++) cfg_strbuf_printf(&sb, "\t%s", s->runs[r]);
    cfg_strbuf_putc(&sb, '\n');
    pl_status st = cfg_strbuf_check(&sb, err);
    if (st == PL_OK) st = pl_write_atomic(path, sb.data, sb.len, err);
    cfg_strbuf_free(&sb);
    return st;
}

static bool is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The names of up to max folders in dir that hold an experiment.state, as " a, b, c". */
static void list_experiments(const char *dir, char *out, size_t cap, int max) {
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (d == NULL) return;
    int found = 0;
    size_t used = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL && found < max) {
        if (ent->d_name[0] == '.') continue;
        char state[4096];
        snprintf(state, sizeof state, "%s/%s/experiment.state", dir, ent->d_name);
        struct stat sb;
        if (stat(state, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        int n = snprintf(out + used, cap - used, "%s %s/%s", found ? "," : "", dir, ent->d_name);
        if (n < 0 || (size_t)n >= cap - used) break;
        used += (size_t)n;
        found++;
    }
    closedir(d);
}

pl_status pl_exp_dir_check(const char *exp_dir, pl_error *err) {
    static const char *const HINT = "give the folder prunelab run writes an experiment's results to, "
                                    "results/<experiment> (such as results/quickstart)";
    struct stat sb;
    if (stat(exp_dir, &sb) != 0)
        return PL_ERROR(err, PL_ERR_IO, "%s does not exist; %s", exp_dir, HINT);
    if (!S_ISDIR(sb.st_mode))
        return PL_ERROR(err, PL_ERR_IO, "%s is not a directory; %s", exp_dir, HINT);
    char state[4096], runs[4096];
    snprintf(state, sizeof state, "%s/experiment.state", exp_dir);
    snprintf(runs, sizeof runs, "%s/runs", exp_dir);
    if (pl_file_exists(state) || is_dir(runs)) return PL_OK;
    char inside[1024];
    list_experiments(exp_dir, inside, sizeof inside, 6);
    if (inside[0])
        return PL_ERROR(err, PL_ERR_INVALID, "%s holds no experiment.state and no runs/, so it is not one "
                        "experiment's results; the experiments in it:%s", exp_dir, inside);
    return PL_ERROR(err, PL_ERR_INVALID, "%s holds no experiment.state and no runs/, so it is not an "
                    "experiment's results (nothing has run there); %s", exp_dir, HINT);
}
