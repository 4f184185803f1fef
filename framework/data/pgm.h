/* pgm.h - binary PGM (P5) images: writing a rendered scene so a person can look at it, and
 * reading a user's own images. */
#ifndef PL_DATA_PGM_H
#define PL_DATA_PGM_H

#include <stdint.h>

#include "core/error.h"

/* Writes width x height 8-bit pixels as a binary PGM. */
pl_status pl_pgm_write(const char *path, const uint8_t *pixels, int width, int height,
                       pl_error *err);

/* Reads a binary PGM (P5) of exactly width x height 8-bit pixels into pixels. The header
 * may hold comments (from '#' to the end of the line); maxval must be 1..255, and pixels
 * are rescaled to 0..255 when it is below 255. A plain (P2) or 16-bit PGM, another size, a
 * pixel above maxval, a truncated file or bytes after the pixels are errors naming the
 * file and what is wrong. */
pl_status pl_pgm_read(const char *path, int width, int height, uint8_t *pixels, pl_error *err);

/* Undoes the Fashion-MNIST normalisation of n pixels, clamped to 0..255. */
void pl_pixels_denormalise(const float *normalised, int n, uint8_t *out);

#endif
