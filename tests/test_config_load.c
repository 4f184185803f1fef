/* test_config_load.c - the YAML loader (typing, positions, merge keys, anchors), paths and
 * getters, composition, interpolation, stage defaults and the schema's help. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "config/yaml_load.h"
#include "engine/stage.h"

static cfg_node *parse(cfg_arena *a, const char *text) {
    cfg_node *root;
    pl_error err;
    pl_error_clear(&err);
    cr_assert_eq(cfg_load_string(a, text, strlen(text), "t.yaml", &root, &err), PL_OK, "%s", err.message);
    return root;
}

Test(config_load, scalars_are_typed_by_the_core_schema) {
    cfg_arena a;
    cfg_arena_init(&a);
    cfg_node *r = parse(&a, "i: 42\nh: 0x1f\nf: 2e-3\ng: .5\ninf: -.inf\nb: true\nB: False\nn: ~\nn2:\n"
                            "s: wanda\nq: \"42\"\nyes: yes\nnm: 2:4\nstr: !!str 7\n");
    cr_assert_eq(cfg_map_get(r, "i")->kind, CFG_INT);
    cr_assert_eq(cfg_map_get(r, "h")->u.i, 31);
    cr_assert_eq(cfg_map_get(r, "f")->u.f.v, 2e-3);
    cr_assert_eq(cfg_map_get(r, "g")->u.f.v, 0.5);
    cr_assert(isinf(cfg_map_get(r, "inf")->u.f.v));
    cr_assert_eq(cfg_map_get(r, "b")->u.b, true);
    cr_assert_eq(cfg_map_get(r, "B")->u.b, false);
    cr_assert_eq(cfg_map_get(r, "n")->kind, CFG_NULL);
    cr_assert_eq(cfg_map_get(r, "n2")->kind, CFG_NULL);
    cr_assert_eq(cfg_map_get(r, "s")->kind, CFG_STRING);
    cr_assert_eq(cfg_map_get(r, "q")->kind, CFG_STRING); /* quoted is always a string */
    cr_assert_eq(cfg_map_get(r, "yes")->kind, CFG_STRING);
    cr_assert_str_eq(cfg_map_get(r, "nm")->u.s, "2:4");
    cr_assert_eq(cfg_map_get(r, "str")->kind, CFG_STRING);
    cfg_arena_free(&a);
}

Test(config_load, positions_are_one_based) {
    cfg_arena a;
    cfg_arena_init(&a);
    cfg_node *r = parse(&a, "model:\n  heads: 4\n");
    const cfg_node *h = cfg_get(r, "model.heads");
    cr_assert_eq(h->pos.line, 2);
    cr_assert_eq(h->pos.col, 10);
    cr_assert_eq(r->u.map.entries[0].key_pos.line, 1);
    cr_assert_eq(r->u.map.entries[0].key_pos.col, 1);
    cr_assert_str_eq(h->pos.file, "t.yaml");
    cfg_arena_free(&a);
}

Test(config_load, merge_keys_explicit_wins_and_earlier_sources_win) {
    cfg_arena a;
    cfg_arena_init(&a);
    cfg_node *r = parse(&a, "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\n"
                            "c:\n  <<: [*a, *b]\n  x: 9\n");
    const cfg_node *c = cfg_map_get(r, "c");
    cr_assert_eq(cfg_map_get(c, "x")->u.i, 9);
    cr_assert_eq(cfg_map_get(c, "y")->u.i, 1);
    cr_assert_eq(cfg_map_get(c, "z")->u.i, 2);
    cr_assert_eq(c->u.map.count, 3);
    cfg_arena_free(&a);
}

Test(config_load, alias_bombs_are_refused) {
    cfg_arena a;
    cfg_arena_init(&a);
    const char *bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
    cfg_node *root;
    pl_error err;
    cr_assert_eq(cfg_load_string(&a, bomb, strlen(bomb), "bomb.yaml", &root, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "bomb.yaml:6:4") != NULL, "%s", err.message);
    cfg_arena_free(&a);
}

Test(config_load, features_compose_interpolate_and_address_stages) {
    pl_error err;
    pl_experiment *e;
    cr_assert_eq(pl_experiment_load("tests/data/config/good/features.yaml", NULL, 0, &e, &err), PL_OK, "%s", err.message);
    const cfg_node *c = e->runs[0].config;
    long long n;
    double f;
    const char *s;
    cr_assert_str_eq(e->name, "features");
    cr_assert_eq(cfg_get_int(c, "pipeline.pretrain.batch_size", &n, NULL), PL_OK); /* from << */
    cr_assert_eq(n, 16);
    cr_assert_eq(cfg_get_float(c, "pipeline.finetune.lr", &f, NULL), PL_OK); /* ${...} keeps the type */
    cr_assert_eq(f, 3e-3);
    cr_assert_eq(cfg_get_int(c, "pipeline.finetune.steps", &n, NULL), PL_OK);
    cr_assert_eq(n, 1000);
    cr_assert_eq(cfg_get_string(c, "pipeline.finetune.teacher", &s, NULL), PL_OK);
    cr_assert_str_eq(s, "ckpt-64-${literal}.safetensors");
    /* stage defaults apply to both evals; the stage's own keys win */
    cr_assert_eq(cfg_get_string(c, "pipeline.eval#0.split", &s, NULL), PL_OK);
    cr_assert_str_eq(s, "val");
    cr_assert_eq(cfg_get_string(c, "pipeline.eval#1.split", &s, NULL), PL_OK);
    cr_assert_str_eq(s, "test");
    cr_assert_eq(cfg_get_int(c, "pipeline.3.eval.samples", &n, NULL), PL_OK);
    cr_assert_eq(n, 200);
    cr_assert_eq(cfg_get_int(c, "pipeline.eval.samples", &n, &err), PL_ERR_CONFIG); /* ambiguous */
    cr_assert(strstr(err.message, "eval#0") != NULL);
    /* schema defaults are filled, ints for float keys become floats */
    cr_assert_eq(cfg_get_float(c, "pipeline.finetune.alpha", &f, NULL), PL_OK);
    cr_assert_eq(cfg_get(c, "pipeline.finetune.alpha")->kind, CFG_FLOAT);
    cr_assert_eq(cfg_get_int(c, "engine.jobs", &n, NULL), PL_OK);
    cr_assert_eq(cfg_get_int(c, "model.mlp_ratio", &n, NULL), PL_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(cfg_stage_count(c), 4);
    const char *kind;
    cr_assert_not_null(cfg_stage_at(c, 1, &kind));
    cr_assert_str_eq(kind, "finetune");
    cr_assert_null(cfg_get(c, "stages"));
    cr_assert_eq(cfg_get_int(c, "model.heads", &n, NULL), PL_OK);
    cr_assert_eq(cfg_get_string(c, "model.heads", &s, &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "model.heads") != NULL);
    pl_experiment_free(e);
}

Test(config_load, env_interpolation_is_typed) {
    setenv("PRUNELAB_TEST_STEPS", "1234", 1);
    const char *ov[] = {"pipeline.prune.calib_size=${env:PRUNELAB_TEST_STEPS}"};
    pl_error err;
    pl_experiment *e;
    cr_assert_eq(pl_experiment_load("tests/data/config/good/base.yaml", ov, 1, &e, &err), PL_OK, "%s", err.message);
    long long n;
    cr_assert_eq(cfg_get_int(e->runs[0].config, "pipeline.prune.calib_size", &n, NULL), PL_OK);
    cr_assert_eq(n, 1234);
    pl_experiment_free(e);
}

Test(config_load, help_comes_from_the_schema) {
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    const cfg_stage_catalog *stages = pl_stage_catalog();
    cr_assert_eq(cfg_schema_help(out, stages, "prune", NULL), PL_OK);
    cr_assert_eq(cfg_schema_help(out, stages, NULL, NULL), PL_OK);
    fclose(out);
    cr_assert(strstr(buf, "sparsity.vision") != NULL);
    cr_assert(strstr(buf, "magnitude, wanda, sparsegpt") != NULL);
    for (int i = 0; i < stages->count; i++) { /* every registered kind, with its help */
        char line[256];
        snprintf(line, sizeof line, "\n  %-10s %s\n", stages->section_at(i)->name, stages->section_at(i)->help);
        cr_assert(strstr(buf, line) != NULL, "%s", line);
    }
    free(buf);
    pl_error err;
    cr_assert_eq(cfg_schema_help(stdout, stages, "prnue", &err), PL_ERR_CONFIG);
    cr_assert(strstr(err.message, "did you mean 'prune'") != NULL);
}

/* Every section `help config` lists answers `help config <name>`, including the top-level
 * keys without keys of their own (name, seed, labels, pipeline, stages). */
Test(config_load, every_listed_section_has_help) {
    const cfg_section *root = cfg_schema_root();
    for (int i = 0; i < root->n_keys; i++) {
        FILE *out = fopen("/dev/null", "w");
        pl_error err;
        pl_error_clear(&err);
        cr_assert_eq(cfg_schema_help(out, pl_stage_catalog(), root->keys[i].name, &err), PL_OK,
                     "help config %s: %s", root->keys[i].name, err.message);
        fclose(out);
    }
}
