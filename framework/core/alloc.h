/* alloc.h - checked allocation: every request either succeeds or reports why it failed.
 *
 * Sizes are computed with overflow checks; buffers for numeric data are 64-byte aligned so
 * vector loads never straddle cache lines. Free everything with pl_free. */
#ifndef PL_CORE_ALLOC_H
#define PL_CORE_ALLOC_H

#include <stddef.h>

#include "core/error.h"

/* Allocates count*size bytes (64-byte aligned, zero-filled); NULL and err set on failure. */
void *pl_alloc(size_t count, size_t size, pl_error *err);

/* Resizes a block (contents kept up to the smaller size; new bytes not zeroed; the result is
 * only malloc-aligned, so use it for growable arrays, not numeric buffers). */
void *pl_realloc(void *ptr, size_t count, size_t size, pl_error *err);

/* Duplicates a NUL-terminated string. */
char *pl_strdup(const char *s, pl_error *err);

void pl_free(void *ptr);

#endif
