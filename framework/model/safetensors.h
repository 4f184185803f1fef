/* safetensors.h - prunelab checkpoints: F32 tensors and string metadata in safetensors files.
 *
 * File format (https://huggingface.co/docs/safetensors, the format the PyTorch ecosystem
 * loads): an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON
 *   {"__metadata__": {"key": "value", ...},
 *    "<tensor name>": {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}, ...}
 * then the data section: every tensor's elements, row-major, little-endian, at
 * [begin, end) relative to the start of the data section.
 *
 * What prunelab writes: tensors and metadata keys sorted by name (byte order), data packed
 * in that order with no gaps, the header padded with spaces to a multiple of 8 bytes (so the
 * data section starts 8-byte aligned), and two metadata keys added unless the caller set
 * them: "format": "pt" (what PyTorch-side loaders expect) and "prunelab_format": "1" (see
 * SAFETENSORS_PRUNELAB_FORMAT). The same tensors and metadata always give the same bytes.
 * The file is written to "<path>.tmp.<pid>.XXXXXX", fsync'd, then renamed over path, so a
 * crash leaves either the old file or the new one, never a torn file.
 *
 * What prunelab reads: every check in safetensors_parse (see there); F32 only. Tensor data is
 * copied into one 64-byte aligned allocation owned by the safetensors_file (each tensor
 * 64-byte aligned), so pointers stay valid until safetensors_close and do not depend on the
 * file staying in place; the file is read with pread, never mapped. */
#ifndef PL_MODEL_SAFETENSORS_H
#define PL_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buffer.h"
#include "core/error.h"

#define SAFETENSORS_PRUNELAB_FORMAT "1"

/* Largest header accepted: the limit of the reference implementation (100 MB). */
enum { SAFETENSORS_MAX_HEADER = 100000000 };

/* ---- writing ------------------------------------------------------------------------ */

typedef struct safetensors_writer safetensors_writer;

pl_status safetensors_writer_create(safetensors_writer **out, pl_error *err);
void safetensors_writer_free(safetensors_writer *w);

/* Adds one F32 tensor. The name is copied; data is NOT copied and must stay valid (and
 * unchanged) until the commit. 0 <= ndim <= PL_MAX_DIMS, dimensions >= 0 (ndim 0 is a
 * scalar of one element). Names must be non-empty UTF-8 without NUL, not "__metadata__",
 * and unique (a duplicate is reported here). */
pl_status safetensors_writer_add(safetensors_writer *w, const char *name, int ndim, const int *shape,
                                 const float *data, pl_error *err);

/* Adds the tensors of buf (over layout) as "<prefix><name><suffix>" (prefix and suffix may
 * be NULL). select, when non-NULL, has layout->count flags: only tensors with select[i] != 0
 * are added. E.g. masks of prunable tensors: (w, layout, &masks, NULL, ".mask", prunable). */
pl_status safetensors_writer_add_layout(safetensors_writer *w, const pl_layout *layout,
                                        const pl_buffer *buf, const char *prefix, const char *suffix,
                                        const unsigned char *select, pl_error *err);

/* Sets metadata key to value (both copied, UTF-8 without NUL). Setting a key again replaces
 * its value. The model config goes here as JSON text under "config". */
pl_status safetensors_writer_set_metadata(safetensors_writer *w, const char *key, const char *value,
                                          pl_error *err);

/* Serialises into memory: *bytes (free with free()) holds *size bytes of a complete file. */
pl_status safetensors_writer_serialize(const safetensors_writer *w, unsigned char **bytes,
                                       size_t *size, pl_error *err);

/* Writes the file atomically (temporary file, fsync, rename, fsync of the directory). The
 * writer stays usable; free it afterwards. */
pl_status safetensors_writer_commit(const safetensors_writer *w, const char *path, pl_error *err);

/* ---- reading ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    int ndim;                 /* 0..PL_MAX_DIMS */
    int shape[PL_MAX_DIMS];
    size_t count;             /* product of shape (1 for ndim 0) */
    const float *data;        /* count floats, 64-byte aligned, host order */
} safetensors_tensor;

typedef struct safetensors_file safetensors_file;

/* Opens and fully validates path, and reads all tensor data. Errors name the path. */
pl_status safetensors_open(safetensors_file **out, const char *path, pl_error *err);

/* The same from a complete file image in memory (size bytes; copied, need not outlive the
 * call). label stands for the file name in error messages. Rejected, each with a message
 * saying which tensor and what is wrong:
 *   - fewer than 8 bytes; header length 0, above SAFETENSORS_MAX_HEADER, or past the end;
 *   - header not valid UTF-8 JSON, not an object, trailing non-whitespace, duplicate keys;
 *   - "__metadata__" not an object of string values;
 *   - a tensor entry not an object, a missing or unknown field (dtype/shape/data_offsets);
 *   - dtype not a string, or not "F32" ("tensor X has dtype F16; prunelab reads F32 only");
 *   - shape not an array of integers >= 0 (each <= INT_MAX), more than PL_MAX_DIMS dims,
 *     or an element count whose byte size overflows;
 *   - data_offsets not two integers, begin > end, end past the data section, end - begin
 *     not 4 x elements;
 *   - tensors overlapping, a hole between tensors, bytes before the first or after the last
 *     (the data section must be exactly covered). */
pl_status safetensors_parse(safetensors_file **out, const void *bytes, size_t size, const char *label,
                            pl_error *err);

void safetensors_close(safetensors_file *f);

const char *safetensors_path(const safetensors_file *f);

/* Tensors in name order: i in [0, count). */
int safetensors_count(const safetensors_file *f);
const safetensors_tensor *safetensors_at(const safetensors_file *f, int i);

/* The tensor called name, or NULL. O(log n). */
const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name);

/* The metadata value for key, or NULL. Metadata entries in key order: i in [0, count). */
const char *safetensors_metadata(const safetensors_file *f, const char *key);
int safetensors_metadata_count(const safetensors_file *f);
void safetensors_metadata_at(const safetensors_file *f, int i, const char **key, const char **value);

/* Fills buf (over layout) from f by name: tensor "<prefix><name><suffix>" must have exactly
 * the layout's shape. A tensor absent from f is an error when required, otherwise left
 * as it is in buf. select as in safetensors_writer_add_layout. Tensors in f that are not
 * in the layout are ignored. */
pl_status safetensors_load_layout(const safetensors_file *f, const pl_layout *layout, pl_buffer *buf,
                                  const char *prefix, const char *suffix, const unsigned char *select,
                                  int required, pl_error *err);

/* safetensors_load_layout with no prefix, suffix or selection. */
pl_status safetensors_load_into(const safetensors_file *f, const pl_layout *layout, pl_buffer *buf,
                                int required, pl_error *err);

#endif
