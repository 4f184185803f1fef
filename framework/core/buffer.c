/* buffer.c - layouts of named tensors and the flat buffers allocated over them. */
#include "core/buffer.h"

#include <string.h>

#include "core/alloc.h"

enum { PL_VIEW_ALIGN_FLOATS = 16 };

void pl_layout_init(pl_layout *layout) { memset(layout, 0, sizeof *layout); }

void pl_layout_free(pl_layout *layout) {
    pl_free(layout->tensors);
    memset(layout, 0, sizeof *layout);
}

pl_status pl_layout_add(pl_layout *layout, const char *name, int ndim, const int *shape,
                        int *index, pl_error *err) {
    if (ndim < 1 || ndim > PL_MAX_DIMS)
        return PL_ERROR(err, PL_ERR_INVALID, "tensor '%s' has %d dimensions; 1 to %d allowed",
                        name, ndim, PL_MAX_DIMS);
    if (strlen(name) >= PL_NAME_MAX)
        return PL_ERROR(err, PL_ERR_INVALID, "tensor name '%s' is longer than %d characters",
                        name, PL_NAME_MAX - 1);
    if (pl_layout_find(layout, name) >= 0)
        return PL_ERROR(err, PL_ERR_INVALID, "tensor name '%s' is used twice", name);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0)
            return PL_ERROR(err, PL_ERR_INVALID, "tensor '%s' has non-positive dimension %d",
                            name, shape[d]);
        count *= (size_t)shape[d];
    }
    if (layout->count == layout->capacity) {
        int cap = layout->capacity ? 2 * layout->capacity : 32;
        pl_tensor_spec *grown = pl_realloc(layout->tensors, (size_t)cap, sizeof *grown, err);
        if (grown == NULL) return PL_ERR_NOMEM;
        layout->tensors = grown;
        layout->capacity = cap;
    }
    pl_tensor_spec *t = &layout->tensors[layout->count];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->count = count;
    t->offset = layout->total;
    size_t padded = (count + PL_VIEW_ALIGN_FLOATS - 1) / PL_VIEW_ALIGN_FLOATS * PL_VIEW_ALIGN_FLOATS;
    layout->total += padded;
    if (index != NULL) *index = layout->count;
    layout->count++;
    return PL_OK;
}

int pl_layout_find(const pl_layout *layout, const char *name) {
    for (int i = 0; i < layout->count; i++)
        if (strcmp(layout->tensors[i].name, name) == 0) return i;
    return -1;
}

pl_status pl_buffer_alloc(pl_buffer *buf, const pl_layout *layout, pl_error *err) {
    buf->layout = layout;
    buf->data = pl_alloc(layout->total, sizeof(float), err);
    return buf->data ? PL_OK : PL_ERR_NOMEM;
}

void pl_buffer_free(pl_buffer *buf) {
    pl_free(buf->data);
    buf->data = NULL;
}

void pl_buffer_zero(pl_buffer *buf) {
    memset(buf->data, 0, buf->layout->total * sizeof(float));
}
