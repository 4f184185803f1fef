/* cache_seal.c - sealing cache entries with their content hashes and checking them before
 * reuse (see cache_seal.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/cache_seal.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/cache.h"
#include "engine/fsutil.h"
#include "engine/record.h"
#include "model/checkpoint.h"

enum { SEAL_PATH_MAX = 4096, HEX = 64 };

typedef struct {
    char model[SEAL_PATH_MAX], metrics[SEAL_PATH_MAX], seal[SEAL_PATH_MAX];
} entry_paths;

static void paths_of(const char *results, const char *key, entry_paths *p) {
    pl_cache_model_path(results, key, p->model, sizeof p->model);
    pl_cache_record_path(results, key, p->metrics, sizeof p->metrics);
    snprintf(p->seal, sizeof p->seal, "%s/cache/%s.sha256", results, key);
}

/* The file name after the last '/'. */
static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

pl_status pl_cache_seal(const char *results, const char *key, pl_error *err) {
    entry_paths p;
    paths_of(results, key, &p);
    char model_hash[HEX + 1], metrics_hash[HEX + 1];
    PL_TRY(pl_file_sha256(p.model, model_hash, err));
    PL_TRY(pl_file_sha256(p.metrics, metrics_hash, err));
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_strbuf_printf(&sb, "%s  %s\n%s  %s\n", model_hash, base_name(p.model), metrics_hash,
                      base_name(p.metrics));
    pl_status st = cfg_strbuf_check(&sb, err);
    if (st == PL_OK) st = pl_write_atomic(p.seal, sb.data, sb.len, err);
    cfg_strbuf_free(&sb);
    return st;
}

pl_status pl_cache_unseal(const char *results, const char *key, pl_error *err) {
    entry_paths p;
    paths_of(results, key, &p);
    if (unlink(p.seal) != 0 && errno != ENOENT)
        return PL_ERROR(err, PL_ERR_IO, "cannot remove the stale cache seal %s: %s", p.seal, strerror(errno));
    return PL_OK;
}

/* The hash the seal text records for file name, or false when it has no such line. */
static bool sealed_hash(const char *seal, const char *name, char out[HEX + 1]) {
    for (const char *line = seal; *line; ) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t name_len = strlen(name);
        if (len == HEX + 2 + name_len && line[HEX] == ' ' && line[HEX + 1] == ' ' &&
            memcmp(line + HEX + 2, name, name_len) == 0) {
            memcpy(out, line, HEX);
            out[HEX] = '\0';
            return true;
        }
        if (end == NULL) break;
        line = end + 1;
    }
    return false;
}

/* Why the sealed entry is unusable (NULL when it is good), into why. */
static const char *check_sealed(const entry_paths *p, const char *seal, char *why, size_t cap,
                                const char **bad_file) {
    const char *files[2] = {p->model, p->metrics};
    for (int i = 0; i < 2; i++) {
        char want[HEX + 1], have[HEX + 1];
        *bad_file = files[i];
        if (!sealed_hash(seal, base_name(files[i]), want)) {
            snprintf(why, cap, "its seal %s has no line for it", p->seal);
            return why;
        }
        pl_error read_err;
        if (pl_file_sha256(files[i], have, &read_err) != PL_OK) {
            snprintf(why, cap, "it cannot be read (%s)", read_err.message);
            return why;
        }
        if (strcmp(have, want) != 0) {
            snprintf(why, cap, "its SHA-256 %.12s... differs from the %.12s... recorded in %s when it "
                     "was written", have, want, p->seal);
            return why;
        }
    }
    return NULL;
}

/* Why the unsealed entry is unreadable (NULL when the model loads and the metrics parse). */
static const char *check_unsealed(const entry_paths *p, char *why, size_t cap, const char **bad_file) {
    pl_error read_err;
    vlm m;
    memset(&m, 0, sizeof m);
    *bad_file = p->model;
    pl_status st = vlm_load(&m, p->model, 1, &read_err);
    vlm_free(&m);
    if (st == PL_OK) {
        *bad_file = p->metrics;
        pl_record rec;
        pl_record_init(&rec);
        st = pl_record_load(&rec, p->metrics, &read_err);
        pl_record_free(&rec);
    }
    if (st == PL_OK) return NULL;
    snprintf(why, cap, "it does not read back (%s)", read_err.message);
    return why;
}

/* Renames path to path.corrupt-<stamp> when it exists. */
static pl_status move_aside(const char *path, const char *stamp, pl_error *err) {
    char target[SEAL_PATH_MAX + 64];
    snprintf(target, sizeof target, "%s.corrupt-%s", path, stamp);
    if (rename(path, target) != 0 && errno != ENOENT)
        return PL_ERROR(err, PL_ERR_IO, "cannot move the corrupt cache file %s aside to %s: %s; "
                        "delete it by hand", path, target, strerror(errno));
    return PL_OK;
}

pl_status pl_cache_check(const char *results, const char *key, FILE *log, pl_entry_state *state,
                         pl_error *err) {
    entry_paths p;
    paths_of(results, key, &p);
    *state = PL_ENTRY_ABSENT;
    if (!pl_cache_has(results, key)) return PL_OK;
    char *seal = NULL, why[SEAL_PATH_MAX + 1200];
    const char *bad_file = NULL, *problem;
    bool sealed = pl_read_file(p.seal, &seal, NULL, NULL) == PL_OK;
    problem = sealed ? check_sealed(&p, seal, why, sizeof why, &bad_file)
                     : check_unsealed(&p, why, sizeof why, &bad_file);
    pl_free(seal);
    if (problem == NULL) {
        *state = PL_ENTRY_GOOD;
        return sealed ? PL_OK : pl_cache_seal(results, key, err);
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    PL_TRY(move_aside(p.model, stamp, err));
    PL_TRY(move_aside(p.metrics, stamp, err));
    PL_TRY(move_aside(p.seal, stamp, err));
    if (log != NULL) {
        fprintf(log, "warning: cache entry %s is corrupt: %s; moved aside as *.corrupt-%s, "
                "computing the stage again\n", bad_file, problem, stamp);
        fflush(log);
    }
    *state = PL_ENTRY_MOVED_ASIDE;
    return PL_OK;
}
