/* lock.h - exclusive advisory locks that processes (and threads) on one machine take on a
 * lock file before doing work another might be doing too: computing a cache entry, writing
 * a run directory.
 *
 * They are fcntl open-file-description locks (F_OFD_SETLK, F_OFD_SETLKW) on the whole file.
 * The kernel drops such a lock when its open file description is closed, which happens when
 * the holder dies however it dies (kill -9 included), so a stale lock never blocks anyone:
 * no PID files, no timeouts, nothing to clean up. Lock files stay in place (deleting one
 * while another process waits on it would let two holders in). Every pl_lock_try /
 * pl_lock_wait opens the file anew, so two threads of one process exclude each other just as
 * two processes do. The descriptor is close-on-exec; a child made by fork() while a lock is
 * held shares that lock until it exits, so take locks in the process that does the work.
 *
 *   pl_lock lock;
 *   bool held;
 *   PL_TRY(pl_lock_try("results/cache/<key>.lock", &lock, &held, err));
 *   if (!held) PL_TRY(pl_lock_wait("results/cache/<key>.lock", &lock, err));
 *   ... the work ...
 *   pl_lock_release(&lock);
 */
#ifndef PL_ENGINE_LOCK_H
#define PL_ENGINE_LOCK_H

#include <stdbool.h>

#include "core/error.h"

typedef struct {
    int fd; /* -1 when not held */
} pl_lock;

/* Takes the lock on path (creating the file) if nobody holds it; *held says whether it did.
 * Fails only when the file cannot be opened or locked for another reason. */
pl_status pl_lock_try(const char *path, pl_lock *lock, bool *held, pl_error *err);

/* Takes the lock on path, waiting as long as another holder has it. */
pl_status pl_lock_wait(const char *path, pl_lock *lock, pl_error *err);

/* Whether some open file description (another process, or another pl_lock of this one)
 * holds the lock on path, without taking it (F_OFD_GETLK): for reports such as `prunelab
 * status`, which must never make a starting run find its lock busy. A missing lock file is
 * not held. The answer may be stale by the time it is read. */
pl_status pl_lock_query(const char *path, bool *held, pl_error *err);

/* Releases a held lock (a lock not held is left alone). */
void pl_lock_release(pl_lock *lock);

#endif
