/* test_data_idx.c - the IDX parser and loader on good and corrupted inputs, and the
 * Fashion-MNIST set checks. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, truncate */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "data/fashion.h"
#include "data/idx.h"

/* An IDX ubyte file with dims d[0..nd) and payload i % 251. */
static size_t make_idx(uint8_t *buf, int nd, const int *d, size_t extra) {
    buf[0] = 0, buf[1] = 0, buf[2] = 0x08, buf[3] = (uint8_t)nd;
    size_t count = 1;
    for (int i = 0; i < nd; i++) {
        uint32_t v = (uint32_t)d[i];
        buf[4 + 4 * i] = (uint8_t)(v >> 24), buf[5 + 4 * i] = (uint8_t)(v >> 16);
        buf[6 + 4 * i] = (uint8_t)(v >> 8), buf[7 + 4 * i] = (uint8_t)v;
        count *= (size_t)d[i];
    }
    size_t h = 4 + 4 * (size_t)nd;
    for (size_t i = 0; i < count + extra; i++) buf[h + i] = (uint8_t)(i % 251);
    return h + count + extra;
}

static uint8_t buf[1 << 16];

Test(data_idx, parses_a_good_buffer) {
    size_t len = make_idx(buf, 3, (int[]){5, 4, 3}, 0);
    pl_idx idx;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_idx_parse(buf, len, "mem", &idx, &err), PL_OK, "%s", err.message);
    cr_assert_eq(idx.ndim, 3);
    cr_assert_eq(idx.dims[0], 5);
    cr_assert_eq(idx.dims[2], 3);
    cr_assert_eq(idx.count, 60u);
    cr_assert_eq(idx.data[59], 59);
    pl_idx_free(&idx);
}

static void expect_error(size_t len, const char *fragment) {
    pl_idx idx;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_idx_parse(buf, len, "bad.idx", &idx, &err), PL_ERR_FORMAT);
    cr_assert_null(idx.data);
    cr_assert(strstr(err.message, fragment) != NULL, "message: %s", err.message);
    cr_assert(strstr(err.message, "bad.idx") != NULL, "message names the file: %s", err.message);
}

Test(data_idx, rejects_corruption_with_clear_errors) {
    size_t len = make_idx(buf, 2, (int[]){10, 10}, 0);
    expect_error(3, "shorter than the 4-byte magic");
    buf[0] = 0x1f;
    expect_error(len, "bad magic");
    make_idx(buf, 2, (int[]){10, 10}, 0);
    buf[2] = 0x0D; /* float elements */
    expect_error(len, "element type 0x0d");
    make_idx(buf, 2, (int[]){10, 10}, 0);
    buf[3] = 9;
    expect_error(len, "declares 9 dimensions");
    make_idx(buf, 2, (int[]){10, 10}, 0);
    expect_error(len - 1, "is truncated"); /* one byte short */
    len = make_idx(buf, 2, (int[]){10, 10}, 1);
    expect_error(len, "trailing data");
    make_idx(buf, 2, (int[]){10, 10}, 0);
    expect_error(9, "cannot hold the 12-byte header");
    make_idx(buf, 1, (int[]){4}, 0); /* then claim 3 dims of 2^31-1, 2^31-1, 4: overflow bait */
    buf[3] = 3;
    for (int i = 4; i < 12; i++) buf[i] = (i % 4 == 0) ? 0x7f : 0xff;
    buf[12] = 0, buf[13] = 0, buf[14] = 0, buf[15] = 4;
    expect_error(24, "truncated");
    make_idx(buf, 1, (int[]){1}, 0);
    buf[7] = 0; /* a zero dimension */
    expect_error(9, "has size 0");
}

static void write_gz(const char *path, const uint8_t *data, size_t len, size_t cut) {
    gzFile f = gzopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(gzwrite(f, data, (unsigned)len), (int)len);
    gzclose(f);
    if (cut) cr_assert_eq(truncate(path, cut), 0);
}

Test(data_idx, loads_gzip_and_reports_truncated_streams) {
    char path[] = "/tmp/pl_idx_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    size_t len = make_idx(buf, 3, (int[]){20, 28, 28}, 0);
    write_gz(path, buf, len, 0);
    pl_idx idx;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_idx_load(path, &idx, &err), PL_OK, "%s", err.message);
    cr_assert_eq(idx.count, 20u * 28 * 28);
    cr_assert_eq(memcmp(idx.data, buf + 16, idx.count), 0);
    pl_idx_free(&idx);
    /* cut the compressed file in half: a read error or a size mismatch, never success */
    write_gz(path, buf, len, 200);
    cr_assert_neq(pl_idx_load(path, &idx, &err), PL_OK);
    cr_assert(strstr(err.message, path) != NULL, "%s", err.message);
    unlink(path);
    cr_assert_eq(pl_idx_load("/nonexistent/x.gz", &idx, &err), PL_ERR_MISSING);
}

Test(data_fashion, checks_pairs_and_names_the_package) {
    pl_fashion set;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_fashion_load("/nonexistent/fashion", "train", &set, &err), PL_ERR_MISSING);
    cr_assert(strstr(err.message, "dataset-fashion-mnist") != NULL, "%s", err.message);
    cr_assert_eq(pl_fashion_load("/tmp", "no-such-set", &set, &err), PL_ERR_MISSING);
    cr_assert(strstr(err.message, "no-such-set-images-idx3-ubyte.gz is missing") != NULL, "%s",
              err.message);
    cr_assert(strstr(err.message, "dataset-fashion-mnist") != NULL, "%s", err.message);

    uint8_t images[3 * 28 * 28] = {0}, labels[3] = {1, 2, 3};
    cr_assert_eq(pl_fashion_adopt(images, 3, (int[]){3, 28, 28}, labels, 1, (int[]){2}, "toy",
                                  &set, &err),
                 PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "3 images but 2 labels") != NULL, "%s", err.message);
    cr_assert_eq(pl_fashion_adopt(images, 3, (int[]){3, 27, 29}, labels, 1, (int[]){3}, "toy",
                                  &set, &err),
                 PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "N x 28 x 28") != NULL, "%s", err.message);
    labels[1] = 10;
    cr_assert_eq(pl_fashion_adopt(images, 3, (int[]){3, 28, 28}, labels, 1, (int[]){3}, "toy",
                                  &set, &err),
                 PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "label 1 is 10") != NULL, "%s", err.message);
}

Test(data_fashion, loads_the_real_files) {
    pl_fashion set;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_fashion_load(PL_FASHION_DEFAULT_DIR, "t10k", &set, &err), PL_OK, "%s",
                 err.message);
    cr_assert_eq(set.count, 10000);
    int hist[10] = {0};
    for (int i = 0; i < set.count; i++) hist[set.labels[i]]++;
    for (int c = 0; c < 10; c++) cr_assert_eq(hist[c], 1000);
    pl_fashion_free(&set);
}
