/* h5_series.c - buffering metric values by row and flushing them into extendible, chunked,
 * compressed datasets attached to a dimension scale. Caller holds the HDF5 lock. */
#include "io/h5_series.h"

#include <hdf5_hl.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "io/h5_lock.h"

enum { CHUNK_ROWS = 1024, DEFLATE_LEVEL = 4, FIRST_BUF_ROWS = 64 };

static pl_status h5_fail(const pl_h5_series *s, const char *what, const char *name,
                         pl_error *err) {
    char detail[256];
    pl_h5_error_detail(detail, sizeof detail);
    return PL_ERROR(err, PL_ERR_IO, "%s: could not %s '%s' (HDF5: %s)", s->where, what, name,
                    detail);
}

void pl_h5_series_init(pl_h5_series *s, hid_t group, const char *where, const char *scale_name) {
    memset(s, 0, sizeof *s);
    s->group = group;
    s->where = where;
    s->scale_name = scale_name;
    s->scale = -1;
}

void pl_h5_series_free(pl_h5_series *s) {
    for (size_t i = 0; i < s->ncols; i++) {
        if (s->cols[i].ds >= 0) H5Dclose(s->cols[i].ds);
        pl_free(s->cols[i].name);
        pl_free(s->cols[i].buf);
    }
    if (s->scale >= 0) H5Dclose(s->scale);
    pl_free(s->cols);
    pl_free(s->steps);
    memset(s, 0, sizeof *s);
    s->scale = -1;
}

pl_h5_column *pl_h5_series_find(pl_h5_series *s, const char *name) {
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0) return &s->cols[i];
    return NULL;
}

size_t pl_h5_series_pending(const pl_h5_series *s) { return s->rows - s->written; }

/* A 1-D dataset of `rows` elements, unlimited, chunked, shuffled and deflated; float
 * datasets read NaN wherever nothing was written. */
static hid_t create_dataset(pl_h5_series *s, const char *name, hid_t ftype, hsize_t rows,
                            int nan_fill) {
    hsize_t dims = rows, maxdims = H5S_UNLIMITED, chunk = CHUNK_ROWS;
    hid_t space = H5Screate_simple(1, &dims, &maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    double nan_value = NAN;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
        H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, DEFLATE_LEVEL) >= 0 &&
        (!nan_fill || H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan_value) >= 0))
        ds = H5Dcreate2(s->group, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return ds;
}

/* Writes count elements of `data` at [start, start+count) of a dataset already that long. */
static herr_t write_slice(hid_t ds, hid_t mtype, hsize_t start, hsize_t count, const void *data) {
    hid_t fspace = H5Dget_space(ds);
    hid_t mspace = H5Screate_simple(1, &count, NULL);
    herr_t r = -1;
    if (fspace >= 0 && mspace >= 0 &&
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0)
        r = H5Dwrite(ds, mtype, mspace, fspace, H5P_DEFAULT, data);
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    return r;
}

static pl_status ensure_scale(pl_h5_series *s, pl_error *err) {
    if (s->scale >= 0) return PL_OK;
    s->scale = create_dataset(s, s->scale_name, H5T_STD_I64LE, 0, 0);
    if (s->scale < 0) return h5_fail(s, "create the dimension scale", s->scale_name, err);
    if (H5DSset_scale(s->scale, s->scale_name) < 0)
        return h5_fail(s, "mark as a dimension scale", s->scale_name, err);
    return PL_OK;
}

/* Creates a column's dataset with the rows already in the file (NaN) and attaches it. */
static pl_status ensure_dataset(pl_h5_series *s, pl_h5_column *c, pl_error *err) {
    if (c->ds >= 0) return PL_OK;
    PL_TRY(ensure_scale(s, err));
    c->ds = create_dataset(s, c->name, H5T_IEEE_F64LE, s->written, 1);
    if (c->ds < 0) return h5_fail(s, "create the metric dataset", c->name, err);
    if (H5DSattach_scale(c->ds, s->scale, 0) < 0)
        return h5_fail(s, "attach the step scale to", c->name, err);
    return PL_OK;
}

static pl_status grow_buffers(pl_h5_series *s, size_t need, pl_error *err) {
    if (need <= s->buf_cap) return PL_OK;
    size_t cap = s->buf_cap ? s->buf_cap : FIRST_BUF_ROWS;
    while (cap < need) cap *= 2;
    for (size_t i = 0; i < s->ncols; i++) {
        double *b = pl_realloc(s->cols[i].buf, cap, sizeof(double), err);
        if (b == NULL) return pl_error_wrap(err, "%s: buffering metric values", s->where);
        s->cols[i].buf = b;
    }
    s->buf_cap = cap;
    return PL_OK;
}

static pl_status append_row(pl_h5_series *s, int64_t step, pl_error *err) {
    if (s->rows == s->rows_cap) {
        size_t cap = s->rows_cap ? 2 * s->rows_cap : FIRST_BUF_ROWS;
        int64_t *steps = pl_realloc(s->steps, cap, sizeof(int64_t), err);
        if (steps == NULL) return pl_error_wrap(err, "%s: buffering steps", s->where);
        s->steps = steps;
        s->rows_cap = cap;
    }
    size_t at = s->rows - s->written;
    PL_TRY(grow_buffers(s, at + 1, err));
    for (size_t i = 0; i < s->ncols; i++) s->cols[i].buf[at] = NAN;
    s->steps[s->rows++] = step;
    return PL_OK;
}

static pl_status add_column(pl_h5_series *s, const char *name, pl_h5_column **out,
                            pl_error *err) {
    if (s->ncols == s->cols_cap) {
        size_t cap = s->cols_cap ? 2 * s->cols_cap : 16;
        pl_h5_column *cols = pl_realloc(s->cols, cap, sizeof *cols, err);
        if (cols == NULL) return pl_error_wrap(err, "%s: adding metric '%s'", s->where, name);
        s->cols = cols;
        s->cols_cap = cap;
    }
    if (s->buf_cap == 0) PL_TRY(grow_buffers(s, FIRST_BUF_ROWS, err));
    pl_h5_column c = {NULL, -1, NULL, 0, 0};
    c.name = pl_strdup(name, err);
    c.buf = c.name ? pl_realloc(NULL, s->buf_cap, sizeof(double), err) : NULL;
    if (c.buf == NULL) {
        pl_free(c.name);
        return pl_error_wrap(err, "%s: adding metric '%s'", s->where, name);
    }
    for (size_t i = 0; i < s->buf_cap; i++) c.buf[i] = NAN;
    s->cols[s->ncols] = c;
    *out = &s->cols[s->ncols++];
    return PL_OK;
}

/* Index of the row holding `step`, or -1 (rows are strictly increasing). */
static long find_row(const pl_h5_series *s, int64_t step) {
    size_t lo = 0, hi = s->rows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->steps[mid] < step) lo = mid + 1;
        else hi = mid;
    }
    return (lo < s->rows && s->steps[lo] == step) ? (long)lo : -1;
}

pl_status pl_h5_series_record(pl_h5_series *s, const char *name, int64_t step, double value,
                              pl_error *err) {
    pl_h5_column *c = pl_h5_series_find(s, name);
    if (c != NULL && c->has_last && step <= c->last_step)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "%s: metric '%s' logged at %s %lld after %s %lld; each metric's steps "
                        "must increase",
                        s->where, name, s->scale_name, (long long)step, s->scale_name,
                        (long long)c->last_step);
    long row = s->rows > 0 && step <= s->steps[s->rows - 1] ? find_row(s, step) : -2;
    if (row == -1)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "%s: metric '%s' logged at %s %lld, which falls between steps already "
                        "recorded (latest %lld); log each step's metrics before moving on",
                        s->where, name, s->scale_name, (long long)step,
                        (long long)s->steps[s->rows - 1]);
    if (c == NULL) PL_TRY(add_column(s, name, &c, err));
    if (row == -2) {
        PL_TRY(append_row(s, step, err));
        row = (long)s->rows - 1;
    }
    if ((size_t)row >= s->written) {
        c->buf[(size_t)row - s->written] = value;
    } else { /* the row is already in the file: write this one element there */
        PL_TRY(ensure_dataset(s, c, err));
        if (write_slice(c->ds, H5T_NATIVE_DOUBLE, (hsize_t)row, 1, &value) < 0)
            return h5_fail(s, "write a value of", name, err);
    }
    c->last_step = step;
    c->has_last = 1;
    return PL_OK;
}

pl_status pl_h5_series_flush(pl_h5_series *s, pl_error *err) {
    size_t pending = s->rows - s->written;
    if (pending == 0) return PL_OK;
    hsize_t rows = s->rows;
    PL_TRY(ensure_scale(s, err));
    if (H5Dset_extent(s->scale, &rows) < 0 ||
        write_slice(s->scale, H5T_NATIVE_INT64, s->written, pending, s->steps + s->written) < 0)
        return h5_fail(s, "extend and write", s->scale_name, err);
    for (size_t i = 0; i < s->ncols; i++) {
        pl_h5_column *c = &s->cols[i];
        PL_TRY(ensure_dataset(s, c, err));
        if (H5Dset_extent(c->ds, &rows) < 0 ||
            write_slice(c->ds, H5T_NATIVE_DOUBLE, s->written, pending, c->buf) < 0)
            return h5_fail(s, "extend and write", c->name, err);
    }
    s->written = s->rows;
    return PL_OK;
}
