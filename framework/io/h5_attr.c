/* h5_attr.c - scalar attribute writers that delete-and-recreate, so a value can be updated
 * (status, end time, summary metrics). Caller holds the HDF5 lock. */
#include "io/h5_attr.h"

#include "io/h5_lock.h"

static pl_status fail(const char *name, const char *where, pl_error *err) {
    char detail[256];
    pl_h5_error_detail(detail, sizeof detail);
    return PL_ERROR(err, PL_ERR_IO, "could not write attribute '%s' on %s (HDF5: %s)", name,
                    where, detail);
}

/* Writes one scalar attribute of file type `ftype` from memory of type `mtype`. */
static pl_status write_scalar(hid_t obj, const char *name, hid_t ftype, hid_t mtype,
                              const void *value, const char *where, pl_error *err) {
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0 || (exists > 0 && H5Adelete(obj, name) < 0)) return fail(name, where, err);
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0) return fail(name, where, err);
    hid_t attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t wrote = attr < 0 ? -1 : H5Awrite(attr, mtype, value);
    if (attr >= 0) H5Aclose(attr);
    H5Sclose(space);
    return wrote < 0 ? fail(name, where, err) : PL_OK;
}

pl_status pl_h5_attr_string(hid_t obj, const char *name, const char *value, const char *where,
                            pl_error *err) {
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
        if (type >= 0) H5Tclose(type);
        return fail(name, where, err);
    }
    const char *text = value ? value : "";
    pl_status s = write_scalar(obj, name, type, type, &text, where, err);
    H5Tclose(type);
    return s;
}

pl_status pl_h5_attr_int64(hid_t obj, const char *name, int64_t value, const char *where,
                           pl_error *err) {
    return write_scalar(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, where, err);
}

pl_status pl_h5_attr_uint64(hid_t obj, const char *name, uint64_t value, const char *where,
                            pl_error *err) {
    return write_scalar(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &value, where, err);
}

pl_status pl_h5_attr_double(hid_t obj, const char *name, double value, const char *where,
                            pl_error *err) {
    return write_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, where, err);
}
