/* provenance.h - facts about the machine, build and moment a run was made, as text for the
 * metrics file: host name, CPU model, compiler, compile flags, UTC timestamps.
 *
 * The git commit and dirty flag are not found here: the library never runs programs, so
 * the caller (the command line) supplies them. */
#ifndef PL_IO_PROVENANCE_H
#define PL_IO_PROVENANCE_H

#include <stddef.h>

/* The Makefile may pass -DPL_BUILD_CFLAGS='"..."' when compiling provenance.c. */
#ifndef PL_BUILD_CFLAGS
#define PL_BUILD_CFLAGS "unknown"
#endif

/* gethostname(), or "unknown". */
void pl_host_name(char *buf, size_t cap);
/* The first "model name" line of /proc/cpuinfo, or "unknown". */
void pl_cpu_model(char *buf, size_t cap);
/* "gcc <__VERSION__>" (or the compiler's own __VERSION__ text). */
const char *pl_compiler_version(void);
/* The compile flags the library was built with, or "unknown". */
const char *pl_build_cflags(void);
/* The current time as ISO 8601 UTC with seconds, e.g. "2025-03-01T14:05:09Z". */
void pl_utc_now_iso8601(char *buf, size_t cap);

#endif
