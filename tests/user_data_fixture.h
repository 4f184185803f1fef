/* user_data_fixture.h - a user's own data written by the tests into a temporary directory:
 * text files (TSVs), IDX image files (plain or gzipped) and PGMs, every image holding a known
 * pixel pattern (fixture_pixel) so a test can compare a batch with the bytes it came from.
 * Static functions: included by one test file each. */
#ifndef PL_TESTS_USER_DATA_FIXTURE_H
#define PL_TESTS_USER_DATA_FIXTURE_H

#include "engine_testutil.h" /* engine_tmpdir, engine_rmdir */

#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/batch.h"

/* Pixel p of fixture image `image`. */
static inline uint8_t fixture_pixel(int image, int p) {
    return (uint8_t)((image * 37 + p * 11) % 256);
}

/* <dir>/<name> into path. */
static inline void fixture_path(const char *dir, const char *name, char *path, size_t cap) {
    cr_assert_lt(snprintf(path, cap, "%s/%s", dir, name), (int)cap);
}

/* Writes text to <dir>/<name>. */
static inline void fixture_text(const char *dir, const char *name, const char *text) {
    char path[512];
    fixture_path(dir, name, path, sizeof path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fputs(text, f) >= 0, 1);
    cr_assert_eq(fclose(f), 0);
}

/* Writes n fixture images of side x side bytes as an IDX file <dir>/<name>, gzipped if gz. */
static inline void fixture_idx(const char *dir, const char *name, int n, int side, int gz) {
    char path[512];
    fixture_path(dir, name, path, sizeof path);
    uint8_t header[16] = {0, 0, 0x08, 3};
    const uint32_t dims[3] = {(uint32_t)n, (uint32_t)side, (uint32_t)side};
    for (int d = 0; d < 3; d++)
        for (int b = 0; b < 4; b++) header[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
    gzFile f = gzopen(path, gz ? "wb" : "wbT"); /* T: plain, not compressed */
    cr_assert_not_null(f);
    cr_assert_eq(gzwrite(f, header, sizeof header), (int)sizeof header);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < side * side; p++) {
            uint8_t v = fixture_pixel(i, p);
            cr_assert_eq(gzwrite(f, &v, 1), 1);
        }
    cr_assert_eq(gzclose(f), Z_OK);
}

/* Writes <dir>/<name>: the header text, then `bytes` pixel bytes of fixture image `image`. */
static inline void fixture_pgm(const char *dir, const char *name, const char *header, int image,
                               int bytes) {
    char path[512];
    fixture_path(dir, name, path, sizeof path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    fputs(header, f);
    for (int p = 0; p < bytes; p++) fputc(fixture_pixel(image, p), f);
    cr_assert_eq(fclose(f), 0);
}

/* A 56x56 PGM of fixture image `image` with a comment in its header. */
static inline void fixture_scene_pgm(const char *dir, const char *name, int image) {
    fixture_pgm(dir, name, "P5\n# written by the tests\n56 56\n255\n", image, SCENE_PIXELS);
}

/* A fresh temporary directory with a subdirectory pgm/ for PGMs. */
static inline void fixture_dir(char *dir, size_t cap) {
    engine_tmpdir(dir, cap);
    char pgm[512];
    fixture_path(dir, "pgm", pgm, sizeof pgm);
    cr_assert_eq(mkdir(pgm, 0755), 0);
}

#endif
