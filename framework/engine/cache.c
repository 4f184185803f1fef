/* cache.c - stage cache keys and paths (the key is defined in cache.h). */
#include "engine/cache.h"

#include <stdio.h>
#include <string.h>

#include "config/path.h"

#include "engine/fsutil.h"
#include "engine/stage.h"

enum { MAX_KEY_PATHS = CFG_PATH_SEGMENTS + 8 };

/* Re-hashes the key with a file's (or directory's) content hash appended. */
static pl_status fold(char key[CFG_HASH_HEX], const char *content_hash, pl_error *err) {
    char joined[2 * CFG_HASH_HEX];
    snprintf(joined, sizeof joined, "%s%s", key, content_hash);
    return cfg_sha256_hex(joined, strlen(joined), key, err);
}

pl_status pl_cache_key(const pl_run *run, int stage, pl_hash_memo *memo, char out[CFG_HASH_HEX],
                       pl_error *err) {
    char names[MAX_KEY_PATHS][24];
    const char *paths[MAX_KEY_PATHS] = {"data", "model", "seed"};
    int n = 3;
    /* numerics (the training precision): from the first training stage on, and only when
     * the run sets something other than the defaults (then it is in the semantic tree), so
     * the keys of runs without it are what they always were, and a BF16 run shares the
     * loaded and pruned models before its first training stage with FP32 runs. */
    bool trained = false;
    for (int j = 0; j <= stage && !trained; j++) {
        const char *kind;
        if (cfg_stage_at(run->semantic, j, &kind) == NULL) break;
        const pl_stage_kind *k = pl_stage_find(kind);
        trained = k != NULL && k->trains;
    }
    if (trained && cfg_get(run->semantic, "numerics") != NULL) paths[n++] = "numerics";
    /* The numerics slot is kept free when unused: every run has the same stage limit. */
    const int limit = n == 3 ? MAX_KEY_PATHS - 1 : MAX_KEY_PATHS;
    for (int j = 0; j <= stage; j++) {
        const char *kind;
        if (cfg_stage_at(run->semantic, j, &kind) == NULL)
            return PL_ERROR(err, PL_ERR_INTERNAL, "run %s has no pipeline stage %d", run->run_id, j);
        const pl_stage_kind *k = pl_stage_find(kind);
        if (j < stage && (k == NULL || !k->produces_model)) continue;
        if (n == limit)
            return PL_ERROR(err, PL_ERR_CONFIG, "run %s: more than %d model stages in one pipeline",
                            run->run_id, MAX_KEY_PATHS - 4);
        snprintf(names[n], sizeof names[n], "pipeline.%d", j);
        paths[n] = names[n];
        n++;
    }
    PL_TRY(cfg_hash_subtrees(run->semantic, paths, n, out, err));
    /* Every file the stage depends on: a user's data, then each checkpoint a stage up to it
     * reads; its content hash folded in, in that order. */
    pl_cache_input inputs[PL_CACHE_MAX_INPUTS];
    int n_inputs;
    PL_TRY(pl_cache_inputs(run, stage, inputs, &n_inputs, err));
    for (int i = 0; i < n_inputs; i++) {
        char hash[CFG_HASH_HEX];
        if (pl_content_sha256(memo, inputs[i].path, inputs[i].dir_suffix, hash, err) != PL_OK) {
            if (inputs[i].stage < 0) return pl_error_wrap(err, "reading %s for the cache key", inputs[i].key);
            return pl_error_wrap(err, "pipeline stage %d: %s", inputs[i].stage, inputs[i].key);
        }
        PL_TRY(fold(out, hash, err));
    }
    /* A stage kind whose computation changed since it first shipped says so by its numerics
     * version; folding it in keeps old cached outputs from being mixed with new ones. Kinds
     * at version 0 fold nothing, so their keys are what they always were. */
    for (int j = 0; j <= stage; j++) {
        const char *kind;
        const cfg_node *section = cfg_stage_at(run->semantic, j, &kind);
        const pl_stage_kind *k = pl_stage_find(kind);
        if (k == NULL || (j < stage && !k->produces_model)) continue;
        const int numerics = pl_stage_numerics(k, section);
        if (numerics == 0) continue;
        char version[64];
        snprintf(version, sizeof version, "numerics:%s=%d", kind, numerics);
        PL_TRY(fold(out, version, err));
    }
    return PL_OK;
}

/* Appends an input; an error when there are more than out can hold. */
static pl_status add_input(pl_cache_input *out, int *n, int stage, const char *key, const char *path,
                           const char *dir_suffix, pl_error *err) {
    if (*n == PL_CACHE_MAX_INPUTS)
        return PL_ERROR(err, PL_ERR_CONFIG, "more than %d input files in one pipeline", PL_CACHE_MAX_INPUTS);
    pl_cache_input *in = &out[(*n)++];
    in->stage = stage;
    snprintf(in->key, sizeof in->key, "%s", key);
    in->path = path;
    in->dir_suffix = dir_suffix;
    return PL_OK;
}

pl_status pl_cache_inputs(const pl_run *run, int stage, pl_cache_input out[PL_CACHE_MAX_INPUTS], int *n,
                          pl_error *err) {
    *n = 0;
    /* A user's data: its TSV and images are inputs of every stage (a PGM directory by its
     * .pgm files). */
    const cfg_node *tsv = cfg_get(run->semantic, "data.tsv"), *images = cfg_get(run->semantic, "data.images");
    if (tsv != NULL && tsv->kind == CFG_STRING && tsv->u.s[0] != '\0') {
        PL_TRY(add_input(out, n, -1, "data.tsv", tsv->u.s, NULL, err));
        if (images == NULL || images->kind != CFG_STRING)
            return PL_ERROR(err, PL_ERR_CONFIG, "run %s: data.tsv is set but data.images is not", run->run_id);
        PL_TRY(add_input(out, n, -1, "data.images", images->u.s, ".pgm", err));
    }
    /* The checkpoints stage `stage` and every earlier model stage read. */
    for (int j = 0; j <= stage; j++) {
        const char *kind;
        const cfg_node *section = cfg_stage_at(run->semantic, j, &kind);
        const pl_stage_kind *k = section != NULL ? pl_stage_find(kind) : NULL;
        if (k == NULL || (j < stage && !k->produces_model)) continue;
        for (int f = 0; k->files[f].key != NULL; f++) {
            const char *path = pl_stage_file(k, section, f);
            char key[96];
            snprintf(key, sizeof key, "%s.%s", kind, k->files[f].key);
            if (path != NULL) PL_TRY(add_input(out, n, j, key, path, NULL, err));
        }
    }
    return PL_OK;
}

void pl_cache_model_path(const char *results, const char *key, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/cache/%s.safetensors", results, key);
}

void pl_cache_record_path(const char *results, const char *key, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/cache/%s.metrics.tsv", results, key);
}

void pl_cache_lock_path(const char *results, const char *key, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/cache/%s.lock", results, key);
}

bool pl_cache_has(const char *results, const char *key) {
    char a[4096], b[4096];
    pl_cache_model_path(results, key, a, sizeof a);
    pl_cache_record_path(results, key, b, sizeof b);
    return pl_file_exists(b) && pl_file_exists(a);
}
