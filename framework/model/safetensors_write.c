/* safetensors_write.c - building a safetensors file from named F32 tensors and metadata, into
 * memory or atomically onto disk (temporary file, fsync, rename). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "model/safetensors.h"

typedef struct {
    char *name;
    int ndim;
    int shape[PL_MAX_DIMS];
    size_t count;
    const float *data; /* borrowed */
} wtensor;

typedef struct {
    char *key, *value;
} wmeta;

struct safetensors_writer {
    wtensor *t;
    size_t nt, ct;
    wmeta *m;
    size_t nm, cm;
};

pl_status safetensors_writer_create(safetensors_writer **out, pl_error *err) {
    *out = pl_realloc(NULL, 1, sizeof **out, err);
    if (*out == NULL) return PL_ERR_NOMEM;
    memset(*out, 0, sizeof **out);
    return PL_OK;
}

void safetensors_writer_free(safetensors_writer *w) {
    if (w == NULL) return;
    for (size_t i = 0; i < w->nt; i++) free(w->t[i].name);
    for (size_t i = 0; i < w->nm; i++) free(w->m[i].key), free(w->m[i].value);
    free(w->t);
    free(w->m);
    free(w);
}

static pl_status check_text(const char *what, const char *s, pl_error *err) {
    size_t n = strlen(s);
    if (pl_utf8_valid_prefix((const unsigned char *)s, n) != n)
        return PL_ERROR(err, PL_ERR_INVALID, "%s \"%.200s\" is not valid UTF-8", what, s);
    return PL_OK;
}

pl_status safetensors_writer_add(safetensors_writer *w, const char *name, int ndim, const int *shape,
                                 const float *data, pl_error *err) {
    if (name == NULL || name[0] == '\0')
        return PL_ERROR(err, PL_ERR_INVALID, "checkpoint tensors need a non-empty name");
    if (strcmp(name, "__metadata__") == 0)
        return PL_ERROR(err, PL_ERR_INVALID, "\"__metadata__\" is reserved and cannot name a tensor");
    PL_TRY(check_text("tensor name", name, err));
    if (ndim < 0 || ndim > PL_MAX_DIMS)
        return PL_ERROR(err, PL_ERR_INVALID, "tensor \"%.200s\" has %d dimensions; 0 to %d allowed", name, ndim,
                        PL_MAX_DIMS);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return PL_ERROR(err, PL_ERR_INVALID, "tensor \"%.200s\" has negative dimension %d", name, shape[d]);
        if (shape[d] != 0 && count > SIZE_MAX / 8 / (size_t)shape[d])
            return PL_ERROR(err, PL_ERR_INVALID, "tensor \"%.200s\" is too large to store", name);
        count *= (size_t)shape[d];
    }
    if (count > 0 && data == NULL)
        return PL_ERROR(err, PL_ERR_INVALID, "tensor \"%.200s\" has no data pointer", name);
    for (size_t i = 0; i < w->nt; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return PL_ERROR(err, PL_ERR_INVALID, "tensor \"%.200s\" is added to the checkpoint twice", name);
    if (w->nt == w->ct) {
        size_t cap = w->ct ? 2 * w->ct : 64;
        wtensor *grown = pl_realloc(w->t, cap, sizeof *grown, err);
        if (grown == NULL) return PL_ERR_NOMEM;
        w->t = grown;
        w->ct = cap;
    }
    wtensor *t = &w->t[w->nt];
    memset(t, 0, sizeof *t);
    t->name = pl_strdup(name, err);
    if (t->name == NULL) return PL_ERR_NOMEM;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->count = count;
    t->data = data;
    w->nt++;
    return PL_OK;
}

pl_status safetensors_writer_set_metadata(safetensors_writer *w, const char *key, const char *value,
                                          pl_error *err) {
    PL_TRY(check_text("metadata key", key, err));
    PL_TRY(check_text("metadata value", value, err));
    char *v = pl_strdup(value, err);
    if (v == NULL) return PL_ERR_NOMEM;
    for (size_t i = 0; i < w->nm; i++)
        if (strcmp(w->m[i].key, key) == 0) {
            free(w->m[i].value);
            w->m[i].value = v;
            return PL_OK;
        }
    if (w->nm == w->cm) {
        size_t cap = w->cm ? 2 * w->cm : 8;
        wmeta *grown = pl_realloc(w->m, cap, sizeof *grown, err);
        if (grown == NULL) { free(v); return PL_ERR_NOMEM; }
        w->m = grown;
        w->cm = cap;
    }
    char *k = pl_strdup(key, err);
    if (k == NULL) { free(v); return PL_ERR_NOMEM; }
    w->m[w->nm++] = (wmeta){k, v};
    return PL_OK;
}

static int tensor_ptr_cmp(const void *a, const void *b) {
    return strcmp((*(const wtensor *const *)a)->name, (*(const wtensor *const *)b)->name);
}

static int meta_cmp(const void *a, const void *b) {
    return strcmp(((const wmeta *)a)->key, ((const wmeta *)b)->key);
}

/* The serialisation plan: tensors in name order and the padded header text. */
typedef struct {
    const wtensor **order;
    pl_json_buf header;
    uint64_t data_size;
} plan;

static void plan_free(plan *p) {
    free(p->order);
    pl_json_buf_free(&p->header);
}

static pl_status append_text(pl_json_buf *h, const char *text, pl_error *err) {
    return pl_json_buf_append(h, text, strlen(text), err);
}

static pl_status add_entry(pl_json_buf *h, const char *key, const char *value, pl_error *err) {
    PL_TRY(pl_json_buf_string(h, key, strlen(key), err));
    PL_TRY(pl_json_buf_append(h, ":", 1, err));
    return pl_json_buf_string(h, value, strlen(value), err);
}

static pl_status make_plan(const safetensors_writer *w, plan *p, pl_error *err) {
    memset(p, 0, sizeof *p);
    p->order = pl_realloc(NULL, w->nt ? w->nt : 1, sizeof *p->order, err);
    wmeta *meta = pl_realloc(NULL, w->nm + 2, sizeof *meta, err);
    if (p->order == NULL || meta == NULL) { free(meta); return PL_ERR_NOMEM; }
    for (size_t i = 0; i < w->nt; i++) p->order[i] = &w->t[i];
    qsort(p->order, w->nt, sizeof *p->order, tensor_ptr_cmp);
    size_t nm = w->nm;
    if (nm > 0) memcpy(meta, w->m, nm * sizeof *meta);
    static const char *const defaults[2][2] = {{"format", "pt"}, {"prunelab_format", SAFETENSORS_PRUNELAB_FORMAT}};
    for (int d = 0; d < 2; d++) {
        int present = 0;
        for (size_t i = 0; i < w->nm; i++) present |= strcmp(w->m[i].key, defaults[d][0]) == 0;
        if (!present) meta[nm++] = (wmeta){(char *)defaults[d][0], (char *)defaults[d][1]};
    }
    qsort(meta, nm, sizeof *meta, meta_cmp);

    pl_json_buf *h = &p->header;
    pl_status st = append_text(h, "{\"__metadata__\":{", err);
    for (size_t i = 0; i < nm && st == PL_OK; i++) {
        if (i > 0) st = pl_json_buf_append(h, ",", 1, err);
        if (st == PL_OK) st = add_entry(h, meta[i].key, meta[i].value, err);
    }
    free(meta);
    if (st == PL_OK) st = pl_json_buf_append(h, "}", 1, err);
    uint64_t at = 0;
    for (size_t i = 0; i < w->nt && st == PL_OK; i++) {
        const wtensor *t = p->order[i];
        uint64_t bytes = 4 * (uint64_t)t->count;
        st = pl_json_buf_append(h, ",", 1, err);
        if (st == PL_OK) st = pl_json_buf_string(h, t->name, strlen(t->name), err);
        if (st == PL_OK) st = append_text(h, ":{\"dtype\":\"F32\",\"shape\":[", err);
        for (int d = 0; d < t->ndim && st == PL_OK; d++)
            st = pl_json_buf_printf(h, err, d ? ",%d" : "%d", t->shape[d]);
        if (st == PL_OK)
            st = pl_json_buf_printf(h, err, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)at,
                                    (unsigned long long)(at + bytes));
        at += bytes;
    }
    if (st == PL_OK) st = pl_json_buf_append(h, "}", 1, err);
    while (st == PL_OK && h->len % 8 != 0) st = pl_json_buf_append(h, " ", 1, err);
    if (st == PL_OK && h->len > SAFETENSORS_MAX_HEADER)
        st = PL_ERROR(err, PL_ERR_INVALID, "checkpoint header would be %zu bytes, over the %d-byte limit", h->len,
                      SAFETENSORS_MAX_HEADER);
    p->data_size = at;
    return st;
}

/* Receives the file's bytes in order. */
typedef pl_status (*sink_fn)(void *ctx, const void *bytes, size_t n, pl_error *err);

static pl_status emit(const plan *p, size_t nt, sink_fn sink, void *ctx, pl_error *err) {
    unsigned char len8[8];
    uint64_t hlen = p->header.len;
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hlen >> (8 * i));
    PL_TRY(sink(ctx, len8, 8, err));
    PL_TRY(sink(ctx, p->header.data, p->header.len, err));
    enum { CHUNK = 16384 };
    unsigned char *stage = pl_realloc(NULL, CHUNK, 4, err);
    if (stage == NULL) return PL_ERR_NOMEM;
    pl_status st = PL_OK;
    for (size_t i = 0; i < nt && st == PL_OK; i++) {
        const wtensor *t = p->order[i];
        for (size_t at = 0; at < t->count && st == PL_OK; at += CHUNK) {
            size_t n = t->count - at < CHUNK ? t->count - at : CHUNK;
            for (size_t j = 0; j < n; j++) { /* host float -> little-endian bytes, bits kept */
                uint32_t u;
                memcpy(&u, &t->data[at + j], 4);
                for (int b = 0; b < 4; b++) stage[4 * j + (size_t)b] = (unsigned char)(u >> (8 * b));
            }
            st = sink(ctx, stage, 4 * n, err);
        }
    }
    free(stage);
    return st;
}

typedef struct {
    unsigned char *data;
    size_t len;
} memory_sink;

static pl_status to_memory(void *ctx, const void *bytes, size_t n, pl_error *err) {
    (void)err;
    memory_sink *m = ctx;
    memcpy(m->data + m->len, bytes, n); /* sized exactly beforehand */
    m->len += n;
    return PL_OK;
}

pl_status safetensors_writer_serialize(const safetensors_writer *w, unsigned char **bytes, size_t *size,
                                       pl_error *err) {
    *bytes = NULL;
    *size = 0;
    plan p;
    pl_status st = make_plan(w, &p, err);
    uint64_t total = 8 + (uint64_t)p.header.len + p.data_size;
    memory_sink m = {NULL, 0};
    if (st == PL_OK && total > SIZE_MAX) st = PL_ERROR(err, PL_ERR_NOMEM, "checkpoint too large for memory");
    if (st == PL_OK) {
        m.data = pl_realloc(NULL, (size_t)total, 1, err);
        if (m.data == NULL) st = PL_ERR_NOMEM;
    }
    if (st == PL_OK) st = emit(&p, w->nt, to_memory, &m, err);
    plan_free(&p);
    if (st != PL_OK) {
        free(m.data);
        return st;
    }
    *bytes = m.data;
    *size = m.len;
    return PL_OK;
}

typedef struct {
    int fd;
    const char *path;
} file_sink;

static pl_status to_file(void *ctx, const void *bytes, size_t n, pl_error *err) {
    file_sink *f = ctx;
    const char *b = bytes;
    while (n > 0) {
        ssize_t r = write(f->fd, b, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return PL_ERROR(err, PL_ERR_IO, "%s: write failed: %s", f->path, strerror(errno));
        b += r;
        n -= (size_t)r;
    }
    return PL_OK;
}

/* fsync of the directory holding path, so the rename itself is durable. */
static pl_status sync_dir(const char *path, pl_error *err) {
    size_t n = strlen(path);
    char *dir = pl_strdup(path, err);
    if (dir == NULL) return PL_ERR_NOMEM;
    while (n > 0 && dir[n - 1] != '/') n--;
    if (n == 0) strcpy(dir, ".");
    else dir[n > 1 ? n - 1 : 1] = '\0';
    pl_status st = PL_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
            st = PL_ERROR(err, PL_ERR_IO, "%s: cannot sync directory %s: %s", path, dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return st;
}

pl_status safetensors_writer_commit(const safetensors_writer *w, const char *path, pl_error *err) {
    plan p;
    pl_status st = make_plan(w, &p, err);
    if (st != PL_OK) {
        plan_free(&p);
        return pl_error_wrap(err, "writing %s", path);
    }
    size_t n = strlen(path) + 48;
    char *tmp = pl_realloc(NULL, n, 1, err);
    if (tmp == NULL) { plan_free(&p); return PL_ERR_NOMEM; }
    snprintf(tmp, n, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = PL_ERROR(err, PL_ERR_IO, "%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
        plan_free(&p);
        free(tmp);
        return st;
    }
    file_sink fs = {fd, tmp};
    if (fchmod(fd, 0644) != 0) st = PL_ERROR(err, PL_ERR_IO, "%s: chmod failed: %s", tmp, strerror(errno));
    if (st == PL_OK) st = emit(&p, w->nt, to_file, &fs, err);
    if (st == PL_OK && fsync(fd) != 0) st = PL_ERROR(err, PL_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (close(fd) != 0 && st == PL_OK) st = PL_ERROR(err, PL_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (st == PL_OK && rename(tmp, path) != 0)
        st = PL_ERROR(err, PL_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    if (st != PL_OK) unlink(tmp);
    if (st == PL_OK) st = sync_dir(path, err);
    plan_free(&p);
    free(tmp);
    return st;
}
