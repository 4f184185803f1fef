/* fashion.h - loading the Fashion-MNIST images and labels of one set (train or t10k).
 *
 * The files come from Debian's dataset-fashion-mnist package
 * (/usr/share/datasets/fashion-mnist/). Loading checks that the image file is N x 28 x 28,
 * the label file has N entries for the same N, and every label is a class 0..9. */
#ifndef PL_DATA_FASHION_H
#define PL_DATA_FASHION_H

#include <stdint.h>

#include "core/error.h"

#define PL_FASHION_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

enum { PL_FASHION_SIDE = 28, PL_FASHION_PIXELS = 28 * 28, PL_FASHION_CLASSES = 10 };

typedef struct {
    int count;       /* images in the set */
    uint8_t *images; /* [count, 28, 28], raw 0..255 */
    uint8_t *labels; /* [count], 0..9 */
} pl_fashion;

/* Loads <dir>/<set>-images-idx3-ubyte.gz and <dir>/<set>-labels-idx1-ubyte.gz, where set is
 * "train" or "t10k". A missing directory or file is PL_ERR_MISSING with the package name. */
pl_status pl_fashion_load(const char *dir, const char *set, pl_fashion *out, pl_error *err);

/* Checks and adopts already-parsed image and label arrays (used by the loader and tests);
 * `name` labels errors. On success out owns both arrays; on failure the caller keeps them. */
pl_status pl_fashion_adopt(uint8_t *images, int image_ndim, const int *image_dims,
                           uint8_t *labels, int label_ndim, const int *label_dims,
                           const char *name, pl_fashion *out, pl_error *err);

void pl_fashion_free(pl_fashion *set);

#endif
