/* pgm.c - binary PGM writer and reader, and the inverse of scene pixel normalisation. */
#include "data/pgm.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/file_open.h"
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

enum { PGM_HEADER_MAX = 4096, PGM_NUMBER_MAX = 65535 };

/* Skips whitespace and comments; returns the position of the next header token. */
static size_t skip_blanks(const uint8_t *bytes, size_t len, size_t pos) {
    while (pos < len) {
        if (bytes[pos] == '#')
            while (pos < len && bytes[pos] != '\n') pos++;
        else if (isspace(bytes[pos])) pos++;
        else break;
    }
    return pos;
}

/* Reads one decimal header number at *pos (after blanks); -1 if there is none. */
static long header_number(const uint8_t *bytes, size_t len, size_t *pos) {
    size_t p = skip_blanks(bytes, len, *pos);
    long value = -1;
    for (; p < len && isdigit(bytes[p]); p++) {
        value = (value < 0 ? 0 : value * 10) + (bytes[p] - '0');
        if (value > PGM_NUMBER_MAX) return -1;
    }
    *pos = p;
    return value;
}

static pl_status pgm_parse(const uint8_t *bytes, size_t len, const char *path, int width,
                           int height, uint8_t *pixels, pl_error *err) {
    if (len < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '2'))
        return PL_ERROR(err, PL_ERR_FORMAT, "%s is not a PGM image (it does not start with P5)",
                        path);
    if (bytes[1] == '2')
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s is a plain (ASCII, P2) PGM; save it as a binary (P5) PGM", path);
    size_t pos = 2;
    long w = header_number(bytes, len, &pos), h = header_number(bytes, len, &pos);
    long maxval = header_number(bytes, len, &pos);
    if (w < 1 || h < 1 || maxval < 1 || pos >= len || !isspace(bytes[pos]))
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s has a malformed PGM header (expected P5, width, height, maxval "
                        "1..65535 and one whitespace before the pixels)",
                        path);
    pos++;
    if (maxval > 255)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s is a 16-bit PGM (maxval %ld); save it with 8 bits per pixel", path,
                        maxval);
    if (w != width || h != height)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s is %ldx%ld pixels; expected %dx%d", path, w, h,
                        width, height);
    size_t n = (size_t)width * (size_t)height;
    if (len - pos != n)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s holds %zu pixel bytes after its header; a %dx%d PGM holds %zu (%s)",
                        path, len - pos, width, height, n,
                        len - pos < n ? "truncated" : "trailing data");
    for (size_t i = 0; i < n; i++) {
        unsigned v = bytes[pos + i];
        if (v > (unsigned)maxval)
            return PL_ERROR(err, PL_ERR_FORMAT, "%s: pixel %zu is %u, above its maxval %ld",
                            path, i, v, maxval);
        pixels[i] = (uint8_t)((v * 255u + (unsigned)maxval / 2) / (unsigned)maxval);
    }
    return PL_OK;
}

pl_status pl_pgm_read(const char *path, int width, int height, uint8_t *pixels, pl_error *err) {
    FILE *f;
    PL_TRY(pl_fopen_read(path, NULL, PL_OPEN_DATASET, &f, err));
    size_t cap = (size_t)width * (size_t)height + PGM_HEADER_MAX;
    uint8_t *bytes = pl_alloc(cap + 1, 1, err);
    if (bytes == NULL) {
        fclose(f);
        return pl_error_wrap(err, "reading %s", path);
    }
    size_t len = fread(bytes, 1, cap + 1, f);
    int failed = ferror(f);
    fclose(f);
    pl_status st;
    if (failed) st = PL_ERROR(err, PL_ERR_IO, "cannot read %s", path);
    else if (len > cap)
        st = PL_ERROR(err, PL_ERR_FORMAT, "%s is larger than a %dx%d PGM can be", path, width,
                      height);
    else st = pgm_parse(bytes, len, path, width, height, pixels, err);
    pl_free(bytes);
    return st;
}

void pl_pixels_denormalise(const float *normalised, int n, uint8_t *out) {
    for (int i = 0; i < n; i++) {
        float v = (normalised[i] * PL_FASHION_STD + PL_FASHION_MEAN) * 255.0f;
        v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
        out[i] = (uint8_t)lrintf(v);
    }
}
