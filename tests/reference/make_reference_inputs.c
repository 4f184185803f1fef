/* make_reference_inputs.c - writes the inputs of the PyTorch reference check: a small VLM
 * with random weights and masks (model.safetensors, an ordinary prunelab checkpoint) and a
 * batch (batch.safetensors). tests/reference/vlm_reference.py turns them into
 * expected.safetensors; tests/test_model_reference.c compares prunelab against it.
 *
 *   make reference-fixtures      (rebuilds all three under tests/reference/fixtures/ for the
 *                                 uniform case and tests/reference/fixtures_shaped/ for the
 *                                 per-block shapes)
 *   make_reference_inputs OUTPUT_DIR [uniform|shaped] */
#include <stdio.h>
#include <string.h>

#include "core/rng.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "reference_case.h"

static int fail(const pl_error *err) {
    pl_error_print(stderr, err);
    return 1;
}

int main(int argc, char **argv) {
    const int shaped = argc == 3 && strcmp(argv[2], "shaped") == 0;
    if (argc < 2 || argc > 3 || (argc == 3 && !shaped && strcmp(argv[2], "uniform") != 0)) {
        fprintf(stderr, "usage: %s OUTPUT_DIR [uniform|shaped]\n", argv[0]);
        return 2;
    }
    pl_error err;
    vlm m;
    reference_batch batch;
    if (reference_model_case(&m, shaped, &err) != PL_OK) return fail(&err);
    reference_fill_batch(&batch);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", argv[1]);
    checkpoint_meta meta[] = {{"purpose", "pytorch reference check"}};
    if (vlm_save(&m, path, meta, 1, &err) != PL_OK) return fail(&err);

    safetensors_writer *w;
    if (safetensors_writer_create(&w, &err) != PL_OK) return fail(&err);
    float tokens[REF_BATCH * REF_TEXT], targets[REF_BATCH * REF_TEXT], cells[REF_BATCH * 4];
    for (int i = 0; i < REF_BATCH * REF_TEXT; i++)
        tokens[i] = (float)batch.tokens[i], targets[i] = (float)batch.targets[i];
    for (int i = 0; i < REF_BATCH * 4; i++) cells[i] = (float)batch.cells[i];
    float weights[3] = {REF_TASK_WEIGHT, REF_AUX_WEIGHT, REF_BRIDGE_AUX_WEIGHT};
    pl_status st = safetensors_writer_add(w, "images", 2, (int[]){REF_BATCH, REF_IMAGE * REF_IMAGE},
                                          batch.images, &err);
    if (st == PL_OK) st = safetensors_writer_add(w, "tokens", 2, (int[]){REF_BATCH, REF_TEXT}, tokens, &err);
    if (st == PL_OK) st = safetensors_writer_add(w, "targets", 2, (int[]){REF_BATCH, REF_TEXT}, targets, &err);
    if (st == PL_OK) st = safetensors_writer_add(w, "cells", 2, (int[]){REF_BATCH, 4}, cells, &err);
    if (st == PL_OK) st = safetensors_writer_add(w, "loss_weights", 1, (int[]){3}, weights, &err);
    snprintf(path, sizeof path, "%s/batch.safetensors", argv[1]);
    if (st == PL_OK) st = safetensors_writer_commit(w, path, &err);
    safetensors_writer_free(w);
    vlm_free(&m);
    return st == PL_OK ? 0 : fail(&err);
}
