/* write_sample.c - writes a small prunelab checkpoint for the interoperability check
 * (read_safetensors.py --expect-sample) and as a fuzz seed.
 *
 *   make && gcc -std=c11 -Iframework tests/reference/write_sample.c build/libprunelab.a -lm \
 *       -o build/write_sample && build/write_sample /tmp/sample.safetensors
 *
 * Contents (the Python side recomputes them): a layout with a 2-D weight, a bias, a 4-D
 * tensor and a scalar-like [1] tensor, element j of tensor i holding the float with bits
 * 0x3e000000 + 7919·j·(i+1) (mod 2^32: includes NaNs, infinities and denormals); a mask
 * "<weight>.mask" of alternating 0/1; a tensor "special" of hand-picked bit patterns; a
 * scalar "scalar" (ndim 0); metadata "config" (JSON text) and "prunelab_version". */
#include <stdio.h>
#include <string.h>

#include "core/buffer.h"
#include "model/safetensors.h"

static const unsigned special_bits[] = {0x7fc00001u, 0x7f800001u, 0xffffffffu, 0x80000000u, 0x00000000u,
                                        0x00000001u, 0x807fffffu, 0x7f800000u, 0xff800000u, 0x7f7fffffu};

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.safetensors\n", argv[0]);
        return 2;
    }
    pl_error err;
    pl_layout layout;
    pl_layout_init(&layout);
    pl_buffer params = {0}, masks = {0};
    safetensors_writer *w = NULL;
    float special[10], scalar = -0.0f;
    memcpy(special, special_bits, sizeof special);
    pl_status st = pl_layout_add(&layout, "blocks.0.fc.weight", 2, (int[]){3, 5}, NULL, &err);
    if (st == PL_OK) st = pl_layout_add(&layout, "blocks.0.fc.bias", 1, (int[]){3}, NULL, &err);
    if (st == PL_OK) st = pl_layout_add(&layout, "vision.patch", 4, (int[]){2, 1, 3, 4}, NULL, &err);
    if (st == PL_OK) st = pl_layout_add(&layout, "ln.gain", 1, (int[]){1}, NULL, &err);
    if (st == PL_OK) st = pl_buffer_alloc(&params, &layout, &err);
    if (st == PL_OK) st = pl_buffer_alloc(&masks, &layout, &err);
    if (st == PL_OK) {
        for (int i = 0; i < layout.count; i++)
            for (size_t j = 0; j < layout.tensors[i].count; j++) {
                unsigned bits = 0x3e000000u + 7919u * (unsigned)j * (unsigned)(i + 1);
                memcpy(pl_buffer_view(&params, i) + j, &bits, 4);
                pl_buffer_view(&masks, i)[j] = (float)(j % 2);
            }
        st = safetensors_writer_create(&w, &err);
    }
    const unsigned char prunable[4] = {1, 0, 0, 0};
    if (st == PL_OK) st = safetensors_writer_add_layout(w, &layout, &params, NULL, NULL, NULL, &err);
    if (st == PL_OK) st = safetensors_writer_add_layout(w, &layout, &masks, NULL, ".mask", prunable, &err);
    if (st == PL_OK) st = safetensors_writer_add(w, "special", 1, (int[]){10}, special, &err);
    if (st == PL_OK) st = safetensors_writer_add(w, "scalar", 0, NULL, &scalar, &err);
    if (st == PL_OK)
        st = safetensors_writer_set_metadata(w, "config", "{\"preset\": \"tiny\", \"dim\": 64, \"note\": \"\xc3\xa9\\n\"}",
                                             &err);
    if (st == PL_OK) st = safetensors_writer_set_metadata(w, "prunelab_version", "0.1.0", &err);
    if (st == PL_OK) st = safetensors_writer_commit(w, argv[1], &err);
    safetensors_writer_free(w);
    pl_buffer_free(&params);
    pl_buffer_free(&masks);
    pl_layout_free(&layout);
    if (st != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    printf("wrote %s\n", argv[1]);
    return 0;
}
