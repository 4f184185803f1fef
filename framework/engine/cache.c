/* cache.c - stage cache keys and paths (the key is defined in cache.h). */
#include "engine/cache.h"

#include <stdio.h>
#include <string.h>

#include "config/path.h"

#include "engine/fsutil.h"
#include "engine/settings.h"
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
    /* A user's data: its TSV and images are inputs of every stage. */
    pl_data_config data;
    PL_TRY(settings_data(run->semantic, &data, err));
    const char *tsv = data.tsv, *images = data.images;
    if (tsv[0] != '\0') {
        char tsv_hash[CFG_HASH_HEX], images_hash[CFG_HASH_HEX];
        if (pl_content_sha256(memo, tsv, NULL, tsv_hash, err) != PL_OK)
            return pl_error_wrap(err, "reading data.tsv for the cache key");
        if (pl_content_sha256(memo, images, ".pgm", images_hash, err) != PL_OK)
            return pl_error_wrap(err, "reading data.images for the cache key");
        PL_TRY(fold(out, tsv_hash, err));
        PL_TRY(fold(out, images_hash, err));
    }
    /* Every checkpoint a stage reads (load's file, a teacher named by path): fold its
     * SHA-256 into the key of that stage and of every later one. */
    for (int j = 0; j <= stage; j++) {
        const char *kind;
        const cfg_node *section = cfg_stage_at(run->semantic, j, &kind);
        const pl_stage_kind *k = pl_stage_find(kind);
        if (k == NULL || (j < stage && !k->produces_model)) continue;
        for (int f = 0; k->files[f].key != NULL; f++) {
            const char *path = pl_stage_file(k, section, f);
            char file_hash[CFG_HASH_HEX];
            if (path == NULL) continue;
            if (pl_content_sha256(memo, path, NULL, file_hash, err) != PL_OK)
                return pl_error_wrap(err, "pipeline stage %d '%s': %s.%s", j, kind, kind, k->files[f].key);
            PL_TRY(fold(out, file_hash, err));
        }
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
