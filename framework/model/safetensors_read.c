/* safetensors_read.c - validating safetensors reader: header checks, then tensor data copied
 * into aligned memory, from a file (pread) or from a memory image. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/file_open.h"
#include "core/json.h"
#include "model/safetensors.h"

struct safetensors_file {
    char *path;
    pl_json *header;           /* names and metadata point into it */
    const pl_json *metadata;   /* the "__metadata__" object, or NULL */
    safetensors_tensor *tensors; /* sorted by name */
    int count;
    float *arena;
    uint64_t *begin;           /* per tensor, offset in the data section (parallel to tensors) */
};

/* Reads len bytes at offset (from the start of the file) into dst. */
typedef pl_status (*read_fn)(void *ctx, uint64_t offset, size_t len, void *dst, const char *label,
                             pl_error *err);

static uint64_t load_le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const safetensors_tensor *)a)->name, ((const safetensors_tensor *)b)->name);
}

/* "a number", "an array", ... for messages. */
static const char *kind(const pl_json *v) {
    switch (v->type) {
    case PL_JSON_ARRAY: return "an array";
    case PL_JSON_OBJECT: return "an object";
    case PL_JSON_NULL: return "null";
    case PL_JSON_BOOL: return "a boolean";
    case PL_JSON_NUMBER: return "a number";
    case PL_JSON_STRING: return "a string";
    }
    return "something unknown";
}

static pl_status check_metadata(const pl_json *md, const char *label, pl_error *err) {
    if (md->type != PL_JSON_OBJECT)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: \"__metadata__\" is %s; it must be an object of strings",
                        label, kind(md));
    for (size_t i = 0; i < md->count; i++)
        if (md->items[i].type != PL_JSON_STRING)
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s: metadata value for key \"%.200s\" is %s; metadata values must be strings",
                            label, md->keys[i], kind(&md->items[i]));
    return PL_OK;
}

/* Validates one tensor entry (everything that can be checked without its neighbours). */
static pl_status check_entry(const char *name, const pl_json *e, uint64_t data_size, const char *label,
                             safetensors_tensor *t, uint64_t *begin_out, pl_error *err) {
    if (name[0] == '\0') return PL_ERROR(err, PL_ERR_FORMAT, "%s: a tensor has an empty name", label);
    if (e->type != PL_JSON_OBJECT)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: entry for tensor \"%.200s\" is %s, not an object", label,
                        name, kind(e));
    static const char *const fields[] = {"dtype", "shape", "data_offsets"};
    for (size_t i = 0; i < e->count; i++) {
        const char *k = e->keys[i];
        if (strcmp(k, fields[0]) != 0 && strcmp(k, fields[1]) != 0 && strcmp(k, fields[2]) != 0)
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s: tensor \"%.200s\" has unknown field \"%.100s\" (expected dtype, shape, data_offsets)",
                            label, name, k);
    }
    for (int i = 0; i < 3; i++)
        if (pl_json_get(e, fields[i]) == NULL)
            return PL_ERROR(err, PL_ERR_FORMAT, "%s: tensor \"%.200s\" has no \"%s\"", label, name, fields[i]);
    const pl_json *dtype = pl_json_get(e, "dtype");
    if (dtype->type != PL_JSON_STRING)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: tensor \"%.200s\" has a dtype that is %s, not a string", label,
                        name, kind(dtype));
    if (strcmp(dtype->string, "F32") != 0)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: tensor \"%.200s\" has dtype %.40s; prunelab reads F32 only",
                        label, name, dtype->string);

    const pl_json *shape = pl_json_get(e, "shape");
    if (shape->type != PL_JSON_ARRAY)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: tensor \"%.200s\" has a shape that is %s, not an array",
                        label, name, kind(shape));
    if (shape->count > PL_MAX_DIMS)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: tensor \"%.200s\" has %zu dimensions; prunelab reads at most %d",
                        label, name, shape->count, PL_MAX_DIMS);
    uint64_t count = 1;
    int zero = 0;
    t->ndim = (int)shape->count;
    for (size_t d = 0; d < shape->count; d++) {
        const pl_json *v = &shape->items[d];
        if (v->type != PL_JSON_NUMBER || !v->is_int || v->integer < 0 || v->integer > INT_MAX)
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s: tensor \"%.200s\" dimension %zu is not an integer in [0, %d]", label, name, d,
                            INT_MAX);
        t->shape[d] = (int)v->integer;
        if (v->integer == 0) zero = 1;
        else if (count > (UINT64_MAX / 4) / (uint64_t)v->integer) count = UINT64_MAX; /* saturate */
        else count *= (uint64_t)v->integer;
    }
    if (zero) count = 0;

    const pl_json *off = pl_json_get(e, "data_offsets");
    if (off->type != PL_JSON_ARRAY || off->count != 2 || off->items[0].type != PL_JSON_NUMBER ||
        off->items[1].type != PL_JSON_NUMBER || !off->items[0].is_int || !off->items[1].is_int ||
        off->items[0].integer < 0 || off->items[1].integer < 0)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s: tensor \"%.200s\" data_offsets must be two non-negative integers [begin, end]",
                        label, name);
    uint64_t begin = (uint64_t)off->items[0].integer, end = (uint64_t)off->items[1].integer;
    if (begin > end)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: tensor \"%.200s\" data_offsets [%llu, %llu] end before they begin",
                        label, name, (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s: tensor \"%.200s\" data_offsets [%llu, %llu] run past the %llu-byte data section "
                        "(file truncated?)",
                        label, name, (unsigned long long)begin, (unsigned long long)end,
                        (unsigned long long)data_size);
    if (count > data_size / 4)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s: tensor \"%.200s\" has more elements than the %llu-byte data section can hold",
                        label, name, (unsigned long long)data_size);
    t->count = (size_t)count;
    if (end - begin != 4 * count)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s: tensor \"%.200s\" spans %llu bytes but its shape needs %llu (4 bytes x %llu elements)",
                        label, name, (unsigned long long)(end - begin), (unsigned long long)(4 * count),
                        (unsigned long long)count);
    t->name = name;
    *begin_out = begin;
    return PL_OK;
}

typedef struct {
    uint64_t begin, end;
    int index;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* The data section must be covered exactly: no overlap, no hole, nothing left over. */
static pl_status check_coverage(const safetensors_file *f, uint64_t data_size, const char *label,
                                pl_error *err) {
    if (f->count == 0) {
        if (data_size == 0) return PL_OK;
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: %llu bytes of data but no tensors in the header", label,
                        (unsigned long long)data_size);
    }
    span *s = pl_realloc(NULL, (size_t)f->count, sizeof *s, err);
    if (s == NULL) return PL_ERR_NOMEM;
    for (int i = 0; i < f->count; i++) s[i] = (span){f->begin[i], f->begin[i] + 4 * f->tensors[i].count, i};
    qsort(s, (size_t)f->count, sizeof *s, span_cmp);
    uint64_t pos = 0;
    int prev = -1;
    pl_status st = PL_OK;
    for (int i = 0; i < f->count && st == PL_OK; i++) {
        const char *name = f->tensors[s[i].index].name;
        if (s[i].begin < pos)
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s: tensors \"%.200s\" and \"%.200s\" overlap in the data section",
                          label, f->tensors[s[prev].index].name, name);
        else if (s[i].begin > pos)
            st = PL_ERROR(err, PL_ERR_FORMAT,
                          "%s: data bytes [%llu, %llu) before tensor \"%.200s\" belong to no tensor (a hole)",
                          label, (unsigned long long)pos, (unsigned long long)s[i].begin, name);
        pos = s[i].end;
        prev = i;
    }
    if (st == PL_OK && pos != data_size)
        st = PL_ERROR(err, PL_ERR_FORMAT, "%s: %llu data bytes after the last tensor belong to no tensor", label,
                      (unsigned long long)(data_size - pos));
    free(s);
    return st;
}

void safetensors_close(safetensors_file *f) {
    if (f == NULL) return;
    free(f->path);
    pl_json_free(f->header);
    free(f->tensors);
    free(f->begin);
    pl_free(f->arena);
    free(f);
}

/* Everything after the 8 length bytes and the header have been read: validate, then pull
 * each tensor's bytes through rd into the aligned arena and decode them. */
static pl_status build(safetensors_file *f, const char *hdr, uint64_t hlen, uint64_t size, read_fn rd,
                       void *ctx, pl_error *err) {
    const char *label = f->path;
    pl_status st = pl_json_parse(hdr, (size_t)hlen, &f->header, err);
    if (st != PL_OK) {
        if (st == PL_ERR_FORMAT) pl_error_wrap(err, "%s: header is not valid JSON", label);
        return st;
    }
    const pl_json *root = f->header;
    if (root->type != PL_JSON_OBJECT)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s: header is %s, not a JSON object", label, kind(root));
    uint64_t data_size = size - 8 - hlen;
    size_t n = root->count;
    f->metadata = pl_json_get(root, "__metadata__");
    if (f->metadata != NULL) {
        PL_TRY(check_metadata(f->metadata, label, err));
        n--;
    }
    if (n > INT_MAX) return PL_ERROR(err, PL_ERR_FORMAT, "%s: too many tensors (%zu)", label, n);
    f->tensors = pl_realloc(NULL, n ? n : 1, sizeof *f->tensors, err);
    f->begin = pl_realloc(NULL, n ? n : 1, sizeof *f->begin, err);
    if (f->tensors == NULL || f->begin == NULL) return PL_ERR_NOMEM;
    /* root->sorted walks names in byte order, so tensors[] comes out sorted. */
    for (size_t k = 0; k < root->count; k++) {
        size_t i = root->sorted[k];
        if (strcmp(root->keys[i], "__metadata__") == 0) continue;
        safetensors_tensor *t = &f->tensors[f->count];
        memset(t, 0, sizeof *t);
        PL_TRY(check_entry(root->keys[i], &root->items[i], data_size, label, t, &f->begin[f->count], err));
        f->count++;
    }
    PL_TRY(check_coverage(f, data_size, label, err));

    size_t total = 0; /* floats; each tensor rounded up to 16 (64 bytes) */
    for (int i = 0; i < f->count; i++) total += (f->tensors[i].count + 15) / 16 * 16;
    f->arena = pl_alloc(total, sizeof(float), err);
    if (f->arena == NULL) return pl_error_wrap(err, "%s: reading tensor data", label);
    size_t at = 0;
    for (int i = 0; i < f->count; i++) {
        safetensors_tensor *t = &f->tensors[i];
        float *dst = f->arena + at;
        PL_TRY(rd(ctx, 8 + hlen + f->begin[i], t->count * 4, dst, label, err));
        unsigned char *b = (unsigned char *)dst;
        for (size_t j = 0; j < t->count; j++) { /* little-endian bytes -> host float, bits kept */
            uint32_t u = (uint32_t)b[4 * j] | (uint32_t)b[4 * j + 1] << 8 | (uint32_t)b[4 * j + 2] << 16 |
                         (uint32_t)b[4 * j + 3] << 24;
            memcpy(&dst[j], &u, 4);
        }
        t->data = dst;
        at += (t->count + 15) / 16 * 16;
    }
    return PL_OK;
}

static pl_status check_length(uint64_t hlen, uint64_t size, const char *label, pl_error *err) {
    if (hlen == 0) return PL_ERROR(err, PL_ERR_FORMAT, "%s: header length is 0; not a safetensors file", label);
    if (hlen > SAFETENSORS_MAX_HEADER)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s: header length %llu is absurd (limit %d); not a safetensors file or corrupted",
                        label, (unsigned long long)hlen, SAFETENSORS_MAX_HEADER);
    if (hlen > size - 8)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s: header length %llu runs past the end of the %llu-byte file (truncated?)", label,
                        (unsigned long long)hlen, (unsigned long long)size);
    return PL_OK;
}

static pl_status new_file(safetensors_file **out, const char *label, pl_error *err) {
    safetensors_file *f = pl_realloc(NULL, 1, sizeof *f, err);
    if (f == NULL) return PL_ERR_NOMEM;
    memset(f, 0, sizeof *f);
    f->path = pl_strdup(label, err);
    if (f->path == NULL) {
        free(f);
        return PL_ERR_NOMEM;
    }
    *out = f;
    return PL_OK;
}

static pl_status read_memory(void *ctx, uint64_t offset, size_t len, void *dst, const char *label,
                             pl_error *err) {
    (void)label, (void)err;
    memcpy(dst, (const unsigned char *)ctx + offset, len); /* bounds checked by the validation */
    return PL_OK;
}

pl_status safetensors_parse(safetensors_file **out, const void *bytes, size_t size, const char *label,
                            pl_error *err) {
    *out = NULL;
    if (size < 8)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s: file is %zu bytes, shorter than the 8-byte header length; not a safetensors file "
                        "or truncated",
                        label, size);
    const unsigned char *b = bytes;
    uint64_t hlen = load_le64(b);
    PL_TRY(check_length(hlen, size, label, err));
    safetensors_file *f;
    PL_TRY(new_file(&f, label, err));
    pl_status st = build(f, (const char *)b + 8, hlen, size, read_memory, (void *)b, err);
    if (st != PL_OK) {
        safetensors_close(f);
        return st;
    }
    *out = f;
    return PL_OK;
}

static pl_status read_fd(void *ctx, uint64_t offset, size_t len, void *dst, const char *label, pl_error *err) {
    int fd = *(int *)ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)dst + done, len - done, (off_t)(offset + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return PL_ERROR(err, PL_ERR_IO, "%s: read failed: %s", label, strerror(errno));
        if (r == 0)
            return PL_ERROR(err, PL_ERR_IO, "%s: file ended early (%llu bytes); was it truncated while reading?",
                            label, (unsigned long long)(offset + done));
        done += (size_t)r;
    }
    return PL_OK;
}

pl_status safetensors_open(safetensors_file **out, const char *path, pl_error *err) {
    *out = NULL;
    int fd;
    PL_TRY(pl_open_read(path, "checkpoint", 0, &fd, err));
    struct stat sb;
    pl_status st = PL_OK;
    safetensors_file *f = NULL;
    char *hdr = NULL;
    unsigned char len8[8];
    uint64_t size = 0, hlen = 0;
    if (fstat(fd, &sb) != 0) st = PL_ERROR(err, PL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode)) st = PL_ERROR(err, PL_ERR_IO, "%s: not a regular file", path);
    if (st == PL_OK) {
        size = (uint64_t)sb.st_size;
        if (size < 8)
            st = PL_ERROR(err, PL_ERR_FORMAT,
                          "%s: file is %llu bytes, shorter than the 8-byte header length; not a safetensors "
                          "file or truncated",
                          path, (unsigned long long)size);
    }
    if (st == PL_OK) st = read_fd(&fd, 0, 8, len8, path, err);
    if (st == PL_OK) {
        hlen = load_le64(len8);
        st = check_length(hlen, size, path, err);
    }
    if (st == PL_OK) {
        hdr = pl_realloc(NULL, (size_t)hlen, 1, err);
        st = hdr ? read_fd(&fd, 8, (size_t)hlen, hdr, path, err) : PL_ERR_NOMEM;
    }
    if (st == PL_OK) st = new_file(&f, path, err);
    if (st == PL_OK) st = build(f, hdr, hlen, size, read_fd, &fd, err);
    free(hdr);
    close(fd);
    if (st != PL_OK) {
        safetensors_close(f);
        return st;
    }
    *out = f;
    return PL_OK;
}

const char *safetensors_path(const safetensors_file *f) { return f->path; }
int safetensors_count(const safetensors_file *f) { return f->count; }
const safetensors_tensor *safetensors_at(const safetensors_file *f, int i) { return &f->tensors[i]; }

const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name) {
    safetensors_tensor key = {.name = name};
    return bsearch(&key, f->tensors, (size_t)f->count, sizeof key, entry_cmp);
}

const char *safetensors_metadata(const safetensors_file *f, const char *key) {
    const pl_json *v = pl_json_get(f->metadata, key);
    return v ? v->string : NULL;
}

int safetensors_metadata_count(const safetensors_file *f) { return f->metadata ? (int)f->metadata->count : 0; }

void safetensors_metadata_at(const safetensors_file *f, int i, const char **key, const char **value) {
    size_t k = f->metadata->sorted[i];
    *key = f->metadata->keys[k];
    *value = f->metadata->items[k].string;
}
