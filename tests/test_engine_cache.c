/* test_engine_cache.c - the stage cache: a sweep trains each teacher once; a second
 * invocation computes nothing; an eval-only change reuses every model; adding a seed
 * computes only that seed's teacher; cache keys follow their definition (engine/cache.h);
 * a corrupt or truncated entry is moved aside and recomputed, an unsealed one is reused and
 * sealed (engine/cache_seal.h). */
#include "engine_testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "config/schema.h"
#include "engine/cache.h"
#include "engine/stage.h"

static const char *const FAST[] = {"engine.threads=1"};

Test(engine_cache, second_invocation_computes_nothing) {
    char dir[64];
    engine_tmpdir(dir, sizeof dir);
    pl_engine_report a = engine_sweep(dir, FAST, 1, NULL);
    cr_expect_eq(a.runs, 8);
    cr_expect_eq(a.completed, 8);
    cr_expect_eq(a.stages_computed, 2, "one teacher per seed, shared by 4 runs each");
    cr_expect_eq(a.failed, 0);
    pl_engine_report b = engine_sweep(dir, FAST, 1, NULL);
    cr_expect_eq(b.already_completed, 8);
    cr_expect_eq(b.completed, 0);
    cr_expect_eq(b.stages_computed, 0);
    cr_expect_eq(b.stages_reused, 0, "completed runs need no stage at all");
    engine_rmdir(dir);
}

Test(engine_cache, changed_keys_recompute_only_dependents) {
    char dir[64], path[512];
    engine_tmpdir(dir, sizeof dir);
    engine_sweep(dir, FAST, 1, NULL);
    /* an eval setting: new runs, but no model stage depends on it */
    const char *eval_change[] = {"engine.threads=1", "pipeline.eval.batch_size=4"};
    pl_engine_report b = engine_sweep(dir, eval_change, 2, NULL);
    cr_expect_eq(b.completed, 8);
    cr_expect_eq(b.stages_computed, 0);
    cr_expect_eq(b.stages_reused, 2);
    /* seeds 1 and 2: seed 1's teacher is cached, seed 2's is new */
    const char *seeds[] = {"engine.threads=1", "sweep.seeds=[1, 2]"};
    pl_experiment *exp = engine_load(dir, seeds, 2);
    char key[CFG_HASH_HEX];
    pl_error err;
    cr_assert_eq(pl_cache_key(&exp->runs[0], 0, NULL, key, &err), PL_OK);
    pl_cache_model_path(dir, key, path, sizeof path);
    struct stat before, after;
    bool seed1_first = exp->runs[0].seed == 1;
    if (seed1_first) cr_assert_eq(stat(path, &before), 0);
    pl_experiment_free(exp);
    pl_engine_report c = engine_sweep(dir, seeds, 2, NULL);
    cr_expect_eq(c.already_completed, 4, "the seed-1 runs completed in the first invocation");
    cr_expect_eq(c.completed, 4);
    cr_expect_eq(c.stages_computed, 1);
    cr_expect_eq(c.stages_reused, 0, "completed seed-1 runs need nothing; seed 2 is new");
    if (seed1_first) {
        cr_assert_eq(stat(path, &after), 0);
        cr_expect_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
        cr_expect_eq(before.st_ino, after.st_ino, "a cached model is never rewritten");
    }
    engine_rmdir(dir);
}

Test(engine_cache, key_ignores_eval_and_engine_settings) {
    const char *a_ov[] = {"engine.jobs=1"}, *b_ov[] = {"engine.jobs=2", "pipeline.eval.samples=3"};
    pl_experiment *a = engine_load("/tmp/unused", a_ov, 1), *b = engine_load("/tmp/unused", b_ov, 1 + 1);
    char ka[CFG_HASH_HEX], kb[CFG_HASH_HEX], ke1[CFG_HASH_HEX], ke2[CFG_HASH_HEX];
    pl_error err;
    cr_assert_eq(pl_cache_key(&a->runs[0], 0, NULL, ka, &err), PL_OK);
    cr_assert_eq(pl_cache_key(&b->runs[0], 0, NULL, kb, &err), PL_OK);
    cr_expect_str_eq(ka, kb, "the teacher's key depends on neither engine.* nor eval");
    cr_assert_eq(pl_cache_key(&a->runs[0], 1, NULL, ke1, &err), PL_OK);
    cr_assert_eq(pl_cache_key(&a->runs[2], 1, NULL, ke2, &err), PL_OK);
    cr_expect_str_neq(ke1, ke2, "different eval sections, different keys");
    cr_expect_str_neq(ka, ke1);
    pl_experiment_free(a);
    pl_experiment_free(b);
}

/* The config layer's stage kinds are the registry's: each resolves to its own entry, and the
 * schema finds each one's section through the catalog. */
Test(engine_cache, every_catalog_kind_is_registered) {
    const cfg_stage_catalog *stages = pl_stage_catalog();
    cr_assert_geq(stages->count, 8);
    for (int i = 0; i < stages->count; i++) {
        const char *kind = stages->section_at(i)->name;
        const pl_stage_kind *k = pl_stage_find(kind);
        cr_assert_not_null(k, "stage kind '%s' has no implementation", kind);
        cr_assert_eq(k->schema, stages->section_at(i));
        cr_assert_eq(cfg_stage_section(stages, kind), k->schema);
    }
}

/* ---- integrity of entries ------------------------------------------------------------- */

/* A first sweep, then the path of seed 0's (run 0's) teacher entry and the runs removed, so
 * the next sweep must run everything again from the cache. */
static void sweep_then_forget_runs(const char *dir, char *model, size_t cap) {
    engine_sweep(dir, FAST, 1, NULL);
    pl_experiment *exp = engine_load(dir, FAST, 1);
    char key[CFG_HASH_HEX], cmd[256];
    pl_error err;
    cr_assert_eq(pl_cache_key(&exp->runs[0], 0, NULL, key, &err), PL_OK, "%s", err.message);
    pl_experiment_free(exp);
    pl_cache_model_path(dir, key, model, cap);
    snprintf(cmd, sizeof cmd, "rm -rf '%s/tiny_sweep'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* <key>.sha256 next to <key>.safetensors. */
static void seal_path_of(const char *model, char *buf, size_t cap) {
    snprintf(buf, cap, "%.*s.sha256", (int)(strlen(model) - strlen(".safetensors")), model);
}

static char *read_seal(const char *model) {
    char path[600], *text;
    pl_error err;
    seal_path_of(model, path, sizeof path);
    cr_assert_eq(pl_read_file(path, &text, NULL, &err), PL_OK, "no seal: %s", err.message);
    return text;
}

static void flip_a_byte(const char *model) {
    FILE *f = fopen(model, "r+b");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, -1000, SEEK_END), 0); /* inside the last tensor's data */
    int c = fgetc(f);
    cr_assert_eq(fseek(f, -1000, SEEK_END), 0);
    fputc(c ^ 0x10, f);
    fclose(f);
}

static void cut_in_half(const char *model) {
    struct stat sb;
    cr_assert_eq(stat(model, &sb), 0);
    cr_assert_eq(truncate(model, sb.st_size / 2), 0);
}

/* Damages seed 0's teacher after a sweep; the next sweep must recompute exactly it, warn
 * naming its file, leave a .corrupt- copy and end with the same model bytes as the first
 * time (training is deterministic). */
static void expect_damage_recomputed(void (*damage)(const char *model)) {
    char dir[64], model[512], cmd[700];
    engine_tmpdir(dir, sizeof dir);
    sweep_then_forget_runs(dir, model, sizeof model);
    char *seal_before = read_seal(model), *log_text = NULL;
    damage(model);
    size_t log_len = 0;
    FILE *log = open_memstream(&log_text, &log_len);
    cr_assert_not_null(log);
    pl_engine_report b = engine_sweep_log(dir, FAST, 1, NULL, log);
    fclose(log);
    cr_expect_eq(b.completed, 8);
    cr_expect_eq(b.failed, 0);
    cr_expect_eq(b.stages_computed, 1, "only the damaged teacher");
    cr_expect_eq(b.stages_reused, 1);
    cr_expect_not_null(strstr(log_text, "warning: cache entry"), "%s", log_text);
    cr_expect_not_null(strstr(log_text, model), "the warning names the file: %s", log_text);
    snprintf(cmd, sizeof cmd, "ls '%s'.corrupt-* >/dev/null 2>&1", model);
    cr_expect_eq(system(cmd), 0, "the corrupt file is kept aside");
    char *seal_after = read_seal(model);
    /* the model's line (the metrics carry timings, which differ) */
    cr_expect_eq(strncmp(seal_after, seal_before, 64), 0, "the recomputed model is the original one");
    free(seal_after);
    free(seal_before);
    free(log_text);
    engine_rmdir(dir);
}

Test(engine_cache, flipped_byte_is_moved_aside_and_recomputed) { expect_damage_recomputed(flip_a_byte); }

Test(engine_cache, truncated_entry_is_moved_aside_and_recomputed) { expect_damage_recomputed(cut_in_half); }

Test(engine_cache, unsealed_entry_is_reused_and_sealed) {
    char dir[64], model[512], seal_path[600];
    engine_tmpdir(dir, sizeof dir);
    sweep_then_forget_runs(dir, model, sizeof model);
    char *seal = read_seal(model);
    seal_path_of(model, seal_path, sizeof seal_path);
    cr_assert_eq(unlink(seal_path), 0, "an entry as written before seals existed");
    pl_engine_report b = engine_sweep(dir, FAST, 1, NULL);
    cr_expect_eq(b.completed, 8);
    cr_expect_eq(b.stages_computed, 0, "an unsealed readable entry is trusted");
    char *again = read_seal(model);
    cr_expect_str_eq(again, seal, "and sealed with its hashes");
    free(seal);
    free(again);
    engine_rmdir(dir);
}
