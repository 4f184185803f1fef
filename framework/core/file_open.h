/* file_open.h - opening a named file for reading without ever blocking in open().
 *
 * open(2) of a FIFO for reading waits for a writer, forever if none comes; a device or a
 * socket is no file to read either. Every reader of a user-named path opens it through
 * pl_open_read: the open is non-blocking, fstat decides, and anything but a regular file
 * (or a directory, where the caller takes one) is refused with a sentence that says what
 * the path is. Readers that open by name inside a library (HDF5) call pl_check_regular
 * first. */
#ifndef PL_CORE_FILE_OPEN_H
#define PL_CORE_FILE_OPEN_H

#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"

/* What a file type is called in messages ("a FIFO (named pipe)", "a directory", ...) for
 * an st_mode. */
const char *pl_file_type_name(unsigned mode);

/* How pl_open_read treats what it finds. */
enum {
    PL_OPEN_DIR = 1,     /* a directory is accepted too */
    PL_OPEN_DATASET = 2  /* an absent path is PL_ERR_MISSING (a dataset to install), not PL_ERR_IO */
};

/* Opens path read-only; *fd is a blocking descriptor of a regular file (or of a directory
 * with PL_OPEN_DIR). Anything else is PL_ERR_IO naming the path and what it is. `what` names
 * the file in messages ("the TSV", "checkpoint"; NULL: the path alone). */
pl_status pl_open_read(const char *path, const char *what, int flags, int *fd, pl_error *err);

/* The same as a stdio stream ("rb"); flags as above, but for PL_OPEN_DIR. */
pl_status pl_fopen_read(const char *path, const char *what, int flags, FILE **out, pl_error *err);

/* PL_OK when path is a regular file (stat only: for readers that open it by name). */
pl_status pl_check_regular(const char *path, pl_error *err);

#endif
