/* pgm.h - binary PGM (P5) images: writing a rendered scene so a person can look at it. */
#ifndef PL_DATA_PGM_H
#define PL_DATA_PGM_H

#include <stdint.h>

#include "core/error.h"

/* Writes width x height 8-bit pixels as a binary PGM. */
pl_status pl_pgm_write(const char *path, const uint8_t *pixels, int width, int height,
                       pl_error *err);

/* Undoes the Fashion-MNIST normalisation of n pixels, clamped to 0..255. */
void pl_pixels_denormalise(const float *normalised, int n, uint8_t *out);

#endif
