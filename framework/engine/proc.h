/* proc.h - running an external command (sbatch, squeue, sinfo, scancel) and reading what it
 * printed: no shell, so no quoting of its arguments.
 *
 *   char path[4096], out[8192];
 *   int status;
 *   if (pl_proc_find("sbatch", path, sizeof path)) {
 *       const char *argv[] = {path, "--parsable", "job.sh", NULL};
 *       PL_TRY(pl_proc_capture(argv, out, sizeof out, &status, err));
 *   }
 */
#ifndef PL_ENGINE_PROC_H
#define PL_ENGINE_PROC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* The executable `name` on PATH, as a path in buf; false when there is none. */
bool pl_proc_find(const char *name, char *buf, size_t cap);

/* Runs argv[0] (a path) with argv, waits for it, and puts its stdout and stderr, interleaved
 * and NUL-terminated (cut at cap - 1 bytes), in out; *exit_status is its exit status (128 + n
 * when signal n killed it). Fails only when it cannot be started. */
pl_status pl_proc_capture(const char *const argv[], char *out, size_t cap, int *exit_status, pl_error *err);

#endif
