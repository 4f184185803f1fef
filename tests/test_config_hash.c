/* test_config_hash.c - run identity: canonical text, number normalisation, key order,
 * non-semantic keys, seeds, subtree hashes, and the canonical text loading back. */
#include <criterion/criterion.h>
#include <string.h>

#include "config/canon.h"
#include "engine/stage.h"
#include "config/hash.h"
#include "config/scalar.h"
#include "config/yaml_load.h"
#include "core/alloc.h"

static pl_experiment *load(const char *path, const char *const *ov, int n) {
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    cr_assert_eq(pl_experiment_load(path, ov, n, &exp, &err), PL_OK, "%s: %s", path, err.message);
    return exp;
}

Test(config_hash, key_order_number_spelling_and_engine_do_not_change_the_id) {
    pl_experiment *a = load("tests/data/config/good/order_a.yaml", NULL, 0);
    pl_experiment *b = load("tests/data/config/good/order_b.yaml", NULL, 0);
    cr_assert_str_eq(a->runs[0].run_id, b->runs[0].run_id);
    cr_assert_str_eq(a->runs[0].group_id, b->runs[0].group_id);
    cr_assert_eq(strlen(a->runs[0].run_id), 12);
    pl_experiment_free(a);
    pl_experiment_free(b);
}

Test(config_hash, semantic_changes_and_seeds_change_the_id) {
    const char *lr[] = {"pipeline.prune.sparsegpt_damp=0.011"};
    const char *seed[] = {"seed=1"};
    const char *noise[] = {"pipeline.prune.sparsity.vision=0.5000000000000001"};
    pl_experiment *a = load("tests/data/config/good/order_a.yaml", NULL, 0);
    pl_experiment *b = load("tests/data/config/good/order_a.yaml", lr, 1);
    pl_experiment *c = load("tests/data/config/good/order_a.yaml", seed, 1);
    pl_experiment *d = load("tests/data/config/good/order_a.yaml", noise, 1);
    cr_assert_str_neq(a->runs[0].run_id, b->runs[0].run_id);
    cr_assert_str_neq(a->runs[0].run_id, c->runs[0].run_id);
    cr_assert_str_eq(a->runs[0].group_id, c->runs[0].group_id); /* the seed is not in the group */
    /* a different double is a different setting: only spelling is normalised */
    cr_assert_str_neq(a->runs[0].run_id, d->runs[0].run_id);
    pl_experiment_free(a);
    pl_experiment_free(b);
    pl_experiment_free(c);
    pl_experiment_free(d);
}

Test(config_hash, shortest_round_trip_formatting) {
    char out[32];
    cfg_format_double(0.5, out);
    cr_assert_str_eq(out, "0.5");
    cfg_format_double(5e-1, out);
    cr_assert_str_eq(out, "0.5");
    cfg_format_double(1.0, out);
    cr_assert_str_eq(out, "1.0");
    cfg_format_double(2e-3, out);
    cr_assert_str_eq(out, "0.002");
    cfg_format_double(0.1 + 0.2, out);
    cr_assert_str_eq(out, "0.30000000000000004");
    cfg_format_double(-0.0, out);
    cr_assert_str_eq(out, "0.0");
    cfg_format_double(1e300, out);
    cr_assert_str_eq(out, "1e+300");
    cr_assert_eq(cfg_round_sig12(0.1 * 3), 0.3);
}

Test(config_hash, sha256_is_libcrypto_sha256) {
    char hex[CFG_HASH_HEX];
    cr_assert_eq(cfg_sha256_hex("abc", 3, hex, NULL), PL_OK);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(config_hash, canonical_text_loads_back_equal_and_is_stable) {
    pl_experiment *e = load("tests/data/config/good/features.yaml", NULL, 0);
    const cfg_node *cfg = e->runs[0].config;
    char *text = cfg_to_yaml(cfg, NULL);
    cr_assert_not_null(text);
    cfg_node *back;
    pl_error err;
    cr_assert_eq(cfg_load_string(&e->arena, text, strlen(text), "<canonical>", &back, &err), PL_OK, "%s\n%s", err.message, text);
    cr_assert(cfg_equal(cfg, back));
    char *again = cfg_to_yaml(back, NULL);
    cr_assert_str_eq(text, again);
    cr_assert(strstr(text, "lr: 0.003\n") != NULL, "%s", text);
    pl_free(text);
    pl_free(again);
    pl_experiment_free(e);
}

Test(config_hash, subtree_hashes_key_stages_by_what_they_depend_on) {
    const char *other_eval[] = {"pipeline.eval.samples=10"};
    pl_experiment *a = load("tests/data/config/good/order_a.yaml", NULL, 0);
    pl_experiment *b = load("tests/data/config/good/order_a.yaml", other_eval, 1);
    const char *prune_deps[] = {"data", "model", "seed", "pipeline.0"};
    const char *eval_deps[] = {"data", "model", "seed", "pipeline.0", "pipeline.1"};
    char ha[CFG_HASH_HEX], hb[CFG_HASH_HEX];
    cr_assert_eq(cfg_hash_subtrees(a->runs[0].semantic, prune_deps, 4, ha, NULL), PL_OK);
    cr_assert_eq(cfg_hash_subtrees(b->runs[0].semantic, prune_deps, 4, hb, NULL), PL_OK);
    cr_assert_str_eq(ha, hb); /* the prune stage is shared */
    cr_assert_eq(cfg_hash_subtrees(a->runs[0].semantic, eval_deps, 5, ha, NULL), PL_OK);
    cr_assert_eq(cfg_hash_subtrees(b->runs[0].semantic, eval_deps, 5, hb, NULL), PL_OK);
    cr_assert_str_neq(ha, hb);
    pl_experiment_free(a);
    pl_experiment_free(b);
}

Test(config_hash, unicode_line_breaks_in_strings_survive_a_round_trip) {
    /* found by fuzz_config: "\N" (U+0085) was written raw and folded on reload */
    cfg_arena a;
    cfg_arena_init(&a);
    const char *src = "s: \"a\\Nb\\Lc\\Pd\\x9fe\\ufeff\"\n";
    cfg_node *root, *back;
    cr_assert_eq(cfg_load_string(&a, src, strlen(src), "u.yaml", &root, NULL), PL_OK);
    char *text = cfg_to_yaml(root, NULL);
    cr_assert_eq(cfg_load_string(&a, text, strlen(text), "c.yaml", &back, NULL), PL_OK, "%s", text);
    cr_assert(cfg_equal(root, back), "%s", text);
    pl_free(text);
    cfg_arena_free(&a);
}
