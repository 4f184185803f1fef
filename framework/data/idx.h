/* idx.h - reading IDX files (the format of MNIST and Fashion-MNIST), gzipped or plain.
 *
 * An IDX file is a 4-byte magic (0, 0, type code, number of dimensions), one big-endian
 * 32-bit size per dimension, then the elements. prunelab reads unsigned-byte files only
 * (type 0x08), which is what image and label files hold. The parser works on a memory
 * buffer so it can be tested and fuzzed without files; the loader decompresses with zlib
 * and hands the bytes to the parser. Every size is checked: the dimensions must account for
 * the payload exactly, byte for byte. */
#ifndef PL_DATA_IDX_H
#define PL_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum { PL_IDX_MAX_DIMS = 4, PL_IDX_TYPE_UBYTE = 0x08 };

typedef struct {
    int ndim;
    int dims[PL_IDX_MAX_DIMS];
    size_t count;  /* product of dims: number of bytes in data */
    uint8_t *data; /* owned (pl_alloc) */
} pl_idx;

/* Parses bytes[0..len) as an IDX file; `name` (a path or a label) appears in errors.
 * On success `out` owns a copy of the payload; on failure `out` is left empty. */
pl_status pl_idx_parse(const uint8_t *bytes, size_t len, const char *name, pl_idx *out,
                       pl_error *err);

/* Reads a whole file, decompressing it if it is gzipped (zlib reads plain files as they
 * are). Files that decompress past max_bytes are rejected (a guard against bombs). */
pl_status pl_idx_read_bytes(const char *path, size_t max_bytes, uint8_t **bytes, size_t *len,
                            pl_error *err);

/* pl_idx_read_bytes + pl_idx_parse. */
pl_status pl_idx_load(const char *path, pl_idx *out, pl_error *err);

void pl_idx_free(pl_idx *idx);

#endif
