/* idx.c - the IDX parser (memory buffer in, checked array out) and the zlib file reader. */
#include "data/idx.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/file_open.h"

enum { IDX_LOAD_LIMIT = 512 * 1024 * 1024, IDX_READ_CHUNK = 1 << 20 };

static uint32_t read_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

pl_status pl_idx_parse(const uint8_t *bytes, size_t len, const char *name, pl_idx *out,
                       pl_error *err) {
    memset(out, 0, sizeof *out);
    if (len < 4)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s is not an IDX file: %zu bytes is shorter than the 4-byte magic",
                        name, len);
    if (bytes[0] != 0 || bytes[1] != 0)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s is not an IDX file: bad magic %02x %02x %02x %02x (expected 00 00 "
                        "<type> <dims>)",
                        name, bytes[0], bytes[1], bytes[2], bytes[3]);
    if (bytes[2] != PL_IDX_TYPE_UBYTE)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s has IDX element type 0x%02x; only unsigned bytes (0x08) are "
                        "supported",
                        name, bytes[2]);
    int ndim = bytes[3];
    if (ndim < 1 || ndim > PL_IDX_MAX_DIMS)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s declares %d dimensions; an IDX file here has 1 to %d", name, ndim,
                        PL_IDX_MAX_DIMS);
    size_t header = 4 + 4 * (size_t)ndim;
    if (len < header)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s is truncated: %zu bytes cannot hold the %zu-byte header", name, len,
                        header);
    size_t count = 1;
    int dims[PL_IDX_MAX_DIMS] = {0};
    for (int d = 0; d < ndim; d++) {
        uint32_t n = read_be32(bytes + 4 + 4 * d);
        if (n == 0 || n > INT32_MAX)
            return PL_ERROR(err, PL_ERR_FORMAT, "%s: dimension %d has size %u", name, d,
                            (unsigned)n);
        if (count > (len - header) / n)
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s is truncated: its dimensions need more than the %zu payload "
                            "bytes it has",
                            name, len - header);
        count *= n;
        dims[d] = (int)n;
    }
    if (count != len - header)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s has %zu payload bytes but its dimensions say %zu: the file is "
                        "corrupt or has trailing data",
                        name, len - header, count);
    uint8_t *data = pl_alloc(count, 1, err);
    if (data == NULL) return pl_error_wrap(err, "reading %s", name);
    memcpy(data, bytes + header, count);
    out->ndim = ndim;
    memcpy(out->dims, dims, sizeof dims);
    out->count = count;
    out->data = data;
    return PL_OK;
}

pl_status pl_idx_read_bytes(const char *path, size_t max_bytes, uint8_t **bytes, size_t *len,
                            pl_error *err) {
    *bytes = NULL;
    *len = 0;
    int fd;
    PL_TRY(pl_open_read(path, NULL, PL_OPEN_DATASET, &fd, err));
    gzFile f = gzdopen(fd, "rb"); /* owns fd from here */
    if (f == NULL) {
        close(fd);
        return PL_ERROR(err, PL_ERR_NOMEM, "cannot read %s: out of memory for zlib", path);
    }
    uint8_t *buf = NULL;
    size_t used = 0, cap = 0;
    pl_status st = PL_OK;
    for (;;) {
        if (cap - used < IDX_READ_CHUNK) {
            size_t grow = cap ? cap * 2 : 4 * IDX_READ_CHUNK;
            if (grow > max_bytes + IDX_READ_CHUNK) grow = max_bytes + IDX_READ_CHUNK;
            uint8_t *nb = pl_realloc(buf, grow, 1, err);
            if (nb == NULL) {
                st = PL_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap = grow;
        }
        int n = gzread(f, buf + used, IDX_READ_CHUNK);
        if (n < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            st = PL_ERROR(err, PL_ERR_IO, "cannot read %s: %s (corrupt gzip stream?)", path,
                          code == Z_ERRNO ? strerror(errno) : msg);
            break;
        }
        if (n == 0) {
            /* End of data: a gzip stream cut short reports Z_BUF_ERROR here. */
            int code;
            const char *msg = gzerror(f, &code);
            if (code != Z_OK && code != Z_STREAM_END)
                st = PL_ERROR(err, PL_ERR_IO, "cannot read %s: %s (truncated download?)", path,
                              msg);
            break;
        }
        used += (size_t)n;
        if (used > max_bytes) {
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s decompresses to more than %zu bytes", path,
                          max_bytes);
            break;
        }
    }
    gzclose(f);
    if (st != PL_OK) {
        pl_free(buf);
        return st;
    }
    *bytes = buf;
    *len = used;
    return PL_OK;
}

pl_status pl_idx_load(const char *path, pl_idx *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    uint8_t *bytes;
    size_t len;
    PL_TRY(pl_idx_read_bytes(path, IDX_LOAD_LIMIT, &bytes, &len, err));
    pl_status st = pl_idx_parse(bytes, len, path, out, err);
    pl_free(bytes);
    return st;
}

void pl_idx_free(pl_idx *idx) {
    pl_free(idx->data);
    memset(idx, 0, sizeof *idx);
}
