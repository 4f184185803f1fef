/* test_engine_inputs.c - every checkpoint a stage reads is in its cache key, and masked full
 * fine-tuning replicates are replicates:
 *   - a teacher named by path (finetune.teacher, l0prune.teacher) folds its content into the
 *     key of its stage and every later one, and only those; `same`, `first` and `input`
 *     name no file and fold nothing;
 *   - both stages take one teacher vocabulary, and a word that names the model a stage's
 *     older word named gives the same run id;
 *   - finetune with adapter: none draws each seed's batches from its own stream (numerics
 *     1 for that case only), so two seeds recover two different models. */
#include "engine_testutil.h"

#include <unistd.h>

#include "engine/cache.h"
#include "engine/fsutil.h"
#include "engine/stage_settings.h"
#include "model/checkpoint.h"
#include "tune/teacher.h"

#define TINY_TEACHER "experiments/teachers/tiny.safetensors"

/* Writes an experiment file: load `load`, magnitude pruning, then `tail` (YAML list items,
 * each starting with "  - "), seeds 0 and 1. */
static void write_experiment(const char *path, const char *load, const char *tail) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "defaults:\n  - %s/configs/model/tiny.yaml\n  - %s/configs/data/fashion_scenes.yaml\n"
               "  - %s/configs/stages/eval.yaml\n"
               "pipeline:\n  - load: {path: %s}\n"
               "  - prune: {method: magnitude, sparsity: {vision: 0.5, language: 0.5}}\n%s"
               "sweep: {seeds: [0, 1]}\nengine: {jobs: 1, threads: 1}\n",
            getenv("PWD"), getenv("PWD"), getenv("PWD"), load, tail);
    fclose(f);
}

/* Every stage key of run 0 of the file, each a fresh computation (no memo). */
static void keys_of(const char *path, const char *results, char keys[][CFG_HASH_HEX], int *n) {
    pl_experiment *exp = engine_load_file(path, results);
    pl_error err;
    *n = cfg_stage_count(exp->runs[0].config);
    for (int i = 0; i < *n; i++)
        cr_assert_eq(pl_cache_key(&exp->runs[0], i, NULL, keys[i], &err), PL_OK, "%s", err.message);
    pl_experiment_free(exp);
}

/* The stages before `from` keep their keys; it and every later stage get new ones. */
static void expect_moved_from(char before[][CFG_HASH_HEX], char after[][CFG_HASH_HEX], int n, int from) {
    for (int i = 0; i < n; i++) {
        if (i < from) cr_expect_str_eq(before[i], after[i], "stage %d moved", i);
        else cr_expect_str_neq(before[i], after[i], "stage %d kept its key", i);
    }
}

static void expect_teacher_in_key(const char *tail_fmt) {
    char dir[64], exp_path[256], teacher[256], tail[700];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_path, sizeof exp_path, "%s/teacher.yaml", dir);
    snprintf(teacher, sizeof teacher, "%s/teacher.safetensors", dir);
    engine_copy_file(TINY_TEACHER, teacher);
    snprintf(tail, sizeof tail, tail_fmt, teacher);
    write_experiment(exp_path, TINY_TEACHER, tail);
    char before[8][CFG_HASH_HEX], after[8][CFG_HASH_HEX];
    int n, m;
    keys_of(exp_path, dir, before, &n);
    engine_replace_model(teacher, 4242);
    keys_of(exp_path, dir, after, &m);
    cr_assert_eq(n, 4);
    cr_assert_eq(m, 4);
    expect_moved_from(before, after, n, 2); /* load, prune stay; the teacher's stage and eval move */
    engine_rmdir(dir);
}

Test(engine_inputs, a_finetune_teacher_file_is_in_the_keys_from_its_stage_on) {
    expect_teacher_in_key("  - finetune: {adapter: lora, steps: 2, batch_size: 4, teacher: %s}\n"
                          "  - eval: {samples: 8, batch_size: 8}\n");
}

Test(engine_inputs, an_l0prune_teacher_file_is_in_the_keys_from_its_stage_on) {
    expect_teacher_in_key("  - l0prune: {steps: 2, batch_size: 4, target: 0.2, teacher: %s}\n"
                          "  - eval: {samples: 8, batch_size: 8}\n");
}

/* A teacher that names a model the pipeline already has folds no file: the keys are those of
 * the same pipeline before teachers were hashed (they do not depend on any file but load's). */
Test(engine_inputs, same_first_and_input_name_no_file) {
    static const char *const tails[] = {
        "  - finetune: {adapter: lora, steps: 2, batch_size: 4, teacher: same}\n",
        "  - finetune: {adapter: lora, steps: 2, batch_size: 4, teacher: input}\n",
        "  - finetune: {adapter: lora, steps: 2, batch_size: 4, teacher: first}\n",
        "  - l0prune: {steps: 2, batch_size: 4, target: 0.2, teacher: same}\n",
        "  - l0prune: {steps: 2, batch_size: 4, target: 0.2, teacher: first}\n",
        "  - l0prune: {steps: 2, batch_size: 4, target: 0.2, teacher: input}\n",
    };
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        char dir[64], exp_path[256], load[256];
        engine_tmpdir(dir, sizeof dir);
        snprintf(exp_path, sizeof exp_path, "%s/teacher.yaml", dir);
        snprintf(load, sizeof load, "%s/load.safetensors", dir);
        engine_copy_file(TINY_TEACHER, load);
        write_experiment(exp_path, load, tails[t]);
        char a[8][CFG_HASH_HEX], b[8][CFG_HASH_HEX];
        int n;
        keys_of(exp_path, dir, a, &n);
        /* the keys hash one file, load's, and nothing for the teacher word */
        pl_experiment *exp = engine_load_file(exp_path, dir);
        pl_cache_input inputs[PL_CACHE_MAX_INPUTS];
        int n_inputs;
        pl_error err;
        cr_assert_eq(pl_cache_inputs(&exp->runs[0], 2, inputs, &n_inputs, &err), PL_OK, "%s", err.message);
        cr_expect_eq(n_inputs, 1, "%s", tails[t]);
        cr_expect_str_eq(inputs[0].key, "load.path");
        pl_experiment_free(exp);
        /* ... and the load file still moves every key */
        engine_replace_model(load, 4242);
        keys_of(exp_path, dir, b, &n);
        expect_moved_from(a, b, n, 0);
        engine_rmdir(dir);
    }
}

static void run_id_of(const char *tail, char id[CFG_ID_LEN + 1]) {
    char dir[64], exp_path[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_path, sizeof exp_path, "%s/words.yaml", dir);
    write_experiment(exp_path, TINY_TEACHER, tail);
    pl_experiment *exp = engine_load_file(exp_path, dir);
    memcpy(id, exp->runs[0].run_id, CFG_ID_LEN);
    id[CFG_ID_LEN] = 0;
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* 'input' and 'same' name one model in either stage, so one run id; 'first' names another. */
Test(engine_inputs, one_teacher_vocabulary_one_run_id_per_teacher) {
    char same[CFG_ID_LEN + 1], input[CFG_ID_LEN + 1], first[CFG_ID_LEN + 1];
    run_id_of("  - finetune: {adapter: lora, steps: 2, teacher: same}\n", same);
    run_id_of("  - finetune: {adapter: lora, steps: 2, teacher: input}\n", input);
    run_id_of("  - finetune: {adapter: lora, steps: 2, teacher: first}\n", first);
    cr_expect_str_eq(same, input);
    cr_expect_str_neq(same, first);
    run_id_of("  - l0prune: {steps: 2, target: 0.2, teacher: input}\n", input);
    run_id_of("  - l0prune: {steps: 2, target: 0.2, teacher: same}\n", same);
    run_id_of("  - l0prune: {steps: 2, target: 0.2}\n", first); /* the default, 'first' */
    cr_expect_str_eq(same, input);
    cr_expect_str_neq(same, first);
}

/* The words as a stage resolves them: input is the default teacher (none loaded), first is
 * the file the pipeline's first stage read, and without one an error naming the key. */
Test(engine_inputs, teacher_words_resolve_to_the_model_they_name) {
    vlm owned, *teacher = &owned;
    pl_error err;
    cr_assert_eq(teacher_load("input", TINY_TEACHER, "k", 4, &owned, &teacher, &err), PL_OK);
    cr_expect_null(teacher);
    cr_assert_eq(teacher_load("same", TINY_TEACHER, "k", 4, &owned, &teacher, &err), PL_OK);
    cr_expect_null(teacher);
    cr_assert_eq(teacher_load("first", TINY_TEACHER, "k", 4, &owned, &teacher, &err), PL_OK, "%s", err.message);
    cr_assert_eq(teacher, &owned);
    vlm expected;
    cr_assert_eq(vlm_load(&expected, TINY_TEACHER, 4, &err), PL_OK);
    cr_assert_eq(teacher->index.layout.total, expected.index.layout.total);
    cr_expect_eq(memcmp(teacher->params.data, expected.params.data, expected.index.layout.total * sizeof(float)), 0);
    vlm_free(&expected);
    vlm_free(teacher);
    pl_error_clear(&err);
    cr_expect_neq(teacher_load("first", NULL, "finetune.teacher", 4, &owned, &teacher, &err), PL_OK);
    cr_expect_not_null(strstr(err.message, "finetune.teacher 'first' needs a pipeline that starts with load"),
                       "%s", err.message);
}

/* A missing teacher file is an error naming the key that names it. */
Test(engine_inputs, a_missing_teacher_names_its_key) {
    char dir[64], exp_path[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_path, sizeof exp_path, "%s/teacher.yaml", dir);
    write_experiment(exp_path, TINY_TEACHER,
                     "  - finetune: {adapter: lora, steps: 2, batch_size: 4, teacher: /nonexistent/t.safetensors}\n");
    pl_experiment *exp = engine_load_file(exp_path, dir);
    char key[CFG_HASH_HEX];
    pl_error err;
    pl_error_clear(&err);
    cr_assert_neq(pl_cache_key(&exp->runs[0], 2, NULL, key, &err), PL_OK);
    cr_expect_not_null(strstr(err.message, "finetune.teacher"), "%s", err.message);
    cr_expect_not_null(strstr(err.message, "/nonexistent/t.safetensors"), "%s", err.message);
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* The seed reaches masked full fine-tuning's data (and only adapter: none moves). */
Test(engine_inputs, finetune_settings_take_the_seed_for_masked_full_finetuning_only) {
    char dir[64], exp_path[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_path, sizeof exp_path, "%s/seeds.yaml", dir);
    write_experiment(exp_path, TINY_TEACHER, "  - finetune: {adapter: none, steps: 2, batch_size: 4}\n");
    pl_experiment *exp = engine_load_file(exp_path, dir);
    finetune_settings s0, s1;
    pl_error err;
    const char *kind;
    for (int adapter_none = 1; adapter_none >= 0; adapter_none--) {
        const cfg_node *run0 = exp->runs[0].config, *run1 = exp->runs[1].config;
        const cfg_node *section0 = cfg_stage_at(run0, 2, &kind), *section1 = cfg_stage_at(run1, 2, &kind);
        cr_assert_eq(settings_finetune(section0, run0, &s0, &err), PL_OK, "%s", err.message);
        cr_assert_eq(settings_finetune(section1, run1, &s1, &err), PL_OK, "%s", err.message);
        if (adapter_none) {
            cr_expect_neq(s0.train.first_sample, s1.train.first_sample, "seeds share one stream");
            cr_expect_eq(pl_stage_numerics(&PL_STAGE_FINETUNE, section0), 1);
        } else {
            cr_expect_eq(s0.train.first_sample, s1.train.first_sample, "an adapter's stream moved");
            cr_expect_eq(pl_stage_numerics(&PL_STAGE_FINETUNE, section0), 0);
        }
        pl_experiment_free(exp);
        write_experiment(exp_path, TINY_TEACHER, "  - finetune: {adapter: lora, steps: 2, batch_size: 4}\n");
        exp = engine_load_file(exp_path, dir);
    }
    pl_experiment_free(exp);
    engine_rmdir(dir);
}

/* End to end: two seeds of masked full fine-tuning from one loaded, pruned model end with
 * different weights, and metrics.h5 records numerics finetune=1. */
Test(engine_inputs, masked_full_finetuning_seeds_recover_different_models, .timeout = 120) {
    char dir[64], exp_path[256], model[2][600];
    engine_tmpdir(dir, sizeof dir);
    snprintf(exp_path, sizeof exp_path, "%s/seeds.yaml", dir);
    write_experiment(exp_path, TINY_TEACHER,
                     "  - finetune: {adapter: none, steps: 3, batch_size: 4, warmup: 1, lambda: 0.5}\n"
                     "  - eval: {samples: 8, batch_size: 8}\n");
    pl_experiment *exp = engine_load_file(exp_path, dir);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no"};
    pl_engine_report rep;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    cr_assert_eq(rep.completed, 2);
    vlm m[2];
    for (int s = 0; s < 2; s++) {
        char key[CFG_HASH_HEX];
        cr_assert_eq(pl_cache_key(&exp->runs[s], 2, NULL, key, &err), PL_OK);
        pl_cache_model_path(dir, key, model[s], sizeof model[s]);
        cr_assert_eq(vlm_load(&m[s], model[s], 1, &err), PL_OK, "%s", err.message);
    }
    cr_assert(memcmp(m[0].params.data, m[1].params.data, m[0].index.layout.total * sizeof(float)) != 0,
              "the two seeds fine-tuned the same model");
    vlm_free(&m[0]), vlm_free(&m[1]);
    char run_dir[512], cmd[800], out[64] = "";
    pl_run_dir_path(dir, exp->name, exp->runs[0].run_id, run_dir, sizeof run_dir);
    snprintf(cmd, sizeof cmd, "h5dump -a numerics %s/metrics.h5 2>/dev/null | grep -c 'finetune=1'", run_dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(out, sizeof out, p));
    pclose(p);
    cr_expect_geq(atoi(out), 1, "metrics.h5 records numerics finetune=1");
    pl_experiment_free(exp);
    engine_rmdir(dir);
}
