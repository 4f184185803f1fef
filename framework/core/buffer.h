/* buffer.h - one flat float buffer per role, with named tensor views into it.
 *
 * A pl_layout lists named tensors (name, shape) and gives each an offset in one flat
 * array; every role (parameters, gradients, AdamW moments, masks) allocates a pl_buffer
 * over the same layout, so tensor i sits at the same offset in all of them. Offsets are
 * rounded up to 16 floats (64 bytes). */
#ifndef PL_CORE_BUFFER_H
#define PL_CORE_BUFFER_H

#include <stddef.h>

#include "core/error.h"

enum { PL_MAX_DIMS = 4, PL_NAME_MAX = 96 };

typedef struct {
    char name[PL_NAME_MAX];
    int ndim;
    int shape[PL_MAX_DIMS];
    size_t count;  /* product of shape */
    size_t offset; /* in floats, from the start of the buffer */
} pl_tensor_spec;

typedef struct {
    pl_tensor_spec *tensors;
    int count;
    int capacity;
    size_t total; /* floats needed by a buffer over this layout */
} pl_layout;

typedef struct {
    const pl_layout *layout; /* not owned */
    float *data;             /* layout->total floats, zero-initialised */
} pl_buffer;

void pl_layout_init(pl_layout *layout);
void pl_layout_free(pl_layout *layout);

/* Appends a tensor; returns its index through *index (may be NULL). Names must be unique. */
pl_status pl_layout_add(pl_layout *layout, const char *name, int ndim, const int *shape,
                        int *index, pl_error *err);

/* Index of the tensor called name, or -1. */
int pl_layout_find(const pl_layout *layout, const char *name);

pl_status pl_buffer_alloc(pl_buffer *buf, const pl_layout *layout, pl_error *err);
void pl_buffer_free(pl_buffer *buf);
void pl_buffer_zero(pl_buffer *buf);

/* Pointer to tensor index's first element. */
static inline float *pl_buffer_view(const pl_buffer *buf, int index) {
    return buf->data + buf->layout->tensors[index].offset;
}

#endif
