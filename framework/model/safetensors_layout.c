/* safetensors_layout.c - saving and loading whole pl_buffers (over a pl_layout) by tensor name,
 * with an optional name prefix/suffix so masks and adapters sit beside the weights. */
#include <stdio.h>
#include <string.h>

#include "model/safetensors.h"

/* "<prefix><name><suffix>" into out (PL_NAME_MAX + 128 bytes). */
static pl_status full_name(char *out, size_t cap, const char *prefix, const char *name, const char *suffix,
                           pl_error *err) {
    int n = snprintf(out, cap, "%s%s%s", prefix ? prefix : "", name, suffix ? suffix : "");
    if (n < 0 || (size_t)n >= cap)
        return PL_ERROR(err, PL_ERR_INVALID, "tensor name \"%s%s%s\" is too long", prefix ? prefix : "", name,
                        suffix ? suffix : "");
    return PL_OK;
}

enum { NAME_CAP = PL_NAME_MAX + 128 };

pl_status safetensors_writer_add_layout(safetensors_writer *w, const pl_layout *layout, const pl_buffer *buf,
                                        const char *prefix, const char *suffix, const unsigned char *select,
                                        pl_error *err) {
    if (buf->layout != layout)
        return PL_ERROR(err, PL_ERR_INVALID, "buffer was not allocated over the layout being saved");
    for (int i = 0; i < layout->count; i++) {
        if (select != NULL && !select[i]) continue;
        const pl_tensor_spec *s = &layout->tensors[i];
        char name[NAME_CAP];
        PL_TRY(full_name(name, sizeof name, prefix, s->name, suffix, err));
        PL_TRY(safetensors_writer_add(w, name, s->ndim, s->shape, pl_buffer_view(buf, i), err));
    }
    return PL_OK;
}

static void format_shape(char *out, size_t cap, int ndim, const int *shape) {
    size_t at = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < ndim && at < cap; d++)
        at += (size_t)snprintf(out + at, cap - at, d ? ", %d" : "%d", shape[d]);
    if (at < cap) snprintf(out + at, cap - at, "]");
}

pl_status safetensors_load_layout(const safetensors_file *f, const pl_layout *layout, pl_buffer *buf,
                                  const char *prefix, const char *suffix, const unsigned char *select,
                                  int required, pl_error *err) {
    if (buf->layout != layout)
        return PL_ERROR(err, PL_ERR_INVALID, "buffer was not allocated over the layout being loaded");
    const char *path = safetensors_path(f);
    for (int i = 0; i < layout->count; i++) {
        if (select != NULL && !select[i]) continue;
        const pl_tensor_spec *s = &layout->tensors[i];
        char name[NAME_CAP];
        PL_TRY(full_name(name, sizeof name, prefix, s->name, suffix, err));
        const safetensors_tensor *t = safetensors_find(f, name);
        if (t == NULL) {
            if (!required) continue;
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s: has no tensor \"%s\", which the model needs (checkpoint from another "
                            "model or preset?)",
                            path, name);
        }
        int same = t->ndim == s->ndim;
        for (int d = 0; same && d < s->ndim; d++) same = t->shape[d] == s->shape[d];
        if (!same) {
            char have[96], want[96];
            format_shape(have, sizeof have, t->ndim, t->shape);
            format_shape(want, sizeof want, s->ndim, s->shape);
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s: tensor \"%s\" has shape %s but the model expects %s (checkpoint from "
                            "another preset?)",
                            path, name, have, want);
        }
        memcpy(pl_buffer_view(buf, i), t->data, s->count * sizeof(float));
    }
    return PL_OK;
}

pl_status safetensors_load_into(const safetensors_file *f, const pl_layout *layout, pl_buffer *buf,
                                int required, pl_error *err) {
    return safetensors_load_layout(f, layout, buf, NULL, NULL, NULL, required, err);
}
