/* fuzz_safetensors.c - libFuzzer target: any byte string given to the safetensors reader is
 * either rejected with an error or accepted; an accepted file, rewritten by prunelab's writer
 * and read back, must give the same tensors bit for bit and the same metadata. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"

static void same_or_abort(const safetensors_file *a, const safetensors_file *b) {
    if (safetensors_count(a) != safetensors_count(b)) abort();
    for (int i = 0; i < safetensors_count(a); i++) {
        const safetensors_tensor *x = safetensors_at(a, i), *y = safetensors_find(b, x->name);
        if (y == NULL || x->ndim != y->ndim || x->count != y->count) abort();
        if (memcmp(x->shape, y->shape, sizeof x->shape) != 0) abort();
        if (x->count > 0 && memcmp(x->data, y->data, x->count * sizeof(float)) != 0) abort();
    }
    for (int i = 0; i < safetensors_metadata_count(a); i++) {
        const char *k, *v;
        safetensors_metadata_at(a, i, &k, &v);
        const char *w = safetensors_metadata(b, k);
        if (w == NULL || strcmp(v, w) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    safetensors_file *f = NULL;
    pl_error err;
    pl_error_clear(&err);
    if (safetensors_parse(&f, data, size, "fuzz.safetensors", &err) != PL_OK) {
        if (f != NULL || err.message[0] == '\0') abort(); /* failures must say why */
        return 0;
    }
    safetensors_writer *w = NULL;
    if (safetensors_writer_create(&w, NULL) != PL_OK) abort();
    for (int i = 0; i < safetensors_count(f); i++) {
        const safetensors_tensor *t = safetensors_at(f, i);
        if (safetensors_writer_add(w, t->name, t->ndim, t->shape, t->data, &err) != PL_OK) abort();
    }
    for (int i = 0; i < safetensors_metadata_count(f); i++) {
        const char *k, *v;
        safetensors_metadata_at(f, i, &k, &v);
        if (safetensors_writer_set_metadata(w, k, v, &err) != PL_OK) abort();
    }
    unsigned char *bytes = NULL;
    size_t n = 0;
    if (safetensors_writer_serialize(w, &bytes, &n, &err) != PL_OK) abort();
    safetensors_file *g = NULL;
    if (safetensors_parse(&g, bytes, n, "rewritten", &err) != PL_OK) abort();
    same_or_abort(f, g);
    safetensors_close(g);
    free(bytes);
    safetensors_writer_free(w);
    safetensors_close(f);
    return 0;
}
