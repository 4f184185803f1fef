/* h5_lock.c - the process-wide HDF5 mutex (see h5_lock.h for why it exists) and reading the
 * innermost message from HDF5's error stack. */
#define _POSIX_C_SOURCE 200809L
#include "io/h5_lock.h"

#include <hdf5.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The documented exception to "no global mutable state": serialises all HDF5 calls. */
static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;

void pl_h5_lock(void) {
    pthread_mutex_lock(&h5_mutex);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void pl_h5_unlock(void) { pthread_mutex_unlock(&h5_mutex); }

typedef struct {
    char *buf;
    size_t cap;
    int found;
} detail_walk;

/* Walking upward visits the innermost (most specific) failure first; keep only that one. */
static herr_t keep_first(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    detail_walk *w = data;
    if (w->found || e->desc == NULL || e->desc[0] == '\0') return 0;
    snprintf(w->buf, w->cap, "%s", e->desc);
    w->found = 1;
    return 0;
}

void pl_h5_error_detail(char *buf, size_t cap) {
    if (cap == 0) return;
    detail_walk w = {buf, cap, 0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first, &w);
    if (!w.found) snprintf(buf, cap, "no detail from HDF5");
}
