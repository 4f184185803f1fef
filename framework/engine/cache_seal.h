/* cache_seal.h - the integrity of stage cache entries (engine/cache.h): a seal written after
 * an entry, checked before the entry is reused, and what happens to an entry that fails.
 *
 * The seal is results/cache/<key>.sha256, in sha256sum's format (so `cd results/cache &&
 * sha256sum -c <key>.sha256` checks it by hand):
 *   <64 hex>  <key>.safetensors
 *   <64 hex>  <key>.metrics.tsv
 * Order of writes: metrics, model, seal, each atomically (temporary file, fsync, rename). A
 * kill -9 between the model and the seal leaves a complete entry without a seal, which the
 * next check treats like an entry written before seals existed (below); it never leaves a
 * seal describing other bytes than the entry's.
 *
 * Checking an entry before reuse:
 *   sealed      both files' SHA-256 must match the seal.
 *   unsealed    (written before this check existed, or killed before its seal) trusted once
 *               if it is readable: the model loads (header, shapes, sizes) and the metrics
 *               parse; then its hashes are recorded as its seal, so any later change to it
 *               is caught. A bit flip made before that first check cannot be told from the
 *               real contents.
 * An entry that fails is reported (a warning line naming the file), its files are renamed
 * to <file>.corrupt-<UTC time> (kept for inspection, never read again) and the stage is
 * computed again; the run goes on. */
#ifndef PL_ENGINE_CACHE_SEAL_H
#define PL_ENGINE_CACHE_SEAL_H

#include <stdio.h>

#include "core/error.h"

typedef enum {
    PL_ENTRY_ABSENT,      /* no complete entry: compute the stage */
    PL_ENTRY_GOOD,        /* reuse it */
    PL_ENTRY_MOVED_ASIDE  /* it was corrupt and is gone now: compute the stage */
} pl_entry_state;

/* Writes <key>.sha256 for the entry's two files (after both are written). */
pl_status pl_cache_seal(const char *results, const char *key, pl_error *err);

/* Removes an entry's seal before the entry is rewritten, so a stale seal never describes
 * new files (absent seals are fine). */
pl_status pl_cache_unseal(const char *results, const char *key, pl_error *err);

/* Checks the entry as described above; log (may be NULL) gets the warning line when an
 * entry is moved aside. Fails only when the entry cannot be read or moved at all. */
pl_status pl_cache_check(const char *results, const char *key, FILE *log, pl_entry_state *state,
                         pl_error *err);

#endif
