/* alloc.c - checked, overflow-safe allocation. */
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { PL_ALIGNMENT = 64 };

static int multiply_overflows(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 1;
    *out = a * b;
    return 0;
}

void *pl_alloc(size_t count, size_t size, pl_error *err) {
    size_t bytes;
    if (multiply_overflows(count, size, &bytes)) {
        PL_ERROR(err, PL_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    if (bytes == 0) bytes = PL_ALIGNMENT;
    if (bytes > SIZE_MAX - PL_ALIGNMENT) {
        PL_ERROR(err, PL_ERR_NOMEM, "allocation of %zu bytes is too large", bytes);
        return NULL;
    }
    size_t rounded = (bytes + PL_ALIGNMENT - 1) / PL_ALIGNMENT * PL_ALIGNMENT;
    void *p = aligned_alloc(PL_ALIGNMENT, rounded);
    if (p == NULL) {
        PL_ERROR(err, PL_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
        return NULL;
    }
    memset(p, 0, rounded);
    return p;
}

void *pl_realloc(void *ptr, size_t count, size_t size, pl_error *err) {
    size_t bytes;
    if (multiply_overflows(count, size, &bytes)) {
        PL_ERROR(err, PL_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = realloc(ptr, bytes ? bytes : 1);
    if (p == NULL) PL_ERROR(err, PL_ERR_NOMEM, "out of memory growing a block to %zu bytes", bytes);
    return p;
}

char *pl_strdup(const char *s, pl_error *err) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p == NULL) {
        PL_ERROR(err, PL_ERR_NOMEM, "out of memory copying a string of %zu bytes", n);
        return NULL;
    }
    memcpy(p, s, n);
    return p;
}

void pl_free(void *ptr) { free(ptr); }
