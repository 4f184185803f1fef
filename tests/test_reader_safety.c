/* test_reader_safety.c - every reader opens without blocking, and a checkpoint holds nothing
 * the model does not use:
 *   - a FIFO where a checkpoint, a teacher, a config file, a TSV, an IDX file, index.tsv or a
 *     metrics.h5 is read is refused at once (opening it for reading would wait forever for
 *     a writer), naming the path and, where a config named it, the key and file:line;
 *   - masks of only some prunable weights (the first one's missing included), masks other
 *     than 0/1 or NaN, stray tensors, and adapter factors without their metadata are
 *     refused by name instead of ignored or applied.
 * Every test here has a timeout: a reader that blocks fails instead of hanging the suite. */
#include "engine_testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "config/yaml_load.h"
#include "core/file_open.h"
#include "data/idx.h"
#include "engine/collect.h"
#include "engine/fsutil.h"
#include "engine/lock.h"
#include "engine/preflight.h"
#include "io/h5_summary.h"
#include "io/results.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"

/* A FIFO at dir/name (path into buf). */
static void make_fifo(const char *dir, const char *name, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", dir, name);
    cr_assert_eq(mkfifo(buf, 0644), 0);
}

Test(reader_safety, a_fifo_checkpoint_is_refused_not_waited_for, .timeout = 20) {
    char dir[64], fifo[128];
    engine_tmpdir(dir, sizeof dir);
    make_fifo(dir, "model.safetensors", fifo, sizeof fifo);
    vlm m;
    pl_error err;
    cr_assert_eq(vlm_load(&m, fifo, 1, &err), PL_ERR_IO); /* what `prunelab eval FIFO` does */
    cr_expect_not_null(strstr(err.message, "FIFO"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, fifo), "%s", err.message);
    char hash[65];
    cr_expect_neq(pl_file_sha256(fifo, hash, &err), PL_OK, "hashing it for a cache key");
    engine_rmdir(dir);
}

Test(reader_safety, every_reader_refuses_a_fifo, .timeout = 20) {
    char dir[64], fifo[128];
    engine_tmpdir(dir, sizeof dir);
    make_fifo(dir, "x", fifo, sizeof fifo);
    pl_error err;
    cfg_arena a;
    cfg_arena_init(&a);
    cfg_node *root;
    cr_expect_eq(cfg_load_file(&a, fifo, &root, &err), PL_ERR_IO, "config file");
    cfg_arena_free(&a);
    uint8_t *bytes;
    size_t len;
    cr_expect_eq(pl_idx_read_bytes(fifo, 1 << 20, &bytes, &len, &err), PL_ERR_IO, "IDX file");
    pl_h5_summary s;
    cr_expect_eq(pl_h5_read_summary(fifo, &s, &err), PL_ERR_IO, "metrics.h5");
    char *text;
    cr_expect_eq(pl_read_file(fifo, &text, NULL, &err), PL_ERR_IO, "small files");
    cr_expect_not_null(strstr(err.message, "FIFO"), "%s", err.message);
    /* a directory is refused where a file is read, and taken only where asked for */
    int fd;
    cr_expect_eq(pl_open_read(dir, NULL, 0, &fd, &err), PL_ERR_IO);
    cr_expect_not_null(strstr(err.message, "a directory"), "%s", err.message);
    cr_expect_eq(pl_open_read(dir, NULL, PL_OPEN_DIR, &fd, &err), PL_OK);
    close(fd);
    engine_rmdir(dir);
}

/* An index.tsv that is a FIFO: reading the results fails at once. */
Test(reader_safety, a_fifo_index_is_refused, .timeout = 20) {
    char dir[64], fifo[128];
    engine_tmpdir(dir, sizeof dir);
    make_fifo(dir, "index.tsv", fifo, sizeof fifo);
    pl_results r;
    pl_error err;
    cr_expect_eq(pl_results_read(dir, &r, &err), PL_ERR_IO);
    cr_expect_not_null(strstr(err.message, "FIFO"), "%s", err.message);
    engine_rmdir(dir);
}

/* An experiment file finetuning with a teacher at `teacher`; preflight must refuse it,
 * naming the key and its file:line. */
static void expect_teacher_refused(const char *dir, const char *teacher, const char *what) {
    char path[256];
    snprintf(path, sizeof path, "%s/teacher.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "defaults:\n  - %s/configs/model/tiny.yaml\n  - %s/configs/data/fashion_scenes.yaml\n"
               "pipeline:\n  - load: {path: %s/experiments/teachers/tiny.safetensors}\n"
               "  - finetune: {adapter: lora, steps: 1, batch_size: 4,\n"
               "               teacher: %s}\n",
            getenv("PWD"), getenv("PWD"), getenv("PWD"), teacher);
    fclose(f);
    pl_experiment *exp;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load(path, NULL, 0, &exp, &err), PL_OK, "%s", err.message);
    cr_expect_eq(pl_preflight(exp, &err), PL_ERR_CONFIG);
    cr_expect_not_null(strstr(err.message, "teacher.yaml:7:"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, "'finetune': teacher"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, what), "%s", err.message);
    pl_experiment_free(exp);
}

Test(reader_safety, preflight_refuses_a_fifo_or_directory_teacher_at_its_key, .timeout = 20) {
    char dir[64], fifo[128];
    engine_tmpdir(dir, sizeof dir);
    make_fifo(dir, "teacher.safetensors", fifo, sizeof fifo);
    expect_teacher_refused(dir, fifo, "is a FIFO (named pipe)");
    expect_teacher_refused(dir, dir, "is a directory");
    expect_teacher_refused(dir, "/nonexistent/t.safetensors", "cannot be read");
    engine_rmdir(dir);
}

Test(reader_safety, preflight_refuses_a_fifo_data_tsv_at_its_key, .timeout = 20) {
    char dir[64], fifo[128], override[200];
    engine_tmpdir(dir, sizeof dir);
    make_fifo(dir, "samples.tsv", fifo, sizeof fifo);
    snprintf(override, sizeof override, "data.tsv=%s", fifo);
    const char *ov[] = {"data.dataset=files", override, "data.images=/tmp"};
    pl_experiment *exp;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_experiment_load("experiments/quickstart.yaml", ov, 3, &exp, &err), PL_OK, "%s", err.message);
    cr_expect_eq(pl_preflight(exp, &err), PL_ERR_CONFIG);
    cr_expect_not_null(strstr(err.message, "<override 2>"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, "data.tsv"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, "FIFO"), "%s", err.message);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* ---- checkpoint tensors besides the weights ------------------------------------------- */

static model_config micro_config(void) {
    model_config c;
    cr_assert_eq(model_config_preset(&c, "tiny", NULL), PL_OK);
    c.dim_vision = 16, c.dim_query = 16, c.dim_language = 24;
    c.layers_vision = 1, c.layers_query = 1, c.layers_language = 1;
    c.vocab_size = 20, c.text_len = 8;
    return c;
}

/* A micro model with masks (every third weight pruned) and, when adapters, unmerged LoRA
 * factors, saved to path. */
static void save_masked(const char *path, bool adapters) {
    model_config c = micro_config();
    vlm m;
    pl_error err;
    cr_assert_eq(vlm_create(&m, &c, 1, &err), PL_OK);
    vlm_init(&m, 7);
    cr_assert_eq(vlm_enable_masks(&m, &err), PL_OK);
    for (int t = 0; t < m.index.layout.count; t++)
        for (size_t i = 0; m.index.prunable[t] && i < m.index.layout.tensors[t].count; i += 3)
            pl_buffer_view(&m.masks, t)[i] = 0.0f, pl_buffer_view(&m.params, t)[i] = 0.0f;
    if (adapters) {
        adapter_config ac = {.rank = {2, 1, 2}, .alpha = 8.0f, .modules = 7u, .layer_kinds = LAYER_QKV};
        cr_assert_eq(adapters_create(&m.adapters, &m.index, ADAPTER_LORA, &ac, 1, &err), PL_OK, "%s", err.message);
    }
    cr_assert_eq(vlm_save(&m, path, NULL, 0, &err), PL_OK, "%s", err.message);
    vlm_free(&m);
}

typedef struct {
    const char *drop;        /* tensor left out, or NULL */
    const char *poke;        /* tensor whose element 1 becomes `value`, or NULL */
    float value;
    const char *add;         /* extra 1-element tensor, or NULL */
    const char *drop_meta;   /* metadata key left out, or NULL */
} rewrite;

/* Copies the checkpoint at from to `to`, changed as rw says. */
static void rewrite_checkpoint(const char *from, const char *to, const rewrite *rw) {
    safetensors_file *f;
    pl_error err;
    cr_assert_eq(safetensors_open(&f, from, &err), PL_OK, "%s", err.message);
    safetensors_writer *w;
    cr_assert_eq(safetensors_writer_create(&w, &err), PL_OK);
    float *copies[512];
    int n_copies = 0;
    for (int i = 0; i < safetensors_count(f); i++) {
        const safetensors_tensor *t = safetensors_at(f, i);
        if (rw->drop && strcmp(t->name, rw->drop) == 0) continue;
        float *data = malloc(t->count * sizeof *data);
        cr_assert_not_null(data);
        memcpy(data, t->data, t->count * sizeof *data);
        if (rw->poke && strcmp(t->name, rw->poke) == 0) data[1] = rw->value;
        copies[n_copies++] = data;
        cr_assert_eq(safetensors_writer_add(w, t->name, t->ndim, t->shape, data, &err), PL_OK, "%s", err.message);
    }
    static const float one = 1.0f;
    if (rw->add) cr_assert_eq(safetensors_writer_add(w, rw->add, 1, (int[]){1}, &one, &err), PL_OK);
    for (int i = 0; i < safetensors_metadata_count(f); i++) {
        const char *key, *value;
        safetensors_metadata_at(f, i, &key, &value);
        if (rw->drop_meta && strcmp(key, rw->drop_meta) == 0) continue;
        cr_assert_eq(safetensors_writer_set_metadata(w, key, value, &err), PL_OK);
    }
    cr_assert_eq(safetensors_writer_commit(w, to, &err), PL_OK, "%s", err.message);
    safetensors_writer_free(w);
    for (int i = 0; i < n_copies; i++) free(copies[i]);
    safetensors_close(f);
}

/* The rewritten checkpoint must be refused with a format error naming `name`. */
static void expect_refused(bool adapters, rewrite rw, const char *name, const char *what) {
    char dir[64], good[128], bad[128];
    engine_tmpdir(dir, sizeof dir);
    snprintf(good, sizeof good, "%s/good.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    save_masked(good, adapters);
    vlm m;
    pl_error err;
    cr_assert_eq(vlm_load(&m, good, 1, &err), PL_OK, "the unchanged file: %s", err.message);
    vlm_free(&m);
    rewrite_checkpoint(good, bad, &rw);
    pl_error_clear(&err);
    cr_expect_neq(vlm_load(&m, bad, 1, &err), PL_OK, "%s was accepted", what);
    cr_expect_not_null(strstr(err.message, name), "the error names %s: %s", name, err.message);
    engine_rmdir(dir);
}

/* The first prunable weight in layout order is vision.blocks.0.attn.qkv.weight: its mask
 * missing used to make the loader ignore every mask. */
Test(checkpoint_tensors, masks_of_only_some_weights_are_refused) {
    expect_refused(false, (rewrite){.drop = "vision.blocks.0.attn.qkv.weight.mask"},
                   "vision.blocks.0.attn.qkv.weight.mask", "a file without the first mask");
    expect_refused(false, (rewrite){.drop = "language.blocks.0.mlp.fc2.weight.mask"},
                   "language.blocks.0.mlp.fc2.weight.mask", "a file without a later mask");
}

Test(checkpoint_tensors, masks_other_than_zero_or_one_are_refused) {
    expect_refused(false, (rewrite){.poke = "bridge.blocks.0.mlp.fc1.weight.mask", .value = 0.5f},
                   "bridge.blocks.0.mlp.fc1.weight.mask", "a mask of 0.5");
    expect_refused(false, (rewrite){.poke = "bridge.blocks.0.mlp.fc1.weight.mask", .value = NAN},
                   "bridge.blocks.0.mlp.fc1.weight.mask", "a NaN mask");
}

Test(checkpoint_tensors, stray_tensors_are_refused_by_name) {
    expect_refused(false, (rewrite){.add = "language.token_embedding.weight.mask"},
                   "language.token_embedding.weight.mask", "a mask of a weight that is never pruned");
    expect_refused(false, (rewrite){.add = "vision.blocks.7.attn.qkv.weight.mask"},
                   "vision.blocks.7.attn.qkv.weight.mask", "a mask of a block the model lacks");
    expect_refused(false, (rewrite){.add = "optimizer.step"}, "optimizer.step", "an unknown tensor");
    expect_refused(false, (rewrite){.add = "vision.blocks.0.heads.keep"}, "vision.blocks.0.heads.keep",
                   "keep flags of a model without unit masks");
    expect_refused(true, (rewrite){.add = "language.token_embedding.weight.lora_a"},
                   "language.token_embedding.weight.lora_a", "a factor of a weight that never gets one");
    /* a factor of another layer kind widens the set the file's factors describe: refused,
     * naming a factor of that set the file lacks */
    expect_refused(true, (rewrite){.add = "bridge.blocks.0.mlp.fc1.weight.lora_a"},
                   "mlp.fc1.weight.lora_a", "a factor outside the adapter set");
}

Test(checkpoint_tensors, adapter_factors_without_their_metadata_are_refused) {
    expect_refused(true, (rewrite){.drop_meta = "adapter_kind"}, "lora_a", "factors without adapter_kind");
}

/* A FIFO where a run's lock file should be: status asks whether it is held without
 * blocking. */
Test(reader_safety, a_fifo_lock_file_does_not_block_status, .timeout = 20) {
    char dir[64], fifo[128];
    engine_tmpdir(dir, sizeof dir);
    make_fifo(dir, "lock", fifo, sizeof fifo);
    bool held = true;
    pl_error err;
    pl_error_clear(&err);
    (void)pl_lock_query(fifo, &held, &err); /* any answer, at once */
    cr_expect(!held);
    engine_rmdir(dir);
}
