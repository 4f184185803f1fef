/* fsutil.c - atomic whole-file writes, small-file reads, mkdir -p, content hashes,
 * wall-clock time. */
#define _POSIX_C_SOURCE 200809L
#include "engine/fsutil.h"

#include "config/hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/file_open.h"

pl_status pl_write_atomic(const char *path, const char *bytes, size_t n, pl_error *err) {
    size_t cap = strlen(path) + 32;
    char *tmp = pl_alloc(cap, 1, err);
    if (tmp == NULL) return PL_ERR_NOMEM;
    snprintf(tmp, cap, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        pl_status st = PL_ERROR(err, PL_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        pl_free(tmp);
        return st;
    }
    size_t done = 0;
    int ok = fchmod(fd, 0644) == 0;
    while (ok && done < n) {
        ssize_t w = write(fd, bytes + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) ok = 0;
        else done += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0) {
        saved = errno;
        ok = 0;
    }
    if (!ok) {
        unlink(tmp);
        pl_free(tmp);
        return PL_ERROR(err, PL_ERR_IO, "%s: cannot write: %s", path, strerror(saved ? saved : EIO));
    }
    pl_free(tmp);
    return PL_OK;
}

pl_status pl_read_file(const char *path, char **out, size_t *len, pl_error *err) {
    *out = NULL;
    FILE *f;
    PL_TRY(pl_fopen_read(path, NULL, 0, &f, err));
    size_t cap = 4096, n = 0;
    char *buf = pl_realloc(NULL, cap, 1, err);
    pl_status st = buf ? PL_OK : PL_ERR_NOMEM;
    while (st == PL_OK) {
        if (n + 1 >= cap) {
            char *bigger = pl_realloc(buf, cap * 2, 1, err);
            if (bigger == NULL) {
                st = PL_ERR_NOMEM;
                break;
            }
            buf = bigger, cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = PL_ERROR(err, PL_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st != PL_OK) {
        pl_free(buf);
        return st;
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return PL_OK;
}

pl_status pl_mkdirs(const char *path, pl_error *err) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return PL_ERROR(err, PL_ERR_INVALID, "directory path '%s' is empty or too long", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return PL_ERROR(err, PL_ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return PL_OK;
}

bool pl_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

double pl_wall_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

pl_status pl_file_sha256(const char *path, char out[65], pl_error *err) {
    char *bytes;
    size_t len;
    PL_TRY(pl_read_file(path, &bytes, &len, err));
    pl_status st = cfg_sha256_hex(bytes, len, out, err);
    free(bytes);
    return st;
}

/* The remembered hash of path, if any. */
static bool memo_get(const pl_hash_memo *memo, const char *path, char out[65]) {
    for (int i = 0; memo != NULL && i < memo->count; i++)
        if (strcmp(memo->entries[i].path, path) == 0) {
            memcpy(out, memo->entries[i].hash, 65);
            return true;
        }
    return false;
}

pl_status pl_content_sha256(pl_hash_memo *memo, const char *path, const char *dir_suffix,
                            char out[65], pl_error *err) {
    if (memo_get(memo, path, out)) return PL_OK;
    struct stat sb;
    bool dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (dir && dir_suffix == NULL)
        return PL_ERROR(err, PL_ERR_IO, "%s is a directory where a file was expected", path);
    PL_TRY(dir ? pl_dir_sha256(path, dir_suffix, out, err) : pl_file_sha256(path, out, err));
    if (memo == NULL || memo->frozen) return PL_OK;
    if (memo->count == memo->cap) {
        int cap = memo->cap ? 2 * memo->cap : 4;
        void *grown = realloc(memo->entries, (size_t)cap * sizeof *memo->entries);
        if (grown == NULL) return PL_ERROR(err, PL_ERR_NOMEM, "out of memory remembering a file hash");
        memo->entries = grown, memo->cap = cap;
    }
    char *copy = strdup(path);
    if (copy == NULL) return PL_ERROR(err, PL_ERR_NOMEM, "out of memory remembering a file hash");
    memo->entries[memo->count].path = copy;
    memcpy(memo->entries[memo->count].hash, out, 65);
    memo->count++;
    return PL_OK;
}

void pl_hash_memo_free(pl_hash_memo *memo) {
    for (int i = 0; i < memo->count; i++) free(memo->entries[i].path);
    free(memo->entries);
    memset(memo, 0, sizeof *memo);
}

static int by_name(const struct dirent **a, const struct dirent **b) {
    return strcmp((*a)->d_name, (*b)->d_name);
}

pl_status pl_dir_sha256(const char *dir, const char *suffix, char out[65], pl_error *err) {
    struct dirent **list;
    int n = scandir(dir, &list, NULL, by_name);
    if (n < 0) return PL_ERROR(err, PL_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    pl_status st = cfg_sha256_hex("", 0, out, err);
    const size_t suffix_len = strlen(suffix);
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        size_t len = strlen(name);
        if (st == PL_OK && len > suffix_len && strcmp(name + len - suffix_len, suffix) == 0) {
            char path[4096], file_hash[65], chained[65 + sizeof list[i]->d_name + 66];
            if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
                st = PL_ERROR(err, PL_ERR_IO, "the path %s/%s is too long", dir, name);
            if (st == PL_OK) st = pl_file_sha256(path, file_hash, err);
            if (st == PL_OK) {
                int used = snprintf(chained, sizeof chained, "%s%s\t%s\n", out, name, file_hash);
                st = cfg_sha256_hex(chained, (size_t)used, out, err);
            }
        }
        free(list[i]);
    }
    free(list);
    return st;
}

bool pl_is_sha256_hex(const char *s) { return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64; }

enum { SEAL_LINE = 72 }; /* "sha256\t" + 64 hex + "\n" */

static pl_status seal_line(const char *text, size_t len, char out[SEAL_LINE + 1], pl_error *err) {
    char hex[65];
    PL_TRY(cfg_sha256_hex(text, len, hex, err));
    snprintf(out, SEAL_LINE + 1, "sha256\t%s\n", hex);
    return PL_OK;
}

pl_status pl_write_sealed(const char *path, cfg_strbuf *sb, pl_error *err) {
    char seal[SEAL_LINE + 1];
    PL_TRY(cfg_strbuf_check(sb, err));
    PL_TRY(seal_line(sb->data ? sb->data : "", sb->len, seal, err));
    cfg_strbuf_puts(sb, seal);
    PL_TRY(cfg_strbuf_check(sb, err));
    return pl_write_atomic(path, sb->data, sb->len, err);
}

pl_status pl_seal_check(const char *text, size_t len, size_t *body, bool *sealed, char *why, size_t cap) {
    *body = len, *sealed = false;
    const char *seal = len >= SEAL_LINE ? text + len - SEAL_LINE : NULL;
    if (seal != NULL && (seal == text || seal[-1] == '\n') && strncmp(seal, "sha256\t", 7) == 0) {
        char want[SEAL_LINE + 1];
        if (seal_line(text, (size_t)(seal - text), want, NULL) != PL_OK) {
            snprintf(why, cap, "its seal cannot be computed");
            return PL_ERR_FORMAT;
        }
        if (memcmp(want, seal, SEAL_LINE) != 0) {
            snprintf(why, cap, "its seal does not match its text (changed or cut short since it was written)");
            return PL_ERR_FORMAT;
        }
        *body = (size_t)(seal - text), *sealed = true;
        return PL_OK;
    }
    if (strncmp(text, "sha256\t", 7) == 0 || strstr(text, "\nsha256\t") != NULL) {
        snprintf(why, cap, "its seal is not its last line");
        return PL_ERR_FORMAT;
    }
    return PL_OK;
}
