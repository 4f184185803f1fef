/* fsutil.h - the small file-system operations the engine is built on: whole-file atomic
 * writes (temporary file in the same directory, fsync, rename), reading a small file,
 * creating directories with their parents, content hashes of files and directories, and
 * wall-clock time. */
#ifndef PL_ENGINE_FSUTIL_H
#define PL_ENGINE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "config/strbuf.h"
#include "core/error.h"

/* Replaces path with the bytes; a reader sees the old file or the new one, never a part. */
pl_status pl_write_atomic(const char *path, const char *bytes, size_t n, pl_error *err);

/* Reads the whole file (NUL-terminated; free with pl_free). */
pl_status pl_read_file(const char *path, char **out, size_t *len, pl_error *err);

/* mkdir -p. */
pl_status pl_mkdirs(const char *path, pl_error *err);

bool pl_file_exists(const char *path);

/* SHA-256 of a whole file's contents, as 64 hex digits. */
pl_status pl_file_sha256(const char *path, char out[65], pl_error *err);

/* SHA-256 over the files of a directory whose names end in suffix, in byte order of their
 * names: each file's name and contents' SHA-256 chained into the digest, so renaming,
 * adding, removing or editing any of them changes it. */
pl_status pl_dir_sha256(const char *dir, const char *suffix, char out[65], pl_error *err);

/* Content hashes remembered by path for the length of one computation, so a sweep whose
 * runs all name the same teacher file or data hashes it once. Zero-initialise; free with
 * pl_hash_memo_free. */
typedef struct {
    int count, cap;
    struct pl_hash_memo_entry {
        char *path;
        char hash[65];
    } *entries;
    bool frozen; /* set: lookups only, nothing added (then several threads may share it) */
} pl_hash_memo;

/* The content hash of path: pl_dir_sha256(path, dir_suffix) for a directory, else
 * pl_file_sha256; looked up in memo first and remembered there (memo may be NULL). With
 * dir_suffix NULL only a file is accepted: a directory is an error naming it. */
pl_status pl_content_sha256(pl_hash_memo *memo, const char *path, const char *dir_suffix,
                            char out[65], pl_error *err);
void pl_hash_memo_free(pl_hash_memo *memo);

/* Sealed text files (experiment.state, a run's record): the last line, "sha256<TAB><64 hex>",
 * holds the SHA-256 of every byte before it, so a file cut short or edited is told from the
 * one written. pl_write_sealed appends that line to sb's text and writes path atomically
 * (sb is left holding the sealed text); pl_seal_check finds it: PL_OK with *body the length
 * of what it seals, or *sealed false (body = len) when the text has no seal line at all;
 * PL_ERR_FORMAT with why when the seal does not match or is not the last line. */
pl_status pl_write_sealed(const char *path, cfg_strbuf *sb, pl_error *err);
pl_status pl_seal_check(const char *text, size_t len, size_t *body, bool *sealed, char *why, size_t cap);

/* Whether s is 64 lowercase hex digits (a SHA-256 as prunelab writes it). */
bool pl_is_sha256_hex(const char *s);

/* Seconds since the Unix epoch (wall clock, for status files). */
double pl_wall_time(void);

#endif
