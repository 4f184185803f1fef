/* h5_summary.c - reading /summary and the root status of a metrics.h5 (see h5_summary.h). */
#include "io/h5_summary.h"

#include <hdf5.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file_open.h"
#include "io/h5_lock.h"

void pl_h5_summary_free(pl_h5_summary *s) {
    for (int i = 0; i < s->count; i++) pl_free(s->names[i]);
    pl_free(s->names);
    pl_free(s->values);
    memset(s, 0, sizeof *s);
}

/* The text attribute `name` of obj into buf ("" when absent or not text). */
static void read_text(hid_t obj, const char *name, char *buf, size_t cap) {
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0) return;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    if (t >= 0 && H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5T_CSET_UTF8);
        if (H5Aread(a, mt, &s) >= 0 && s) {
            snprintf(buf, cap, "%s", s);
            H5free_memory(s);
        }
        H5Tclose(mt);
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
}

/* Opens path read-only without HDF5's file lock; lock held. */
static pl_status open_locked(const char *path, hid_t *file, pl_error *err) {
    *file = -1;
    PL_TRY(pl_check_regular(path, err)); /* HDF5 opens by name: a FIFO would block it */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_file_locking(fapl, 0, 1) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        return PL_ERROR(err, PL_ERR_IO, "%s: HDF5 could not set up file access", path);
    }
    *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (*file < 0) {
        char detail[256];
        pl_h5_error_detail(detail, sizeof detail);
        return PL_ERROR(err, PL_ERR_IO, "%s: cannot open as HDF5 (%s)", path, detail);
    }
    return PL_OK;
}

static pl_status read_locked(const char *path, pl_h5_summary *out, pl_error *err) {
    hid_t f;
    PL_TRY(open_locked(path, &f, err));
    read_text(f, "status", out->status, sizeof out->status);
    pl_status st = PL_OK;
    hid_t g = H5Lexists(f, "summary", H5P_DEFAULT) > 0 ? H5Gopen2(f, "summary", H5P_DEFAULT) : -1;
    H5O_info_t info;
    if (g >= 0 && H5Oget_info(g, &info) >= 0 && info.num_attrs > 0) {
        int n = (int)info.num_attrs;
        out->names = pl_alloc((size_t)n, sizeof *out->names, err);
        out->values = pl_alloc((size_t)n, sizeof *out->values, err);
        if (out->names == NULL || out->values == NULL) st = PL_ERR_NOMEM;
        for (int i = 0; i < n && st == PL_OK; i++) {
            hid_t a = H5Aopen_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i, H5P_DEFAULT, H5P_DEFAULT);
            char name[256];
            double v;
            if (a < 0 || H5Aget_name(a, sizeof name, name) < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) {
                st = PL_ERROR(err, PL_ERR_FORMAT, "%s: unreadable /summary attribute %d", path, i);
            } else if ((out->names[i] = pl_strdup(name, err)) == NULL) {
                st = PL_ERR_NOMEM;
            } else {
                out->values[i] = v;
                out->count = i + 1;
            }
            if (a >= 0) H5Aclose(a);
        }
    }
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    return st;
}

pl_status pl_h5_read_summary(const char *path, pl_h5_summary *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    pl_h5_lock();
    pl_status st = read_locked(path, out, err);
    pl_h5_unlock();
    if (st != PL_OK) pl_h5_summary_free(out);
    return st;
}

typedef struct {
    char (*names)[64];
    int cap, n;
} group_names;

static herr_t note_name(hid_t group, const char *name, const H5L_info_t *info, void *ctx) {
    (void)group, (void)info;
    group_names *g = ctx;
    if (g->n < g->cap) snprintf(g->names[g->n], sizeof g->names[g->n], "%s", name);
    g->n++;
    return 0;
}

static pl_status keys_locked(const char *path, char (*keys)[65], int cap, int *n, pl_error *err) {
    hid_t f;
    PL_TRY(open_locked(path, &f, err));
    hid_t stages = H5Lexists(f, "stages", H5P_DEFAULT) > 0 ? H5Gopen2(f, "stages", H5P_DEFAULT) : -1;
    group_names g = {pl_alloc((size_t)cap + 1, sizeof *g.names, err), cap, 0};
    pl_status st = g.names != NULL ? PL_OK : PL_ERR_NOMEM;
    if (st == PL_OK && stages >= 0) H5Literate(stages, H5_INDEX_NAME, H5_ITER_INC, NULL, note_name, &g);
    for (int i = 0; st == PL_OK && i < g.n && i < cap; i++) { /* NN_<kind>: name order is stage order */
        hid_t group = H5Gopen2(stages, g.names[i], H5P_DEFAULT);
        keys[i][0] = '\0';
        if (group >= 0) read_text(group, "cache_key", keys[i], 65);
        if (group >= 0) H5Gclose(group);
    }
    *n = g.n;
    pl_free(g.names);
    if (stages >= 0) H5Gclose(stages);
    H5Fclose(f);
    return st;
}

pl_status pl_h5_read_stage_keys(const char *path, char (*keys)[65], int cap, int *n, pl_error *err) {
    *n = 0;
    pl_h5_lock();
    pl_status st = keys_locked(path, keys, cap, n, err);
    pl_h5_unlock();
    return st;
}
