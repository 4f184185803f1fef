/* h5_lock.h - the one process-wide lock around every HDF5 call prunelab makes, and the
 * translation of HDF5 failures into pl_error messages.
 *
 * Debian's libhdf5 (serial) is built without --enable-threadsafe: two threads inside the
 * library at once corrupt its global state even when they touch different files. The
 * engine runs several stages concurrently (OpenMP), each writing its own metrics.h5, so
 * every entry into HDF5 from prunelab happens between pl_h5_lock() and pl_h5_unlock().
 * This lock is the single piece of global mutable state the library allows itself.
 * The lock is not recursive: public io/ functions take it once at entry; the static
 * helpers they call assume it is held. */
#ifndef PL_IO_H5_LOCK_H
#define PL_IO_H5_LOCK_H

#include <stddef.h>

/* Takes the lock and turns off HDF5's own printing of its error stack to stderr (prunelab
 * reports errors itself). */
void pl_h5_lock(void);
void pl_h5_unlock(void);

/* Writes into buf the most specific message on HDF5's current error stack (the innermost
 * function that failed), or "no detail from HDF5". Call with the lock held, right after
 * the failing call. */
void pl_h5_error_detail(char *buf, size_t cap);

#endif
