/* timing.c - CLOCK_MONOTONIC in seconds. */
#define _POSIX_C_SOURCE 200809L
#include "core/timing.h"

#include <time.h>

double pl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
