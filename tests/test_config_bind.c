/* test_config_bind.c - settings declared once: a section binds into its struct by the
 * offsets its keys name (config/bind.h), the shipped experiments' prune, finetune and
 * pretrain sections and their data, model and engine sections bind, and the tables that other code reads in place of
 * names agree with the keys that offer those names (the prune methods with prune.method's
 * choices, the held-out splits with eval.split's). */
#include <criterion/criterion.h>
#include <string.h>

#include "config/bind.h"
#include "config/path.h"
#include "config/schema_keys.h"
#include "config/settings_types.h"
#include "config/yaml_load.h"
#include "engine/stage.h"
#include "engine/stage_settings.h"
#include "prune/methods.h"

typedef struct {
    int n;
    float f;
    int choice;
    const char *text;
    int list[4], n_list;
    float triple[3];
    char chars[8];
} demo;

static const int DEMO_VALUES[] = {10, 20, 30};
static const cfg_key TRIPLE_KEYS[] = {
    {K("a", CFG_T_FLOAT, "0.0"), AT_ITEM_FLOAT(0)},
    {K("b", CFG_T_FLOAT, "0.0"), AT_ITEM_FLOAT(1)},
    {K("c", CFG_T_FLOAT, "0.0"), AT_ITEM_FLOAT(2)},
};
SECTION(TRIPLE, "triple", "three floats", TRIPLE_KEYS, false);
static const cfg_key DEMO_KEYS[] = {
    {K("n", CFG_T_INT, "1"), AT_INT(demo, n)},
    {K("f", CFG_T_FLOAT, "0.5"), AT_FLOAT(demo, f)},
    {K("choice", CFG_T_ENUM, "y"), .choices = "x|y|z", AT_CHOICE(demo, choice, DEMO_VALUES)},
    {K("text", CFG_T_STRING, ""), AT_TEXT(demo, text)},
    {K("list", CFG_T_LIST, "[]"), .item = CFG_T_INT, AT_INT_LIST(demo, list, n_list)},
    {K("triple", CFG_T_MAP, "{}"), .sub = &TRIPLE, AT_SECTION(demo, triple)},
    {K("chars", CFG_T_STRING, ""), AT_CHARS(demo, chars)},
    {K("unbound", CFG_T_INT, "7")},
    {K("optional", CFG_T_INT, NULL), .flags = CFG_KEY_OPTIONAL, AT_INT(demo, n)},
};
SECTION(DEMO, "demo", "every binding", DEMO_KEYS, false);

static const cfg_node *parse(cfg_arena *a, const char *yaml) {
    cfg_node *n;
    pl_error err;
    cr_assert_eq(cfg_load_string(a, yaml, strlen(yaml), "<test>", &n, &err), PL_OK, "%s", err.message);
    return n;
}

Test(config_bind, each_kind_lands_at_its_field) {
    cfg_arena a;
    cfg_arena_init(&a);
    const cfg_node *map = parse(&a, "{n: 3, f: 0.25, choice: z, text: hello, list: [4, 5, 6], "
                                    "triple: {a: 1.5, c: 2.5}, chars: short}");
    demo d = {.n = -1, .triple = {9, 9, 9}};
    pl_error err;
    cr_assert_eq(cfg_bind(&DEMO, map, &d, &err), PL_OK, "%s", err.message);
    cr_expect_eq(d.n, 3);
    cr_expect_eq(d.f, 0.25f);
    cr_expect_eq(d.choice, 30, "the value of the choice's place, not the place");
    cr_expect_str_eq(d.text, "hello");
    cr_expect_eq(d.n_list, 3);
    cr_expect(d.list[0] == 4 && d.list[2] == 6);
    cr_expect(d.triple[0] == 1.5f && d.triple[1] == 9.0f && d.triple[2] == 2.5f, "an absent key leaves its field");
    cr_expect_str_eq(d.chars, "short");
    /* a text too long for its array is an error naming section and key */
    const cfg_node *long_text = parse(&a, "{chars: much too long}");
    cr_expect_eq(cfg_bind(&DEMO, long_text, &d, &err), PL_ERR_CONFIG);
    cr_expect_not_null(strstr(err.message, "demo.chars is longer than 7 characters"), "%s", err.message);
    /* a value of the wrong kind for its field is a bug in a table, said as one */
    const cfg_node *wrong = parse(&a, "{n: hello}");
    cr_expect_eq(cfg_bind(&DEMO, wrong, &d, &err), PL_ERR_INTERNAL);
    cfg_arena_free(&a);
}

/* Every stage kind of a shipped experiment binds its resolved section. */
Test(config_bind, the_shipped_stage_sections_bind) {
    static const char *const files[] = {"experiments/ressa.yaml", "experiments/structured.yaml",
                                        "experiments/efficientvlm.yaml", "experiments/loraprune.yaml",
                                        "experiments/modal_adaptive.yaml", "experiments/teacher_tiny.yaml"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        pl_experiment *exp;
        pl_error err;
        cr_assert_eq(pl_experiment_load(files[f], NULL, 0, &exp, &err), PL_OK, "%s", err.message);
        for (int r = 0; r < exp->n_runs; r++) {
            const cfg_node *run = exp->runs[r].config;
            for (int i = 0; i < cfg_stage_count(run); i++) {
                const char *kind;
                const cfg_node *section = cfg_stage_at(run, i, &kind);
                const pl_stage_kind *k = pl_stage_find(kind);
                cr_assert_not_null(k);
                if (k == &PL_STAGE_PRUNE) {
                    prune_config pc;
                    cr_expect_eq(settings_prune(section, &pc, &err), PL_OK, "%s: %s", files[f], err.message);
                } else if (k == &PL_STAGE_FINETUNE) {
                    finetune_settings fs;
                    cr_expect_eq(settings_finetune(section, run, &fs, &err), PL_OK, "%s: %s", files[f], err.message);
                    cr_expect_not_null(fs.teacher);
                } else if (k == &PL_STAGE_PRETRAIN) {
                    pretrain_config pc;
                    cr_expect_eq(settings_pretrain(section, &pc, &err), PL_OK, "%s: %s", files[f], err.message);
                    cr_expect_geq(pc.num_phases, 1);
                }
            }
            cfg_data_settings ds = {0};
            cfg_model_settings ms = {0};
            cfg_engine_settings es = {0};
            cr_expect_eq(cfg_bind_section(run, "data", &ds, &err), PL_OK, "%s", err.message);
            cr_expect_eq(cfg_bind_section(run, "model", &ms, &err), PL_OK, "%s", err.message);
            cr_expect_eq(cfg_bind_section(run, "engine", &es, &err), PL_OK, "%s", err.message);
            cr_expect_gt(ms.shape.dim_vision, 0);
            cr_expect_not_null(ds.dataset);
            cr_expect_geq(es.jobs, 1);
        }
        pl_experiment_free(exp);
    }
}

/* The methods table and prune.method's choices name the same methods in the same order. */
Test(config_bind, the_prune_method_table_matches_the_keys_choices) {
    const cfg_section *prune = pl_stage_find("prune")->schema;
    const char *choices = NULL;
    for (int i = 0; i < prune->n_keys; i++)
        if (strcmp(prune->keys[i].name, "method") == 0) choices = prune->keys[i].choices;
    cr_assert_not_null(choices);
    char joined[256] = "";
    for (int m = 0; m < PRUNE_METHOD_COUNT; m++) {
        if (m) strcat(joined, "|");
        strcat(joined, PRUNE_METHODS[m].name);
        cr_expect_not_null(PRUNE_METHODS[m].layer, "%s has no layer function", PRUNE_METHODS[m].name);
    }
    cr_expect_str_eq(joined, choices);
    cr_expect_str_eq(PL_HELD_OUT_SPLITS, "test|val");
    cr_expect(PL_HELD_OUT_SPLIT_VALUES[0] == PL_SPLIT_TEST && PL_HELD_OUT_SPLIT_VALUES[1] == PL_SPLIT_VAL);
}
