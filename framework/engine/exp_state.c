/* exp_state.c - reading, merging and writing experiment.state, and telling an experiment's
 * results folder from other paths (see exp_state.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/exp_state.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/hash.h"
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

pl_status pl_exp_state_add_alias(pl_exp_state *s, const char *alias, const char *path, pl_error *err) {
    char *name = field_copy(alias, err), *where = name ? field_copy(path ? path : "", err) : NULL;
    if (where == NULL) {
        pl_free(name);
        return PL_ERR_NOMEM;
    }
    for (int a = 0; a < s->n_aliases; a++) {
        if (strcmp(s->aliases[a], name) != 0) continue;
        if (s->alias_paths[a][0] == '\0' && where[0] != '\0') { /* a legacy alias learns its path */
            pl_free(s->alias_paths[a]);
            s->alias_paths[a] = where;
        } else {
            pl_free(where);
        }
        pl_free(name);
        return PL_OK;
    }
    if (s->n_aliases == s->cap_aliases) {
        const int cap = s->cap_aliases ? 2 * s->cap_aliases : 16;
        char **names = pl_realloc(s->aliases, (size_t)cap, sizeof *names, err);
        if (names != NULL) s->aliases = names;
        char **paths = names ? pl_realloc(s->alias_paths, (size_t)cap, sizeof *paths, err) : NULL;
        if (paths == NULL) {
            pl_free(name);
            pl_free(where);
            return PL_ERR_NOMEM;
        }
        s->alias_paths = paths, s->cap_aliases = cap;
    }
    s->aliases[s->n_aliases] = name;
    s->alias_paths[s->n_aliases++] = where;
    return PL_OK;
}

static void forget(pl_exp_state *s) {
    for (int a = 0; a < s->n_aliases; a++) {
        pl_free(s->aliases[a]);
        pl_free(s->alias_paths[a]);
    }
    pl_free(s->aliases);
    pl_free(s->alias_paths);
    pl_free(s->spec_path);
    const bool damaged = s->damaged;
    char why[sizeof s->why];
    memcpy(why, s->why, sizeof why);
    memset(s, 0, sizeof *s);
    s->damaged = damaged;
    memcpy(s->why, why, sizeof why);
}

void pl_exp_state_free(pl_exp_state *s) {
    forget(s);
    s->damaged = false;
    s->why[0] = '\0';
}

void pl_exp_state_lock_path(const char *exp_dir, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/experiment.lock", exp_dir);
}

/* A number that is all of value. */
static bool number(const char *value, double *out) {
    char *end;
    *out = strtod(value, &end);
    return end != value && *end == '\0';
}

/* One key<TAB>value line into s: PL_OK, PL_ERR_FORMAT (why says what) or out of memory. */
static pl_status read_line(char *line, pl_exp_state *s, char *why, size_t cap, pl_error *err) {
    char *tab = strchr(line, '\t');
    if (tab == NULL) return snprintf(why, cap, "a line without a tab"), PL_ERR_FORMAT;
    *tab = '\0';
    char *value = tab + 1;
    double v;
    if (strcmp(line, "spec_sha256") == 0) {
        if (value[0] != '\0' && !pl_is_sha256_hex(value)) return snprintf(why, cap, "spec_sha256 is not a SHA-256"), PL_ERR_FORMAT;
        snprintf(s->spec_sha256, sizeof s->spec_sha256, "%s", value);
    } else if (strcmp(line, "spec_path") == 0) {
        pl_free(s->spec_path);
        if ((s->spec_path = value[0] ? pl_strdup(value, err) : NULL) == NULL && value[0]) return PL_ERR_NOMEM;
    } else if (strcmp(line, "started") == 0 || strcmp(line, "jobs") == 0 || strcmp(line, "threads") == 0) {
        if (!number(value, &v)) return snprintf(why, cap, "%s is not a number", line), PL_ERR_FORMAT;
        if (line[0] == 's') s->started = v;
        else if (line[0] == 'j') s->jobs = (int)v;
        else s->threads = (int)v;
    } else if (strcmp(line, "axis") == 0) {
        char *path = strchr(value, '\t');
        if (path == NULL || value == path) return snprintf(why, cap, "an axis line without alias and path"), PL_ERR_FORMAT;
        *path++ = '\0';
        return pl_exp_state_add_alias(s, value, path, err);
    } else if (strcmp(line, "aliases") == 0) { /* written before axis lines: no paths */
        for (char *item = value; item && *item;) {
            char *next = strchr(item, '\t');
            if (next) *next++ = '\0';
            PL_TRY(pl_exp_state_add_alias(s, item, "", err));
            item = next;
        }
    } else if (strcmp(line, "runs") != 0) { /* runs: written before every run folder counted */
        return snprintf(why, cap, "an unknown key '%.40s'", line), PL_ERR_FORMAT;
    }
    return PL_OK;
}

/* Parses text (modified) into out; PL_ERR_FORMAT with why when it is not a sound state. */
static pl_status parse(char *text, size_t len, pl_exp_state *out, char *why, size_t cap, pl_error *err) {
    size_t body;
    bool sealed;
    if (pl_seal_check(text, len, &body, &sealed, why, cap) != PL_OK) return PL_ERR_FORMAT;
    text[body] = '\0';
    bool spec = false;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl == NULL) return snprintf(why, cap, "its last line is cut off"), PL_ERR_FORMAT;
        *nl = '\0';
        spec = spec || strncmp(line, "spec_sha256\t", 12) == 0;
        PL_TRY(read_line(line, out, why, cap, err));
        line = nl + 1;
    }
    if (!spec) return snprintf(why, cap, "it has no spec_sha256 line"), PL_ERR_FORMAT;
    /* axis lines came with the seal: a state that has them but no seal was cut short */
    if (!sealed && out->n_aliases > 0 && out->alias_paths[0][0] != '\0')
        return snprintf(why, cap, "its seal is missing (cut short?)"), PL_ERR_FORMAT;
    return PL_OK;
}

pl_status pl_exp_state_read(const char *exp_dir, pl_exp_state *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    char path[4096], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/experiment.state", exp_dir);
    if (!pl_file_exists(path)) return PL_OK;
    pl_error why;
    pl_error_clear(&why);
    if (pl_read_file(path, &text, &len, &why) != PL_OK) {
        out->damaged = true;
        snprintf(out->why, sizeof out->why, "%.250s", why.message);
        return PL_OK;
    }
    pl_status st = strlen(text) == len ? parse(text, len, out, out->why, sizeof out->why, err)
                                       : (snprintf(out->why, sizeof out->why, "it holds a NUL byte"), PL_ERR_FORMAT);
    pl_free(text);
    if (st == PL_ERR_FORMAT) {
        out->damaged = true;
        forget(out);
        return PL_OK;
    }
    if (st != PL_OK) pl_exp_state_free(out);
    return st;
}

pl_status pl_exp_state_write(const char *exp_dir, const pl_exp_state *s, pl_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/experiment.state", exp_dir);
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_strbuf_printf(&sb, "spec_sha256\t%s\nspec_path\t", s->spec_sha256);
    cfg_strbuf_put_field(&sb, s->spec_path);
    cfg_strbuf_printf(&sb, "\nstarted\t%.3f\njobs\t%d\nthreads\t%d\n", s->started, s->jobs, s->threads);
    for (int a = 0; a < s->n_aliases; a++) {
        cfg_strbuf_puts(&sb, "axis\t");
        cfg_strbuf_put_field(&sb, s->aliases[a]);
        cfg_strbuf_putc(&sb, '\t');
        cfg_strbuf_put_field(&sb, s->alias_paths[a]);
        cfg_strbuf_putc(&sb, '\n');
    }
    const pl_status st = pl_write_sealed(path, &sb, err);
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
