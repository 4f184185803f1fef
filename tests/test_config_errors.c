/* test_config_errors.c - every bad input the config layer must refuse, each with the status
 * and a message naming file:line:col and the offending key (fixtures in tests/data/config/bad). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "engine/stage.h"

/* Loads tests/data/config/bad/<file>.yaml with at most one override and checks the refusal. */
static void expect_refused(const char *file, const char *override, const char *where, const char *key) {
    char path[256];
    snprintf(path, sizeof path, "tests/data/config/bad/%s.yaml", file);
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    const char *ov[1] = {override};
    pl_status st = pl_experiment_load(path, ov, override ? 1 : 0, &exp, &err);
    cr_assert_eq(st, PL_ERR_CONFIG, "%s: status %s, message: %s", file, pl_status_name(st), err.message);
    cr_assert_null(exp);
    cr_assert(strstr(err.message, where) != NULL, "%s: expected '%s' in: %s", file, where, err.message);
    cr_assert(strstr(err.message, key) != NULL, "%s: expected '%s' in: %s", file, key, err.message);
}

#define BAD(name, file, override, where, key) \
    Test(config_errors, name) { expect_refused(file, override, where, key); }

BAD(alias_cycle, "alias_cycle", NULL, "alias_cycle.yaml:3:19", "'*s'")
BAD(axis_empty, "axis_empty", NULL, "axis_empty.yaml:5:56", "value list is empty")
BAD(axis_repeated_value, "axis_repeated_value", NULL, "axis_repeated_value.yaml:5:67", "sweep axis 'sv': the value 0.5 is listed twice")
BAD(axis_same_path, "axis_same_path", NULL, "axis_same_path.yaml:6:5", "which axis 'sv' sets already")
BAD(axis_no_path, "axis_no_path", NULL, "axis_no_path.yaml:5:9", "sweep axis 'sv'")
BAD(axis_unknown_key, "axis_unknown_key", NULL, "axis_unknown_key.yaml:5:16", "did you mean 'vision'")
BAD(bench_batch_zero, "bench_batch_zero", NULL, "bench_batch_zero.yaml:4:30", "pipeline.bench.batch_sizes.1")
BAD(bench_batch_empty, "bench_batch_empty", NULL, "bench_batch_empty.yaml:4:26", "list 1 to 16")
BAD(bench_threads_cores, "bench_threads_cores", NULL, "bench_threads_cores.yaml:4:22", "cores")
BAD(blocks_count, "blocks_count", NULL, "blocks_count.yaml:3:3", "blocks.vision lists 2 blocks but layers_vision = 4")
BAD(blocks_heads, "blocks_heads", NULL, "blocks_heads.yaml:3:3", "blocks.language[2].heads = 5")
BAD(blocks_cross_vision, "blocks_cross_vision", NULL, "blocks_cross_vision.yaml:3:3", "only bridge blocks")
BAD(blocks_negative, "blocks_negative", NULL, "blocks_negative.yaml:4:20", "model.blocks.bridge.0.ffn")
BAD(blocks_unknown, "blocks_unknown", NULL, "blocks_unknown.yaml:4:23", "did you mean 'heads'")
BAD(cases_and_values, "cases_and_values", NULL, "cases_and_values.yaml:6:12", "axis 'sv'")
BAD(defaults_cycle_a, "defaults_cycle_a", NULL, "defaults_cycle_b.yaml:1:27", "defaults_cycle_a.yaml")
BAD(defaults_directory, "defaults_directory", NULL, "defaults_directory.yaml:1:12", "'../good' is a directory")
BAD(dup_key_nested, "dup_key_nested", NULL, "dup_key_nested.yaml:5:7", "key 'method'")
BAD(dup_key_top, "dup_key_top", NULL, "dup_key_top.yaml:3:1", "key 'pipeline'")
BAD(figures_not_list, "figures_not_list", NULL, "figures_not_list.yaml:3:10", "figures")
BAD(int_overflow, "int_overflow", NULL, "int_overflow.yaml:3:23", "99999999999999999999")
BAD(interp_cycle, "interp_cycle", NULL, "interp_cycle.yaml:3:23", "${pipeline.eval.samples}")
BAD(interp_env_unset, "interp_env_unset", NULL, "interp_env_unset.yaml:3:19", "PRUNELAB_TEST_SURELY_UNSET")
BAD(interp_missing, "interp_missing", NULL, "interp_missing.yaml:3:21", "data.nope")
BAD(lambda_range, "lambda_range", NULL, "lambda_range.yaml:3:24", "pipeline.finetune.lambda")
BAD(linspace_zero_count, "linspace_zero_count", NULL, "linspace_zero_count.yaml:5:78", "count")
BAD(malformed_flow, "malformed_flow", NULL, "malformed_flow.yaml:3:1", "malformed YAML")
BAD(max_runs, "max_runs", NULL, "max_runs.yaml:7:13", "sweep.max_runs")
BAD(max_runs_default, "max_runs_default", NULL, "max_runs_default.yaml:4:3", "sweep.max_runs: the sweep expands to 1200 runs")
BAD(merge_not_map, "merge_not_map", NULL, "merge_not_map.yaml:4:7", "'<<'")
BAD(missing_defaults_file, "missing_defaults_file", NULL, "missing_defaults_file.yaml:1:27", "nowhere.yaml")
BAD(missing_required, "missing_required", NULL, "missing_required.yaml:1:8", "'dim_query'")
BAD(model_heads_divisible, "model_heads_divisible", NULL, "model_heads_divisible.yaml:2:8", "heads")
BAD(name_escapes, "name_escapes", NULL, "name_escapes.yaml:2:7", "cannot be empty or contain '/', '..'")
BAD(nan_value, "nan_value", NULL, "nan_value.yaml:3:20", "NaN")
BAD(nm_equal, "nm_equal", NULL, "nm_equal.yaml:3:22", "pipeline.prune.pattern")
BAD(nm_reversed, "nm_reversed", NULL, "nm_reversed.yaml:3:22", "0 < N < M")
BAD(non_scalar_key, "non_scalar_key", NULL, "non_scalar_key.yaml:3:3", "map key")
BAD(pattern_garbage, "pattern_garbage", NULL, "pattern_garbage.yaml:3:22", "pipeline.prune.pattern")
BAD(pipeline_empty, "pipeline_empty", NULL, "pipeline_empty.yaml:2:11", "pipeline")
BAD(pipeline_item_two_keys, "pipeline_item_two_keys", NULL, "pipeline_item_two_keys.yaml:3:5", "pipeline")
BAD(question_mix_zero, "question_mix_zero", NULL, "question_mix_zero.yaml:3:17", "data.question_mix")
BAD(range_no_inclusive, "range_no_inclusive", NULL, "range_no_inclusive.yaml:5:57", "inclusive")
BAD(rank_zero, "rank_zero", NULL, "rank_zero.yaml:3:33", "pipeline.finetune.rank.language")
BAD(root_list, "root_list", NULL, "root_list.yaml:1:1", "must be a map")
BAD(scheme_uniform_zero, "scheme_uniform_zero", NULL, "scheme_uniform_zero.yaml:3:32", "pipeline.distill.scheme.vision")
BAD(seed_twice, "seed_twice", NULL, "seed_twice.yaml:4:17", "sweep.seeds")
BAD(sparsity_big, "sparsity_big", NULL, "sparsity_big.yaml:3:34", "pipeline.prune.sparsity.language")
BAD(sparsity_negative, "sparsity_negative", NULL, "sparsity_negative.yaml:3:32", "pipeline.prune.sparsity.bridge")
BAD(sparsity_one, "sparsity_one", NULL, "sparsity_one.yaml:3:32", "pipeline.prune.sparsity.vision")
BAD(splice_map, "splice_map", NULL, "splice_map.yaml:2:7", "${model}")
BAD(stage_ambiguous, "stage_ambiguous", NULL, "stage_ambiguous.yaml:5:15", "eval#0")
BAD(stages_unknown_key, "stages_unknown_key", NULL, "stages_unknown_key.yaml:3:11", "'methd'")
BAD(sweep_unknown_key, "sweep_unknown_key", NULL, "sweep_unknown_key.yaml:4:3", "did you mean 'axes'")
BAD(tab_indent, "tab_indent", NULL, "tab_indent.yaml:3:1", "tab character")
BAD(targets_bad_item, "targets_bad_item", NULL, "targets_bad_item.yaml:3:34", "'audio'")
BAD(targets_not_list, "targets_not_list", NULL, "targets_not_list.yaml:3:25", "pipeline.finetune.targets")
BAD(temperature_zero, "temperature_zero", NULL, "temperature_zero.yaml:3:29", "pipeline.finetune.temperature")
BAD(two_documents, "two_documents", NULL, "two_documents.yaml:3:1", "second YAML document")
BAD(unknown_anchor, "unknown_anchor", NULL, "unknown_anchor.yaml:2:11", "'*nope'")
BAD(unknown_method, "unknown_method", NULL, "unknown_method.yaml:3:21", "did you mean 'wanda'")
BAD(unknown_stage_key, "unknown_stage_key", NULL, "unknown_stage_key.yaml:3:13", "did you mean 'method'")
BAD(unknown_stage_kind, "unknown_stage_kind", NULL, "unknown_stage_kind.yaml:3:5", "did you mean 'prune'")
BAD(unknown_top_key, "unknown_top_key", NULL, "unknown_top_key.yaml:2:1", "did you mean 'pipeline'")
BAD(unsupported_tag, "unsupported_tag", NULL, "unsupported_tag.yaml:2:11", "tag")
BAD(where_not_bool, "where_not_bool", NULL, "where_not_bool.yaml:6:10", "where")
BAD(where_rejects_all, "where_rejects_all", NULL, "where_rejects_all.yaml:6:10", "sweep.where")
BAD(where_syntax, "where_syntax", NULL, "where_syntax.yaml:6:20", "expected ')'")
BAD(where_unknown_alias, "where_unknown_alias", NULL, "where_unknown_alias.yaml:6:10", "did you mean 'sv'")
BAD(wrong_type_bool, "wrong_type_bool", NULL, "wrong_type_bool.yaml:3:23", "pipeline.finetune.merge")
BAD(wrong_type_float, "wrong_type_float", NULL, "wrong_type_float.yaml:3:20", "pipeline.pretrain.lr")
BAD(wrong_type_int, "wrong_type_int", NULL, "wrong_type_int.yaml:2:16", "model.heads")
BAD(zip_unequal, "zip_unequal", NULL, "zip_unequal.yaml:7:22", "zip group 'budget'")
BAD(zip_unknown_alias, "zip_unknown_alias", NULL, "zip_unknown_alias.yaml:6:22", "'sll'")
BAD(override_unknown_key, "ok_for_overrides", "pipeline.prune.methd=wanda", "<override 1>:1:1", "did you mean 'method'")
BAD(override_wrong_type, "ok_for_overrides", "pipeline.eval.samples=many", "<override 1>:1:23", "pipeline.eval.samples")
BAD(override_missing_stage, "ok_for_overrides", "pipeline.finetune.lr=1", "<override 1>:1:1", "'finetune' stage")
BAD(override_no_equals, "ok_for_overrides", "noequals", "<override 1>:1:1", "key.path=value")
BAD(override_axis_out_of_range, "ok_for_overrides", "pipeline.prune.sparsity.vision=0.5,1.5", "<override 1>:1:36", "pipeline.prune.sparsity.vision")
BAD(override_axis_unknown_choice, "ok_for_overrides", "pipeline.prune.method=magnitude,wandaa", "<override 1>:1:33", "did you mean 'wanda'")
BAD(override_nm_equal, "ok_for_overrides", "pipeline.prune.pattern=2:2", "<override 1>:1:24", "pipeline.prune.pattern")
BAD(override_stage_index_2_31, "ok_for_overrides", "pipeline.2147483648.eval.samples=3", "<override 1>:1:1", "no stage 2147483648")
BAD(override_stage_index_2_32, "ok_for_overrides", "pipeline.4294967296.eval.samples=3", "<override 1>:1:1", "no stage 4294967296")
BAD(override_stage_index_axis, "ok_for_overrides", "pipeline.2147483648.eval.samples=3,4", "<override 1>:1:1", "no stage 2147483648")
BAD(override_empty_value, "ok_for_overrides", "pipeline.prune.sparsity.vision=", "<override 1>:1:32", "has an empty value")
BAD(override_name_dotdot, "ok_for_overrides", "name=..", "<override 1>:1:6", "experiment name")
BAD(override_axis_breaks_model, "ok_for_overrides", "model.heads=4,3", "model.yaml:2:8", "heads = 3")

Test(config_errors, missing_experiment_file_is_an_io_error) {
    pl_error err;
    pl_experiment *exp;
    cr_assert_eq(pl_experiment_load("tests/data/config/nowhere.yaml", NULL, 0, &exp, &err), PL_ERR_IO);
    cr_assert(strstr(err.message, "nowhere.yaml") != NULL);
}

Test(config_errors, override_with_too_many_values_is_refused) {
    char override[4096];
    int at = snprintf(override, sizeof override, "pipeline.eval.samples=1");
    for (int v = 2; v <= 300; v++) at += snprintf(override + at, sizeof override - (size_t)at, ",%d", v);
    const char *ov[] = {override};
    pl_error err;
    pl_experiment *exp = NULL;
    cr_assert_eq(pl_experiment_load("tests/data/config/bad/ok_for_overrides.yaml", ov, 1, &exp, &err),
                 PL_ERR_CONFIG);
    cr_expect_not_null(strstr(err.message, "lists 300 values; the command line takes at most 257"), "%s",
                       err.message);
}
