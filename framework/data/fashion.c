/* fashion.c - Fashion-MNIST set loading with shape, count and label checks. */
#include "data/fashion.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "data/idx.h"

#define PACKAGE_HINT                                                                      \
    "install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist, " \
    "or `make deps`) or point data.path at a directory holding the Fashion-MNIST .gz files"

pl_status pl_fashion_adopt(uint8_t *images, int image_ndim, const int *image_dims,
                           uint8_t *labels, int label_ndim, const int *label_dims,
                           const char *name, pl_fashion *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    if (image_ndim != 3 || image_dims[1] != PL_FASHION_SIDE || image_dims[2] != PL_FASHION_SIDE)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s images must be N x 28 x 28, got %d dimensions (%d x %d x %d)", name,
                        image_ndim, image_dims[0], image_ndim > 1 ? image_dims[1] : 0,
                        image_ndim > 2 ? image_dims[2] : 0);
    if (label_ndim != 1)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s labels must be a 1-D IDX file, got %d dimensions",
                        name, label_ndim);
    if (label_dims[0] != image_dims[0])
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s has %d images but %d labels: the two files are not a pair", name,
                        image_dims[0], label_dims[0]);
    for (int i = 0; i < label_dims[0]; i++)
        if (labels[i] >= PL_FASHION_CLASSES)
            return PL_ERROR(err, PL_ERR_FORMAT, "%s label %d is %d; classes are 0..9", name, i,
                            labels[i]);
    out->count = image_dims[0];
    out->images = images;
    out->labels = labels;
    return PL_OK;
}

pl_status pl_fashion_load(const char *dir, const char *set, pl_fashion *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return PL_ERROR(err, PL_ERR_MISSING, "Fashion-MNIST directory %s does not exist: %s",
                        dir, PACKAGE_HINT);
    char ipath[4096], lpath[4096];
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, set);
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, set);
    const char *paths[2] = {ipath, lpath};
    for (int i = 0; i < 2; i++)
        if (stat(paths[i], &sb) != 0)
            return PL_ERROR(err, PL_ERR_MISSING, "Fashion-MNIST file %s is missing: %s",
                            paths[i], PACKAGE_HINT);
    pl_idx im, lb;
    PL_TRY(pl_idx_load(ipath, &im, err));
    pl_status st = pl_idx_load(lpath, &lb, err);
    if (st != PL_OK) {
        pl_idx_free(&im);
        return st;
    }
    char name[64];
    snprintf(name, sizeof name, "Fashion-MNIST %s set", set);
    st = pl_fashion_adopt(im.data, im.ndim, im.dims, lb.data, lb.ndim, lb.dims, name, out, err);
    if (st != PL_OK) {
        pl_idx_free(&im);
        pl_idx_free(&lb);
        return pl_error_wrap(err, "in %s", dir);
    }
    return PL_OK;
}

void pl_fashion_free(pl_fashion *set) {
    pl_free(set->images);
    pl_free(set->labels);
    memset(set, 0, sizeof *set);
}
