/* pgm.c - binary PGM writer and the inverse of scene pixel normalisation. */
#include "data/pgm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/scenes.h"

pl_status pl_pgm_write(const char *path, const uint8_t *pixels, int width, int height,
                       pl_error *err) {
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return PL_ERROR(err, PL_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    size_t n = (size_t)width * (size_t)height;
    int ok = fprintf(f, "P5\n%d %d\n255\n", width, height) > 0 && fwrite(pixels, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    if (!ok) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return PL_OK;
}

void pl_pixels_denormalise(const float *normalised, int n, uint8_t *out) {
    for (int i = 0; i < n; i++) {
        float v = (normalised[i] * PL_FASHION_STD + PL_FASHION_MEAN) * 255.0f;
        v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
        out[i] = (uint8_t)lrintf(v);
    }
}
