/* test_safetensors.c - checkpoint files: bit-exact save/load, metadata, layouts, atomic
 * writes, and every malformed file (built byte by byte) rejected with a specific error. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/safetensors.h"

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static char *temp_dir(void) {
    char *dir = strdup("/tmp/pl_st_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
    rmdir(dir);
    free(dir);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Special values whose bits must survive: NaN payloads (quiet, signalling, negative), ±0,
 * denormals, infinities, extremes. */
static const uint32_t special_bits[] = {0x7fc00001u, 0x7f800001u, 0xffffffffu, 0xffc12345u, 0x80000000u,
                                        0x00000000u, 0x00000001u, 0x807fffffu, 0x7f800000u, 0xff800000u,
                                        0x7f7fffffu, 0x00800000u, 0x3f800000u, 0xbeaaaaabu};
enum { NSPECIAL = sizeof special_bits / sizeof special_bits[0] };

Test(safetensors, save_load_bit_exact_with_metadata) {
    float special[NSPECIAL], big[2 * 3 * 4 * 5], scalar = from_bits(0x7fa00000u);
    for (int i = 0; i < NSPECIAL; i++) special[i] = from_bits(special_bits[i]);
    for (int i = 0; i < 120; i++) big[i] = from_bits(0x3f000000u + (uint32_t)i * 7919u);
    safetensors_writer *w;
    cr_assert_eq(safetensors_writer_create(&w, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_add(w, "z.special", 1, (int[]){NSPECIAL}, special, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_add(w, "a.big", 4, (int[]){2, 3, 4, 5}, big, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_add(w, "m.scalar", 0, NULL, &scalar, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_add(w, "m.empty", 2, (int[]){0, 7}, NULL, NULL), PL_OK);
    const char *config = "{\"preset\": \"tiny\", \"d\": 64,\n \"note\": \"tab\\there \xc3\xa9 \\\"q\\\"\"}";
    cr_assert_eq(safetensors_writer_set_metadata(w, "config", config, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_set_metadata(w, "prunelab_version", "0.0.9", NULL), PL_OK);
    cr_assert_eq(safetensors_writer_set_metadata(w, "prunelab_version", "0.1.0", NULL), PL_OK);
    cr_assert_eq(safetensors_writer_set_metadata(w, "empty", "", NULL), PL_OK);

    char *dir = temp_dir(), path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    pl_error err;
    cr_assert_eq(safetensors_writer_commit(w, path, &err), PL_OK, "%s", err.message);
    cr_assert_eq(count_entries(dir), 1); /* no temporary file left behind */

    safetensors_file *f;
    cr_assert_eq(safetensors_open(&f, path, &err), PL_OK, "%s", err.message);
    cr_assert_eq(safetensors_count(f), 4);
    cr_assert_str_eq(safetensors_at(f, 0)->name, "a.big"); /* name order */
    cr_assert_str_eq(safetensors_at(f, 3)->name, "z.special");
    const safetensors_tensor *t = safetensors_find(f, "z.special");
    cr_assert_not_null(t);
    cr_assert_eq(t->ndim, 1);
    cr_assert_eq(t->shape[0], NSPECIAL);
    cr_assert_eq(memcmp(t->data, special_bits, sizeof special_bits), 0, "bits changed on the round trip");
    t = safetensors_find(f, "a.big");
    cr_assert_eq(t->ndim, 4);
    cr_assert_eq(t->shape[3], 5);
    cr_assert_eq(t->count, 120u);
    cr_assert_eq(((uintptr_t)t->data) % 64, 0u);
    cr_assert_eq(memcmp(t->data, big, sizeof big), 0);
    t = safetensors_find(f, "m.scalar");
    cr_assert(t->ndim == 0 && t->count == 1);
    cr_assert_eq(memcmp(t->data, &scalar, 4), 0);
    t = safetensors_find(f, "m.empty");
    cr_assert(t->ndim == 2 && t->count == 0 && t->shape[1] == 7);
    cr_assert_null(safetensors_find(f, "nope"));
    cr_assert_str_eq(safetensors_metadata(f, "config"), config);
    cr_assert_str_eq(safetensors_metadata(f, "prunelab_version"), "0.1.0");
    cr_assert_str_eq(safetensors_metadata(f, "format"), "pt");
    cr_assert_str_eq(safetensors_metadata(f, "prunelab_format"), SAFETENSORS_PRUNELAB_FORMAT);
    cr_assert_str_eq(safetensors_metadata(f, "empty"), "");
    cr_assert_null(safetensors_metadata(f, "absent"));
    cr_assert_eq(safetensors_metadata_count(f), 5);
    const char *k, *v;
    safetensors_metadata_at(f, 0, &k, &v);
    cr_assert_str_eq(k, "config");
    safetensors_close(f);

    /* The file on disk equals the in-memory serialisation, the header is padded to 8 bytes
     * and starts with '{'. */
    unsigned char *mem;
    size_t size;
    cr_assert_eq(safetensors_writer_serialize(w, &mem, &size, NULL), PL_OK);
    FILE *fp = fopen(path, "rb");
    unsigned char *disk = malloc(size + 1);
    cr_assert_eq(fread(disk, 1, size + 1, fp), size);
    fclose(fp);
    cr_assert_eq(memcmp(mem, disk, size), 0);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | mem[i];
    cr_assert_eq(hlen % 8, 0u);
    cr_assert_eq(mem[8], '{');
    cr_assert_eq(size, 8 + hlen + 4 * (NSPECIAL + 120 + 1));
    free(disk);
    free(mem);
    /* Committing again replaces the file in place, still leaving no temporary behind. */
    cr_assert_eq(safetensors_writer_commit(w, path, &err), PL_OK, "%s", err.message);
    cr_assert_eq(count_entries(dir), 1);
    safetensors_writer_free(w);
    remove_dir(dir);
}

Test(safetensors, same_content_same_bytes_whatever_the_order) {
    float a[3] = {1, 2, 3}, b[2] = {4, 5};
    safetensors_writer *w1, *w2;
    safetensors_writer_create(&w1, NULL);
    safetensors_writer_create(&w2, NULL);
    safetensors_writer_add(w1, "a", 1, (int[]){3}, a, NULL);
    safetensors_writer_add(w1, "b", 1, (int[]){2}, b, NULL);
    safetensors_writer_set_metadata(w1, "x", "1", NULL);
    safetensors_writer_set_metadata(w1, "y", "2", NULL);
    safetensors_writer_set_metadata(w2, "y", "2", NULL);
    safetensors_writer_add(w2, "b", 1, (int[]){2}, b, NULL);
    safetensors_writer_set_metadata(w2, "x", "1", NULL);
    safetensors_writer_add(w2, "a", 1, (int[]){3}, a, NULL);
    unsigned char *m1, *m2;
    size_t s1, s2;
    cr_assert_eq(safetensors_writer_serialize(w1, &m1, &s1, NULL), PL_OK);
    cr_assert_eq(safetensors_writer_serialize(w2, &m2, &s2, NULL), PL_OK);
    cr_assert_eq(s1, s2);
    cr_assert_eq(memcmp(m1, m2, s1), 0);
    free(m1);
    free(m2);
    safetensors_writer_free(w1);
    safetensors_writer_free(w2);
}

Test(safetensors, writer_rejects_bad_input) {
    safetensors_writer *w;
    safetensors_writer_create(&w, NULL);
    float x[4] = {0};
    pl_error err;
    cr_assert_eq(safetensors_writer_add(w, "w", 1, (int[]){4}, x, &err), PL_OK);
    cr_assert_eq(safetensors_writer_add(w, "w", 1, (int[]){4}, x, &err), PL_ERR_INVALID);
    cr_assert(strstr(err.message, "twice") != NULL);
    cr_assert_eq(safetensors_writer_add(w, "", 1, (int[]){4}, x, &err), PL_ERR_INVALID);
    cr_assert_eq(safetensors_writer_add(w, "__metadata__", 1, (int[]){4}, x, &err), PL_ERR_INVALID);
    cr_assert_eq(safetensors_writer_add(w, "bad\xff", 1, (int[]){4}, x, &err), PL_ERR_INVALID);
    cr_assert(strstr(err.message, "UTF-8") != NULL);
    cr_assert_eq(safetensors_writer_add(w, "neg", 1, (int[]){-1}, x, &err), PL_ERR_INVALID);
    cr_assert_eq(safetensors_writer_add(w, "five", 5, (int[]){1, 1, 1, 1, 1}, x, &err), PL_ERR_INVALID);
    cr_assert_eq(safetensors_writer_add(w, "nodata", 1, (int[]){4}, NULL, &err), PL_ERR_INVALID);
    cr_assert_eq(safetensors_writer_set_metadata(w, "k", "\xc3", &err), PL_ERR_INVALID);
    /* A commit into a missing directory fails cleanly. */
    cr_assert_eq(safetensors_writer_commit(w, "/nonexistent-dir/x.safetensors", &err), PL_ERR_IO);
    cr_assert(strstr(err.message, "/nonexistent-dir/x.safetensors") != NULL);
    safetensors_writer_free(w);
}

Test(safetensors, layout_save_and_load_with_masks) {
    pl_layout layout;
    pl_layout_init(&layout);
    cr_assert_eq(pl_layout_add(&layout, "blocks.0.fc.weight", 2, (int[]){3, 5}, NULL, NULL), PL_OK);
    cr_assert_eq(pl_layout_add(&layout, "blocks.0.fc.bias", 1, (int[]){3}, NULL, NULL), PL_OK);
    cr_assert_eq(pl_layout_add(&layout, "ln.weight", 1, (int[]){17}, NULL, NULL), PL_OK);
    pl_buffer params, masks;
    pl_buffer_alloc(&params, &layout, NULL);
    pl_buffer_alloc(&masks, &layout, NULL);
    for (size_t i = 0; i < layout.total; i++) {
        params.data[i] = (float)i * 0.37f - 3.0f;
        masks.data[i] = (float)(i % 2);
    }
    const unsigned char prunable[3] = {1, 0, 0};
    safetensors_writer *w;
    safetensors_writer_create(&w, NULL);
    pl_error err;
    cr_assert_eq(safetensors_writer_add_layout(w, &layout, &params, NULL, NULL, NULL, &err), PL_OK);
    cr_assert_eq(safetensors_writer_add_layout(w, &layout, &masks, NULL, ".mask", prunable, &err), PL_OK);
    float lora_a[2 * 5] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    cr_assert_eq(safetensors_writer_add(w, "blocks.0.fc.lora_a", 2, (int[]){2, 5}, lora_a, &err), PL_OK);
    unsigned char *mem;
    size_t size;
    cr_assert_eq(safetensors_writer_serialize(w, &mem, &size, &err), PL_OK);
    safetensors_writer_free(w);

    safetensors_file *f;
    cr_assert_eq(safetensors_parse(&f, mem, size, "ckpt.safetensors", &err), PL_OK, "%s", err.message);
    free(mem);
    cr_assert_eq(safetensors_count(f), 5);
    cr_assert_not_null(safetensors_find(f, "blocks.0.fc.weight.mask"));
    cr_assert_null(safetensors_find(f, "ln.weight.mask"));

    pl_buffer p2, m2;
    pl_buffer_alloc(&p2, &layout, NULL);
    pl_buffer_alloc(&m2, &layout, NULL);
    cr_assert_eq(safetensors_load_into(f, &layout, &p2, 1, &err), PL_OK, "%s", err.message);
    for (int i = 0; i < layout.count; i++)
        cr_assert_eq(memcmp(pl_buffer_view(&p2, i), pl_buffer_view(&params, i),
                            layout.tensors[i].count * sizeof(float)), 0);
    cr_assert_eq(safetensors_load_layout(f, &layout, &m2, NULL, ".mask", prunable, 1, &err), PL_OK);
    cr_assert_eq(memcmp(pl_buffer_view(&m2, 0), pl_buffer_view(&masks, 0), 15 * sizeof(float)), 0);
    /* All masks required: ln.weight.mask is absent. */
    cr_assert_eq(safetensors_load_layout(f, &layout, &m2, NULL, ".mask", NULL, 1, &err), PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "ckpt.safetensors: has no tensor \"blocks.0.fc.bias.mask\"") != NULL,
              "%s", err.message);
    /* Not required: absent tensors are left untouched. */
    pl_buffer_zero(&m2);
    m2.data[layout.tensors[2].offset] = 42.0f;
    cr_assert_eq(safetensors_load_layout(f, &layout, &m2, NULL, ".mask", NULL, 0, &err), PL_OK);
    cr_assert_eq(m2.data[layout.tensors[2].offset], 42.0f);
    safetensors_close(f);

    /* Wrong shape: a layout from another preset. */
    pl_layout other;
    pl_layout_init(&other);
    pl_layout_add(&other, "blocks.0.fc.weight", 2, (int[]){5, 3}, NULL, NULL);
    pl_buffer ob;
    pl_buffer_alloc(&ob, &other, NULL);
    safetensors_writer_create(&w, NULL);
    safetensors_writer_add_layout(w, &layout, &params, NULL, NULL, NULL, NULL);
    safetensors_writer_serialize(w, &mem, &size, NULL);
    safetensors_writer_free(w);
    cr_assert_eq(safetensors_parse(&f, mem, size, "ckpt.safetensors", &err), PL_OK);
    free(mem);
    cr_assert_eq(safetensors_load_into(f, &other, &ob, 1, &err), PL_ERR_FORMAT);
    cr_assert(strstr(err.message, "tensor \"blocks.0.fc.weight\" has shape [3, 5] but the model expects [5, 3]") !=
                  NULL,
              "%s", err.message);
    safetensors_close(f);
    pl_buffer_free(&ob);
    pl_layout_free(&other);
    pl_buffer_free(&params);
    pl_buffer_free(&masks);
    pl_buffer_free(&p2);
    pl_buffer_free(&m2);
    pl_layout_free(&layout);
}

/* ---- malformed files, built byte by byte -------------------------------------------- */

/* 8-byte little-endian length of header, the header, then ndata data bytes. */
static unsigned char *build(uint64_t declared_len, const char *header, size_t ndata, size_t *size) {
    size_t hl = strlen(header);
    *size = 8 + hl + ndata;
    unsigned char *b = calloc(*size, 1);
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(declared_len >> (8 * i));
    memcpy(b + 8, header, hl);
    for (size_t i = 0; i < ndata; i++) b[8 + hl + i] = (unsigned char)(i * 13 + 1);
    return b;
}

static void expect_bytes(const unsigned char *b, size_t size, const char *want) {
    safetensors_file *f = (safetensors_file *)1;
    pl_error err;
    pl_error_clear(&err);
    pl_status st = safetensors_parse(&f, b, size, "bad.safetensors", &err);
    cr_assert_eq(st, PL_ERR_FORMAT, "accepted a malformed file; expected: %s", want);
    cr_assert_null(f);
    cr_assert(strstr(err.message, "bad.safetensors: ") == err.message, "file not named: %s", err.message);
    cr_assert(strstr(err.message, want) != NULL, "message '%s' lacks '%s'", err.message, want);
}

/* Header of the right declared length followed by ndata data bytes. */
static void expect(const char *header, size_t ndata, const char *want) {
    size_t size;
    unsigned char *b = build(strlen(header), header, ndata, &size);
    expect_bytes(b, size, want);
    free(b);
}

static void accept(const char *header, size_t ndata) {
    size_t size;
    unsigned char *b = build(strlen(header), header, ndata, &size);
    safetensors_file *f;
    pl_error err;
    cr_assert_eq(safetensors_parse(&f, b, size, "good.safetensors", &err), PL_OK, "%s: %s", header, err.message);
    safetensors_close(f);
    free(b);
}

#define T(name, off) "\"" name "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" off "]}"

Test(safetensors, rejects_bad_lengths) {
    unsigned char small[7] = {0};
    expect_bytes(small, 7, "is 7 bytes, shorter than the 8-byte header length");
    expect_bytes(small, 0, "is 0 bytes");
    size_t size;
    unsigned char *b = build(0, "", 0, &size);
    expect_bytes(b, size, "header length is 0");
    free(b);
    b = build(UINT64_MAX, "{}", 0, &size);
    expect_bytes(b, size, "header length 18446744073709551615 is absurd");
    free(b);
    b = build(200000000, "{}", 0, &size);
    expect_bytes(b, size, "is absurd");
    free(b);
    b = build(3, "{}", 0, &size);
    expect_bytes(b, size, "header length 3 runs past the end of the 10-byte file");
    free(b);
    b = build(5, "{}", 3, &size); /* the header's last 3 bytes are binary */
    expect_bytes(b, size, "unexpected data after the JSON value, found byte 0x01");
    free(b);
    b = build(1, "{}", 0, &size); /* header "{" */
    expect_bytes(b, size, "header is not valid JSON");
    free(b);
}

Test(safetensors, rejects_bad_headers) {
    expect("not json", 0, "header is not valid JSON");
    expect("[1,2]", 0, "header is an array, not a JSON object");
    expect("\"s\"", 0, "header is a string, not a JSON object");
    expect("{} x", 0, "unexpected data after the JSON value");
    expect("{\"a\xff\":1}", 0, "invalid UTF-8");
    expect("{" T("w", "0,8") "," T("w", "8,16") "}", 16, "duplicate key \"w\"");
    expect("{\"__metadata__\":[]}", 0, "\"__metadata__\" is an array; it must be an object of strings");
    expect("{\"__metadata__\":{\"a\":\"x\",\"n\":3}}", 0, "metadata value for key \"n\" is a number");
    expect("{\"__metadata__\":{\"a\":null}}", 0, "metadata value for key \"a\" is null");
    expect("{\"w\":\"F32\"}", 0, "entry for tensor \"w\" is a string, not an object");
    expect("{" T("", "0,8") "}", 8, "a tensor has an empty name");
    expect("{\"x\": 1, \"__metadata__\": {}}", 0, "entry for tensor \"x\" is a number");
}

Test(safetensors, rejects_bad_tensor_entries) {
    expect("{\"w\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
           "tensor \"w\" has dtype F16; prunelab reads F32 only");
    expect("{\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "has dtype BF16");
    expect("{\"w\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "has dtype F64");
    expect("{\"w\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype that is a number");
    expect("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "tensor \"w\" has no \"dtype\"");
    expect("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "has no \"shape\"");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "has no \"data_offsets\"");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
           "unknown field \"x\"");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "shape that is a number");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
           "dimension 0 is not an integer");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,2.0],\"data_offsets\":[0,8]}}", 8,
           "dimension 1 is not an integer");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
           "dimension 0 is not an integer");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483648],\"data_offsets\":[0,8]}}", 8,
           "dimension 0 is not an integer");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8,
           "dimension 0 is not an integer");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647,2147483647],"
           "\"data_offsets\":[0,8]}}",
           8, "more elements than the 8-byte data section can hold");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
           "has 5 dimensions; prunelab reads at most 4");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "two non-negative integers");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "two non-negative integers");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{}}}", 8, "two non-negative integers");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "two non-negative integers");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}}", 8, "two non-negative integers");
    expect("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "end before they begin");
    expect("{" T("w", "0,16") "}", 8, "data_offsets [0, 16] run past the 8-byte data section");
    expect("{" T("w", "0,18446744073709551615") "}", 8, "two non-negative integers");
    expect("{" T("w", "0,12") "}", 12, "spans 12 bytes but its shape needs 8");
}

Test(safetensors, rejects_bad_coverage) {
    expect("{" T("a", "0,8") "," T("b", "4,12") "}", 12, "tensors \"a\" and \"b\" overlap");
    expect("{" T("a", "0,8") "," T("b", "0,8") "}", 8, "overlap");
    expect("{" T("a", "0,8") "," T("b", "12,20") "}", 20, "data bytes [8, 12) before tensor \"b\" belong to no tensor");
    expect("{" T("a", "4,12") "}", 12, "data bytes [0, 4) before tensor \"a\"");
    expect("{" T("a", "0,8") "}", 11, "3 data bytes after the last tensor belong to no tensor");
    expect("{}", 4, "4 bytes of data but no tensors");
    expect("{\"__metadata__\":{}}", 1, "no tensors");
    /* A zero-size tensor sitting inside another overlaps it. */
    expect("{" T("a", "0,8") ",\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, "overlap");
}

Test(safetensors, accepts_other_writers_files) {
    /* No metadata, no padding, unaligned data start, out-of-order offsets, a zero-size
     * tensor at the boundary, whitespace and escapes in the header. */
    accept("{}", 0);
    accept(" { \"__metadata__\" : { } } ", 0);
    accept("{" T("b", "0,8") "," T("a", "8,16") "}", 16);
    accept("{\"\\u0061\":{\"data_offsets\":[0,8],\"shape\":[2],\"dtype\":\"F32\"},"
           "\"e\":{\"dtype\":\"F32\",\"shape\":[3,0],\"data_offsets\":[8,8]}}",
           8);
    size_t size;
    const char *h = "{" T("w", "0,8") "}";
    unsigned char *b = build(strlen(h), h, 8, &size);
    safetensors_file *f;
    cr_assert_eq(safetensors_parse(&f, b, size, "x", NULL), PL_OK);
    const safetensors_tensor *t = safetensors_find(f, "w");
    cr_assert_eq(((uintptr_t)t->data) % 64, 0u);
    cr_assert_eq(memcmp(t->data, b + 8 + strlen(h), 8), 0);
    cr_assert_eq(safetensors_metadata_count(f), 0);
    cr_assert_null(safetensors_metadata(f, "format"));
    safetensors_close(f);
    free(b);
}

Test(safetensors, file_errors_name_the_file) {
    safetensors_file *f;
    pl_error err;
    cr_assert_eq(safetensors_open(&f, "/nonexistent/ckpt.safetensors", &err), PL_ERR_IO);
    cr_assert(strstr(err.message, "cannot open checkpoint /nonexistent/ckpt.safetensors") != NULL, "%s", err.message);
    cr_assert_eq(safetensors_open(&f, "/tmp", &err), PL_ERR_IO);
    cr_assert(strstr(err.message, "not a regular file") != NULL);

    /* A good file, then truncated at every interesting length. */
    float x[6] = {1, 2, 3, 4, 5, 6};
    safetensors_writer *w;
    safetensors_writer_create(&w, NULL);
    safetensors_writer_add(w, "x", 2, (int[]){2, 3}, x, NULL);
    char *dir = temp_dir(), path[256];
    snprintf(path, sizeof path, "%s/t.safetensors", dir);
    cr_assert_eq(safetensors_writer_commit(w, path, &err), PL_OK);
    safetensors_writer_free(w);
    struct stat sb;
    stat(path, &sb);
    off_t full = sb.st_size;
    cr_assert_eq(safetensors_open(&f, path, &err), PL_OK);
    safetensors_close(f);
    const off_t cuts[] = {full - 1, full - 24, full - 25, 9, 8, 7, 0};
    const char *want[] = {"run past the 23-byte data section", "run past the 0-byte data section",
                          "runs past the end", "runs past the end", "runs past the end",
                          "shorter than the 8-byte", "is 0 bytes"};
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(truncate(path, cuts[i]), 0);
        cr_assert_eq(safetensors_open(&f, path, &err), PL_ERR_FORMAT);
        cr_assert_null(f);
        cr_assert(strstr(err.message, path) == err.message, "%s", err.message);
        cr_assert(strstr(err.message, want[i]) != NULL, "cut %d: %s", (int)cuts[i], err.message);
    }
    remove_dir(dir);
}
