/* invocation.c - the locked file a live invocation keeps under <exp_dir>/invocations/ (see
 * invocation.h).
 *
 * File format: a fixed-width first line rewritten in place as nodes end (the file keeps
 * its inode, so the lock on it stays), then one planned run id a line:
 *
 *   progress <done, 9 digits> <total, 9 digits> <started, 17 characters>
 *   <run id>
 *   ...
 */
#define _GNU_SOURCE /* pwrite, gethostname */
#include "engine/invocation.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "engine/fsutil.h"

enum { PROGRESS_LINE = 47 }; /* "progress " + 9 + " " + 9 + " " + 17 + "\n" */
static const char SUFFIX[] = ".runs";

static void folder_of(const char *exp_dir, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/invocations", exp_dir);
}

static bool is_record(const char *name) {
    size_t n = strlen(name), s = sizeof SUFFIX - 1;
    return name[0] != '.' && n > s && strcmp(name + n - s, SUFFIX) == 0;
}

/* The fixed-width progress line; false when a value does not fit its width. */
static bool progress_line(char out[64], int done, int total, double started) {
    return snprintf(out, 64, "progress %09d %09d %017.3f\n", done, total, started) == PROGRESS_LINE;
}

/* Calls visit(path, ctx) for each record file in folder (a missing folder has none) until
 * it returns something other than PL_OK. */
static pl_status each_record(const char *folder, pl_status (*visit)(const char *, void *), void *ctx) {
    DIR *d = opendir(folder);
    if (d == NULL) return PL_OK;
    struct dirent *ent;
    char path[1400];
    pl_status st = PL_OK;
    while (st == PL_OK && (ent = readdir(d)) != NULL) {
        if (!is_record(ent->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", folder, ent->d_name);
        st = visit(path, ctx);
    }
    closedir(d);
    return st;
}

/* A record nobody holds belongs to a killed invocation. Taking its lock before unlinking
 * means a live invocation's record is never removed. */
static pl_status remove_if_dead(const char *path, void *ctx) {
    (void)ctx;
    pl_lock lock;
    bool held;
    if (pl_lock_try(path, &lock, &held, NULL) == PL_OK && held) {
        unlink(path);
        pl_lock_release(&lock);
    }
    return PL_OK;
}

pl_status pl_invocation_begin(const char *exp_dir, const char *const *run_ids, int n_runs,
                              int nodes_total, pl_invocation *inv, pl_error *err) {
    memset(inv, 0, sizeof *inv);
    inv->lock.fd = -1;
    char folder[1100], host[128], name[200], tmp[1400];
    folder_of(exp_dir, folder, sizeof folder);
    PL_TRY(pl_mkdirs(folder, err));
    (void)each_record(folder, remove_if_dead, NULL);
    if (gethostname(host, sizeof host) != 0 || host[0] == '\0') snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/') *c = '_';
    inv->started = pl_wall_time();
    inv->nodes_total = nodes_total;
    inv->owner = getpid();
    snprintf(name, sizeof name, "%s-%ld-%.0f%s", host, (long)inv->owner, inv->started * 1e6, SUFFIX);
    snprintf(inv->path, sizeof inv->path, "%s/%s", folder, name);
    /* Made, locked and filled under a hidden name that readers and the dead-record sweep
     * skip, then renamed into place: the inode, and so the lock, stay the same, and nobody
     * sees a record half written or without its lock. */
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", folder, name);
    bool held;
    PL_TRY(pl_lock_try(tmp, &inv->lock, &held, err));
    if (!held) return PL_ERROR(err, PL_ERR_IO, "%s is locked by another process", tmp);
    FILE *f = fopen(tmp, "w"); /* a second description: closing it keeps the lock */
    pl_status st = PL_OK;
    if (f == NULL) {
        st = PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    } else {
        char line[64];
        if (!progress_line(line, 0, nodes_total, inv->started)) progress_line(line, 0, 0, 0.0);
        fputs(line, f);
        for (int r = 0; r < n_runs; r++) fprintf(f, "%s\n", run_ids[r]);
        if (fclose(f) != 0) st = PL_ERROR(err, PL_ERR_IO, "cannot write %s", tmp);
    }
    if (st == PL_OK && rename(tmp, inv->path) != 0)
        st = PL_ERROR(err, PL_ERR_IO, "cannot rename %s to %s: %s", tmp, inv->path, strerror(errno));
    if (st != PL_OK) {
        unlink(tmp);
        pl_lock_release(&inv->lock);
    }
    return st;
}

void pl_invocation_progress(pl_invocation *inv, int nodes_done) {
    if (inv->lock.fd < 0) return;
    char line[64];
    if (!progress_line(line, nodes_done, inv->nodes_total, inv->started)) return;
    /* One small write at offset 0 replaces the line whole; the lock's descriptor was opened
     * read-write. */
    (void)!pwrite(inv->lock.fd, line, PROGRESS_LINE, 0);
}

void pl_invocation_end(pl_invocation *inv) {
    if (inv->lock.fd < 0 || getpid() != inv->owner) return;
    unlink(inv->path); /* while still holding the lock, so no one reads a dead record */
    pl_lock_release(&inv->lock);
}

void pl_invocation_leave(pl_invocation *inv) {
    if (inv->lock.fd < 0 || getpid() == inv->owner) return;
    close(inv->lock.fd); /* the owner's descriptor keeps the description, and the lock */
    inv->lock.fd = -1;
}

static pl_status add_run(pl_live_invocations *live, const char *id, size_t len, pl_error *err) {
    if (live->n_runs == live->cap_runs) {
        int cap = live->cap_runs ? 2 * live->cap_runs : 64;
        char **grown = pl_realloc(live->runs, (size_t)cap, sizeof *grown, err);
        if (grown == NULL) return PL_ERR_NOMEM;
        live->runs = grown, live->cap_runs = cap;
    }
    char *copy = pl_alloc(len + 1, 1, err);
    if (copy == NULL) return PL_ERR_NOMEM;
    memcpy(copy, id, len);
    live->runs[live->n_runs++] = copy;
    return PL_OK;
}

/* One live record: its progress line and its run ids. */
static pl_status read_record(const char *path, pl_live_invocations *live, pl_error *err) {
    char *text;
    size_t len;
    if (pl_read_file(path, &text, &len, NULL) != PL_OK) return PL_OK; /* ended meanwhile */
    int done = 0, total = 0;
    double started = 0.0;
    pl_status st = PL_OK;
    if (sscanf(text, "progress %d %d %lf", &done, &total, &started) == 3) {
        live->n_live++;
        live->nodes_done += done, live->nodes_total += total;
        if (live->started == 0.0 || started < live->started) live->started = started;
        for (char *line = strchr(text, '\n'); line != NULL && st == PL_OK;) {
            char *start = line + 1, *end = strchr(start, '\n');
            if (end == NULL) break; /* a line still being written */
            if (end > start) st = add_run(live, start, (size_t)(end - start), err);
            line = end;
        }
    }
    pl_free(text);
    return st;
}

typedef struct {
    pl_live_invocations *live;
    pl_error *err;
} read_ctx;

static pl_status read_if_live(const char *path, void *ctx) {
    read_ctx *c = ctx;
    bool held = false;
    if (pl_lock_query(path, &held, NULL) != PL_OK || !held) return PL_OK;
    return read_record(path, c->live, c->err);
}

pl_status pl_invocations_read(const char *exp_dir, pl_live_invocations *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    char folder[1100];
    folder_of(exp_dir, folder, sizeof folder);
    read_ctx c = {out, err};
    pl_status st = each_record(folder, read_if_live, &c);
    if (st != PL_OK) pl_invocations_free(out);
    return st;
}

bool pl_invocations_plan(const pl_live_invocations *live, const char *run_id) {
    for (int i = 0; i < live->n_runs; i++)
        if (strcmp(live->runs[i], run_id) == 0) return true;
    return false;
}

void pl_invocations_free(pl_live_invocations *live) {
    for (int i = 0; i < live->n_runs; i++) pl_free(live->runs[i]);
    pl_free(live->runs);
    memset(live, 0, sizeof *live);
}
