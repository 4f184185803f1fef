/* h5_attr.h - writing scalar attributes (UTF-8 strings, integers, doubles) on an HDF5 object,
 * replacing any previous value. Internal to io/: call with the HDF5 lock held.
 *
 * Strings are variable-length UTF-8, so h5py returns them as str. `where` names the object
 * for error messages, e.g. "runs/ab12/metrics.h5:/stages/00_pretrain". */
#ifndef PL_IO_H5_ATTR_H
#define PL_IO_H5_ATTR_H

#include <hdf5.h>
#include <stdint.h>

#include "core/error.h"

pl_status pl_h5_attr_string(hid_t obj, const char *name, const char *value, const char *where,
                            pl_error *err);
pl_status pl_h5_attr_int64(hid_t obj, const char *name, int64_t value, const char *where,
                           pl_error *err);
pl_status pl_h5_attr_uint64(hid_t obj, const char *name, uint64_t value, const char *where,
                            pl_error *err);
pl_status pl_h5_attr_double(hid_t obj, const char *name, double value, const char *where,
                            pl_error *err);

#endif
