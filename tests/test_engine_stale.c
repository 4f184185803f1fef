/* test_engine_stale.c - a completed run knows what it was computed from, and its record
 * verifies itself (engine/run_record.h):
 *   - replacing a `load` file or a teacher checkpoint makes the runs built on it stale in
 *     plan and status, and `run` of the same file recomputes them with the fresh numbers
 *     (those of a results directory that never saw the old file);
 *   - a run completed before records existed is stale when its metrics.h5 names other stage
 *     keys than today's (a masked full fine-tuning of finetune numerics 0), even with today's
 *     entries in the cache, and gets its record written when they match (a metrics.h5 without
 *     keys: when every model stage is cached); a record that fails its own seal is damaged;
 *   - a truncated metrics.h5 is damaged in status, plan and collect (its row kept, its
 *     metrics dropped, a note saying so) and recomputed by run. */
#include "engine_testutil.h"

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cache.h"
#include "engine/collect.h"
#include "engine/fsutil.h"
#include "engine/status.h"
#include "model/checkpoint.h"

#define TINY_TEACHER "experiments/teachers/tiny.safetensors"

/* dir/stale.yaml: load `load`, then `middle` (YAML list items), then an eval; 1 run. */
static void write_experiment(const char *dir, const char *load, const char *middle, char *path, size_t cap) {
    snprintf(path, cap, "%s/stale.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "defaults:\n  - %s/configs/model/tiny.yaml\n  - %s/configs/data/fashion_scenes.yaml\n"
               "  - %s/configs/stages/eval.yaml\n"
               "pipeline:\n  - load: {path: %s}\n%s"
               "  - eval: {samples: 16, batch_size: 8}\n"
               "engine: {jobs: 1, threads: 1}\n",
            getenv("PWD"), getenv("PWD"), getenv("PWD"), load, middle);
    fclose(f);
}

/* Runs the file with results in `results`; the engine's log into *log (free it). */
static pl_engine_report run_file(const char *path, const char *results, char **log) {
    pl_experiment *exp = engine_load_file(path, results);
    size_t len = 0;
    FILE *out = open_memstream(log, &len);
    cr_assert_not_null(out);
    pl_engine_options opt = {.git_commit = "test", .git_dirty = "no", .log = out};
    pl_engine_report rep;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(pl_engine_run(exp, &opt, &rep, &err), PL_OK, "%s", err.message);
    fclose(out);
    pl_experiment_free(exp);
    return rep;
}

/* The eval's answer cross-entropy of the file's one run, from index.tsv. */
static double ce_of(const char *path, const char *results) {
    pl_experiment *exp = engine_load_file(path, results);
    char index[600];
    snprintf(index, sizeof index, "%s/%s/index.tsv", results, exp->name);
    double ce = index_value(index, "run_id", exp->runs[0].run_id, "ce");
    pl_experiment_free(exp);
    return ce;
}

/* What plan shows for the file's one run. */
static const char *plan_state(const char *path, const char *results) {
    pl_experiment *exp = engine_load_file(path, results);
    const char *s = pl_status_of_run(results, exp->name, &exp->runs[0], NULL);
    pl_experiment_free(exp);
    return s ? s : "to run";
}

/* Runs, replaces `replaced` with another model, then expects the run stale in plan and
 * status, recomputed by run, and the recomputed numbers those of a fresh results directory. */
static void expect_replacement_recomputed(const char *dir, const char *exp_path, const char *replaced,
                                          const char *why) {
    char results[256], fresh[256], exp_dir[320], *log;
    snprintf(results, sizeof results, "%s/results", dir);
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    snprintf(exp_dir, sizeof exp_dir, "%s/stale", results);
    pl_engine_report first = run_file(exp_path, results, &log);
    free(log);
    cr_assert_eq(first.completed, 1);
    const double before = ce_of(exp_path, results);
    cr_expect_str_eq(plan_state(exp_path, results), "done");
    engine_replace_model(replaced, 77);
    cr_expect_str_eq(plan_state(exp_path, results), "stale");
    char *status = engine_status_text(exp_dir);
    cr_expect_not_null(strstr(status, "1 stale"), "%s", status);
    cr_expect_not_null(strstr(status, why), "status says which file: %s", status);
    free(status);
    pl_engine_report again = run_file(exp_path, results, &log);
    cr_expect_eq(again.stale, 1);
    cr_expect_eq(again.completed, 1, "the same experiment file recomputes the stale run");
    cr_expect_eq(again.already_completed, 0);
    cr_expect_not_null(strstr(log, "is stale:"), "%s", log);
    free(log);
    const double after = ce_of(exp_path, results);
    pl_engine_report clean = run_file(exp_path, fresh, &log);
    free(log);
    cr_assert_eq(clean.completed, 1);
    cr_expect_neq(after, before, "the old numbers were reused");
    cr_expect_eq(after, ce_of(exp_path, fresh), "not the numbers a fresh run gives");
    cr_expect_str_eq(plan_state(exp_path, results), "done");
}

Test(engine_stale, a_replaced_load_file_recomputes_the_same_experiment, .timeout = 180) {
    char dir[64], load[256], exp_path[256];
    engine_tmpdir(dir, sizeof dir);
    snprintf(load, sizeof load, "%s/load.safetensors", dir);
    engine_copy_file(TINY_TEACHER, load);
    write_experiment(dir, load, "", exp_path, sizeof exp_path);
    expect_replacement_recomputed(dir, exp_path, load, "load.path");
    engine_rmdir(dir);
}

Test(engine_stale, a_replaced_teacher_recomputes_the_same_experiment, .timeout = 180) {
    char dir[64], teacher[256], exp_path[256], middle[600];
    engine_tmpdir(dir, sizeof dir);
    snprintf(teacher, sizeof teacher, "%s/teacher.safetensors", dir);
    engine_copy_file(TINY_TEACHER, teacher);
    snprintf(middle, sizeof middle,
             "  - prune: {method: magnitude, sparsity: {vision: 0.5, language: 0.5}}\n"
             "  - finetune: {adapter: lora, steps: 2, batch_size: 4, warmup: 1, lambda: 0.5, teacher: %s}\n",
             teacher);
    write_experiment(dir, TINY_TEACHER, middle, exp_path, sizeof exp_path);
    expect_replacement_recomputed(dir, exp_path, teacher, "finetune.teacher");
    engine_rmdir(dir);
}

/* The run folder of the file's one run, and the cache model of its stage i. */
static void paths_of(const char *exp_path, const char *results, int stage, char *run_dir, char *model) {
    pl_experiment *exp = engine_load_file(exp_path, results);
    pl_run_dir_path(results, exp->name, exp->runs[0].run_id, run_dir, 512);
    char key[CFG_HASH_HEX];
    pl_error err;
    cr_assert_eq(pl_cache_key(&exp->runs[0], stage, NULL, key, &err), PL_OK, "%s", err.message);
    pl_cache_model_path(results, key, model, 512);
    pl_experiment_free(exp);
}

/* Sets (value non-NULL) or removes the cache_key attribute of every stage group from the
 * third on (finetune and eval here) in a metrics.h5: what an older prunelab wrote. */
static void stage_keys_from_finetune(const char *h5, const char *value) {
    static const char *const GROUPS[] = {"/stages/02_finetune", "/stages/03_eval"};
    hid_t f = H5Fopen(h5, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    for (int i = 0; i < 2; i++) {
        hid_t g = H5Gopen2(f, GROUPS[i], H5P_DEFAULT);
        cr_assert_geq(g, 0, "%s", GROUPS[i]);
        cr_assert_geq(H5Adelete(g, "cache_key"), 0);
        if (value != NULL) {
            hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR);
            H5Tset_size(type, H5T_VARIABLE);
            H5Tset_cset(type, H5T_CSET_UTF8);
            hid_t a = H5Acreate2(g, "cache_key", type, space, H5P_DEFAULT, H5P_DEFAULT);
            cr_assert_geq(a, 0);
            cr_assert_geq(H5Awrite(a, type, &value), 0);
            H5Aclose(a), H5Sclose(space), H5Tclose(type);
        }
        H5Gclose(g);
    }
    H5Fclose(f);
}

/* A results directory from before records existed: run folders without their record, whose
 * metrics.h5 names the key each stage ran with. A masked full fine-tuning then ran under
 * finetune numerics 0, another key than today's, even when today's entry exists in the
 * shared cache (another experiment computed it): stale, recomputed, and its record written.
 * A run whose stages all ran with today's keys is trusted and gets its record. A metrics.h5
 * older still, without the keys, is judged by the cache: stale when a model stage's entry
 * is missing. */
Test(engine_stale, a_run_completed_before_records_is_judged_by_its_stage_keys, .timeout = 180) {
    char dir[64], exp_path[256], results[256], run_dir[512], model[512], record[600], h5[600], cmd[1200], *log;
    engine_tmpdir(dir, sizeof dir);
    snprintf(results, sizeof results, "%s/results", dir);
    write_experiment(dir, TINY_TEACHER,
                     "  - prune: {method: magnitude, sparsity: {vision: 0.5, language: 0.5}}\n"
                     "  - finetune: {adapter: none, steps: 2, batch_size: 4, warmup: 1, lambda: 0.5}\n",
                     exp_path, sizeof exp_path);
    free((run_file(exp_path, results, &log), log));
    paths_of(exp_path, results, 2, run_dir, model);
    snprintf(record, sizeof record, "%s/record", run_dir);
    snprintf(h5, sizeof h5, "%s/metrics.h5", run_dir);
    /* ran with today's keys: trusted, and its record written by the next run */
    cr_assert_eq(unlink(record), 0);
    cr_expect_str_eq(plan_state(exp_path, results), "done");
    pl_engine_report trusted = run_file(exp_path, results, &log);
    free(log);
    cr_expect_eq(trusted.already_completed, 1);
    cr_expect_eq(trusted.completed, 0);
    struct stat sb;
    cr_expect_eq(stat(record, &sb), 0, "the trusted run got its record");
    /* ran with another finetune key, today's entry cached all the same: stale */
    cr_assert_eq(unlink(record), 0);
    stage_keys_from_finetune(h5, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    cr_expect_str_eq(plan_state(exp_path, results), "stale");
    pl_engine_report again = run_file(exp_path, results, &log);
    cr_expect_eq(again.stale, 1);
    cr_expect_eq(again.completed, 1, "recomputed: %s", log);
    cr_expect_not_null(strstr(log, "stage 2 'finetune' ran with cache key 0123456789ab"), "%s", log);
    free(log);
    cr_expect_eq(stat(record, &sb), 0);
    /* no keys in metrics.h5: the cache decides */
    cr_assert_eq(unlink(record), 0);
    stage_keys_from_finetune(h5, NULL);
    cr_expect_str_eq(plan_state(exp_path, results), "done");
    { /* collect from inside the experiment's folder finds the same cache ("." has a parent) */
        char exp_dir[320], cwd[1024];
        snprintf(exp_dir, sizeof exp_dir, "%s/stale", results);
        cr_assert_not_null(getcwd(cwd, sizeof cwd));
        cr_assert_eq(chdir(exp_dir), 0);
        pl_index idx;
        pl_error err;
        cr_assert_eq(pl_collect(".", true, &idx, &err), PL_OK, "%s", err.message);
        cr_expect_eq(idx.rows[0].status.state, PL_RUN_COMPLETED, "%s", idx.rows[0].status.reason);
        pl_index_free(&idx);
        cr_assert_eq(chdir(cwd), 0);
    }
    snprintf(cmd, sizeof cmd, "rm -f '%.*s'.*", (int)(strlen(model) - strlen(".safetensors")), model);
    cr_assert_eq(system(cmd), 0);
    cr_expect_str_eq(plan_state(exp_path, results), "stale");
    pl_engine_report third = run_file(exp_path, results, &log);
    cr_expect_eq(third.stale, 1);
    cr_expect_eq(third.stages_computed, 1, "only the finetune stage: %s", log);
    free(log);
    engine_rmdir(dir);
}

/* A record cut short or edited fails its own seal: the run is damaged, not trusted. */
Test(engine_stale, a_record_that_fails_its_seal_is_damaged, .timeout = 120) {
    char dir[64], exp_path[256], results[256], run_dir[512], model[512], record[600], *log, *text;
    engine_tmpdir(dir, sizeof dir);
    snprintf(results, sizeof results, "%s/results", dir);
    write_experiment(dir, TINY_TEACHER, "", exp_path, sizeof exp_path);
    free((run_file(exp_path, results, &log), log));
    paths_of(exp_path, results, 0, run_dir, model);
    snprintf(record, sizeof record, "%s/record", run_dir);
    size_t len;
    pl_error err;
    cr_assert_eq(pl_read_file(record, &text, &len, &err), PL_OK);
    const char *last_stage = strstr(text, "stage\t1\t");
    cr_assert_not_null(last_stage);
    cr_assert_eq(pl_write_atomic(record, text, (size_t)(last_stage - text), &err), PL_OK); /* cut at a line */
    free(text);
    cr_expect_str_eq(plan_state(exp_path, results), "damaged");
    engine_rmdir(dir);
}

Test(engine_stale, a_truncated_metrics_file_is_damaged_and_recomputed, .timeout = 180) {
    char dir[64], exp_path[256], results[256], exp_dir[320], run_dir[512], model[512], h5[600], *log;
    engine_tmpdir(dir, sizeof dir);
    snprintf(results, sizeof results, "%s/results", dir);
    snprintf(exp_dir, sizeof exp_dir, "%s/stale", results);
    write_experiment(dir, TINY_TEACHER, "", exp_path, sizeof exp_path);
    free((run_file(exp_path, results, &log), log));
    const double ce = ce_of(exp_path, results);
    paths_of(exp_path, results, 0, run_dir, model);
    snprintf(h5, sizeof h5, "%s/metrics.h5", run_dir);
    struct stat sb;
    cr_assert_eq(stat(h5, &sb), 0);
    cr_assert_eq(truncate(h5, sb.st_size / 2), 0);
    cr_expect_str_eq(plan_state(exp_path, results), "damaged");
    char *status = engine_status_text(exp_dir);
    cr_expect_not_null(strstr(status, "1 damaged"), "%s", status);
    cr_expect_not_null(strstr(status, "metrics.h5"), "%s", status);
    free(status);
    pl_index idx;
    pl_error err;
    cr_assert_eq(pl_collect(exp_dir, true, &idx, &err), PL_OK, "%s", err.message);
    cr_expect_eq(idx.n_rows, 1, "the damaged run keeps its row");
    cr_expect_eq(idx.rows[0].status.state, PL_RUN_DAMAGED);
    cr_expect_eq(idx.rows[0].summary.count, 0, "its metrics are dropped");
    cr_expect_eq(idx.n_damaged, 1);
    char *notes = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&notes, &len);
    pl_index_run_notes(&idx, out);
    fclose(out);
    cr_expect_not_null(strstr(notes, "its metrics are left out"), "%s", notes);
    free(notes);
    pl_index_free(&idx);
    pl_engine_report again = run_file(exp_path, results, &log);
    cr_expect_eq(again.damaged, 1);
    cr_expect_eq(again.completed, 1, "recomputed: %s", log);
    cr_expect_eq(again.stages_computed, 0, "from the cached model");
    free(log);
    cr_expect_eq(ce_of(exp_path, results), ce, "the same numbers again");
    cr_expect_str_eq(plan_state(exp_path, results), "done");
    engine_rmdir(dir);
}
