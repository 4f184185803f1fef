/* test_engine_stale.c - a completed run knows what it was computed from, and its record
 * verifies itself (engine/run_record.h):
 *   - replacing a `load` file or a teacher checkpoint makes the runs built on it stale in
 *     plan and status, and `run` of the same file recomputes them with the fresh numbers
 *     (those of a results directory that never saw the old file);
 *   - a run completed before records existed is stale when one of its model stages' keys
 *     now has no cache entry (a masked full fine-tuning of finetune numerics 0), and gets its
 *     record written when every key has one;
 *   - a truncated metrics.h5 is damaged in status, plan and collect (its row kept, its
 *     metrics dropped, a note saying so) and recomputed by run. */
#include "engine_testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "engine/cache.h"
#include "engine/collect.h"
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

/* A results directory from before records existed: each run folder without its record. A
 * masked full fine-tuning's stage then had another key (finetune numerics 0): its entry under
 * the key of today is missing. The run is stale and recomputed; a run all of whose stages
 * are cached is trusted and gets its record. */
Test(engine_stale, a_run_completed_before_records_is_judged_by_the_cache, .timeout = 180) {
    char dir[64], exp_path[256], results[256], run_dir[512], model[512], record[600], cmd[1200], *log;
    engine_tmpdir(dir, sizeof dir);
    snprintf(results, sizeof results, "%s/results", dir);
    write_experiment(dir, TINY_TEACHER,
                     "  - prune: {method: magnitude, sparsity: {vision: 0.5, language: 0.5}}\n"
                     "  - finetune: {adapter: none, steps: 2, batch_size: 4, warmup: 1, lambda: 0.5}\n",
                     exp_path, sizeof exp_path);
    free((run_file(exp_path, results, &log), log));
    paths_of(exp_path, results, 2, run_dir, model);
    snprintf(record, sizeof record, "%s/record", run_dir);
    /* every stage cached: trusted, and its record written by the next run */
    cr_assert_eq(unlink(record), 0);
    cr_expect_str_eq(plan_state(exp_path, results), "done");
    pl_engine_report trusted = run_file(exp_path, results, &log);
    free(log);
    cr_expect_eq(trusted.already_completed, 1);
    cr_expect_eq(trusted.completed, 0);
    struct stat sb;
    cr_expect_eq(stat(record, &sb), 0, "the trusted run got its record");
    /* the finetune stage's entry under today's key missing: stale */
    cr_assert_eq(unlink(record), 0);
    snprintf(cmd, sizeof cmd, "rm -f '%.*s'.*", (int)(strlen(model) - strlen(".safetensors")), model);
    cr_assert_eq(system(cmd), 0);
    cr_expect_str_eq(plan_state(exp_path, results), "stale");
    pl_engine_report again = run_file(exp_path, results, &log);
    cr_expect_eq(again.stale, 1);
    cr_expect_eq(again.completed, 1, "recomputed: %s", log);
    cr_expect_eq(again.stages_computed, 1, "only the finetune stage: %s", log);
    free(log);
    cr_expect_eq(stat(record, &sb), 0);
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
