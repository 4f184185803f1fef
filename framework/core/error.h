/* error.h - the status codes and error record every library function reports through.
 *
 * Library code never exits: a failing function fills a pl_error (when the caller gave
 * one), returns its status, and the caller decides. The message is a sentence a user can
 * act on; the source location says where in prunelab the problem was detected. */
#ifndef PL_CORE_ERROR_H
#define PL_CORE_ERROR_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    PL_OK = 0,
    PL_ERR_NOMEM,      /* an allocation failed */
    PL_ERR_IO,         /* a file could not be opened, read or written */
    PL_ERR_FORMAT,     /* a file's contents are malformed */
    PL_ERR_CONFIG,     /* a configuration is invalid */
    PL_ERR_INVALID,    /* an argument is outside what the function accepts */
    PL_ERR_NUMERIC,    /* a NaN, an infinity or a divergence */
    PL_ERR_MISSING,    /* a required package, file or dataset is absent */
    PL_ERR_INTERNAL    /* a broken invariant: a bug in prunelab */
} pl_status;

typedef struct {
    pl_status status;
    const char *src_file; /* where in prunelab the error was raised */
    int src_line;
    char message[1024];
} pl_error;

/* Records status and a printf-style message in err (if non-NULL) and returns status. */
pl_status pl_error_set(pl_error *err, pl_status status, const char *src_file, int src_line,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Prefixes the existing message with more context: "context: old message". */
pl_status pl_error_wrap(pl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void pl_error_clear(pl_error *err);
const char *pl_status_name(pl_status status);

/* True when the environment asks for prunelab's own source locations in messages:
 * PRUNELAB_DEBUG set to anything but "" or "0". */
bool pl_error_debug(void);

/* "prunelab: <status>: <message>", plus "(raised at framework/...c:N)" on a second line when
 * pl_error_debug() (the location helps a prunelab developer, not a user). */
void pl_error_print(FILE *out, const pl_error *err);

#define PL_ERROR(err, status, ...) pl_error_set((err), (status), __FILE__, __LINE__, __VA_ARGS__)

/* Evaluates expr (a pl_status); on failure returns it from the calling function. */
#define PL_TRY(expr)                                                                      \
    do {                                                                                  \
        pl_status pl_try_status_ = (expr);                                                \
        if (pl_try_status_ != PL_OK) return pl_try_status_;                               \
    } while (0)

#endif
