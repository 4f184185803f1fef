/* h5_curve.c - one metric series of one stage read from metrics.h5 (see h5_curve.h). */
#include "io/h5_curve.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file_open.h"
#include "io/h5_lock.h"

typedef struct {
    const char *want;  /* kind or full group name */
    char found[256];   /* the matching group's name, "" until found */
    char names[512];   /* every name seen, for messages */
    size_t used;
} link_search;

static void remember(link_search *s, const char *name) {
    if (s->used + strlen(name) + 3 < sizeof s->names)
        s->used += (size_t)snprintf(s->names + s->used, sizeof s->names - s->used, "%s%s", s->used ? ", " : "", name);
}

/* Stage groups are NN_<kind>: a kind matches the part after the first '_'. */
static herr_t find_stage(hid_t group, const char *name, const H5L_info_t *info, void *p) {
    (void)group, (void)info;
    link_search *s = p;
    remember(s, name);
    const char *under = strchr(name, '_');
    if (s->found[0] == '\0' && (strcmp(name, s->want) == 0 || (under && strcmp(under + 1, s->want) == 0)))
        snprintf(s->found, sizeof s->found, "%s", name);
    return 0;
}

static herr_t list_names(hid_t group, const char *name, const H5L_info_t *info, void *p) {
    (void)group, (void)info;
    if (strcmp(name, "step") != 0 && strcmp(name, "eval_step") != 0 && strcmp(name, "summary") != 0)
        remember(p, name);
    return 0;
}

static herr_t first_scale(hid_t ds, unsigned dim, hid_t scale, void *p) {
    (void)ds, (void)dim;
    if (H5Iinc_ref(scale) >= 0) *(hid_t *)p = scale; /* ours to close, after the iteration's */
    return 1;
}

/* Reads a 1-D dataset as doubles into a new array. */
static pl_status read_doubles(hid_t ds, const char *what, double **out, int *n, pl_error *err) {
    hid_t space = H5Dget_space(ds);
    hsize_t dims[1] = {0};
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (rank == 1) H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0) H5Sclose(space);
    if (rank != 1 || dims[0] > (1u << 30))
        return PL_ERROR(err, PL_ERR_FORMAT, "%s is not a 1-D series", what);
    *n = (int)dims[0];
    *out = pl_alloc(dims[0] + 1, sizeof **out, err);
    if (*out == NULL) return PL_ERR_NOMEM;
    if (dims[0] > 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        char detail[256];
        pl_h5_error_detail(detail, sizeof detail);
        pl_free(*out);
        *out = NULL;
        return PL_ERROR(err, PL_ERR_FORMAT, "cannot read %s: %s", what, detail);
    }
    return PL_OK;
}

static pl_status read_stage(hid_t file, const char *path, const char *stage, const char *metric, pl_curve *out,
                            pl_error *err) {
    hid_t stages = H5Lexists(file, "stages", H5P_DEFAULT) > 0 ? H5Gopen2(file, "stages", H5P_DEFAULT) : -1;
    if (stages < 0) return PL_ERROR(err, PL_ERR_FORMAT, "%s has no /stages group", path);
    link_search s = {.want = stage};
    H5Literate(stages, H5_INDEX_NAME, H5_ITER_INC, NULL, find_stage, &s);
    if (s.found[0] == '\0') {
        H5Gclose(stages);
        return PL_ERROR(err, PL_ERR_MISSING, "%s has no stage '%s' (stages: %s)", path, stage, s.used ? s.names : "none");
    }
    hid_t g = H5Gopen2(stages, s.found, H5P_DEFAULT);
    H5Gclose(stages);
    if (g < 0) return PL_ERROR(err, PL_ERR_FORMAT, "%s: cannot open /stages/%s", path, s.found);
    char what[1024];
    snprintf(what, sizeof what, "%s:/stages/%s/%s", path, s.found, metric);
    if (H5Lexists(g, metric, H5P_DEFAULT) <= 0) {
        link_search names = {.want = ""};
        H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, list_names, &names);
        H5Gclose(g);
        return PL_ERROR(err, PL_ERR_MISSING, "%s: no such metric (metrics there: %s)", what,
                        names.used ? names.names : "none");
    }
    hid_t ds = H5Dopen2(g, metric, H5P_DEFAULT), scale = -1;
    H5Gclose(g);
    if (ds < 0) return PL_ERROR(err, PL_ERR_FORMAT, "%s is not a dataset", what);
    H5DSiterate_scales(ds, 0, NULL, first_scale, &scale);
    if (scale < 0) {
        H5Dclose(ds);
        return PL_ERROR(err, PL_ERR_FORMAT, "%s has no step scale attached", what);
    }
    double *steps = NULL, *values = NULL;
    int ns = 0, nv = 0;
    pl_status st = read_doubles(scale, what, &steps, &ns, err);
    if (st == PL_OK) st = read_doubles(ds, what, &values, &nv, err);
    H5Dclose(scale);
    H5Dclose(ds);
    if (st == PL_OK) {
        int n = ns < nv ? ns : nv, k = 0;
        for (int i = 0; i < n; i++)
            if (!isnan(values[i])) steps[k] = steps[i], values[k] = values[i], k++;
        *out = (pl_curve){k, steps, values};
        return PL_OK;
    }
    pl_free(steps);
    pl_free(values);
    return st;
}

pl_status pl_h5_read_curve(const char *path, const char *stage, const char *metric, pl_curve *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    PL_TRY(pl_check_regular(path, err)); /* HDF5 opens by name: a FIFO would block it */
    pl_h5_lock();
    pl_status st;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t file = fapl >= 0 && H5Pset_file_locking(fapl, 0, 1) >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : -1;
    if (fapl >= 0) H5Pclose(fapl);
    if (file < 0) {
        char detail[256];
        pl_h5_error_detail(detail, sizeof detail);
        st = PL_ERROR(err, PL_ERR_IO, "cannot open %s: %s", path, detail);
    } else {
        st = read_stage(file, path, stage, metric, out, err);
        H5Fclose(file);
    }
    pl_h5_unlock();
    return st;
}

void pl_curve_free(pl_curve *c) {
    pl_free(c->step);
    pl_free(c->value);
    memset(c, 0, sizeof *c);
}
