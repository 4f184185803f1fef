/* gnuplot_run.h - running gnuplot on a script file: fork, chdir into the script's directory,
 * exec gnuplot with the script's name as its only argument (no shell, nothing interpolated),
 * gnuplot's output going to a log file; wait for it. */
#ifndef PL_IO_GNUPLOT_RUN_H
#define PL_IO_GNUPLOT_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* True when program (a path, or a name looked up in PATH) is an executable file. */
bool pl_gnuplot_available(const char *program);

/* Runs `program script` in dir, stdout and stderr to dir/log (names relative to dir).
 * A non-zero exit is PL_ERR_IO with the log's last lines in the message. */
pl_status pl_gnuplot_run(const char *program, const char *dir, const char *script, const char *log, pl_error *err);

#endif
