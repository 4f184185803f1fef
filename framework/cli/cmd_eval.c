/* cmd_eval.c - `prunelab eval CHECKPOINT [--split test|val] [--samples N] [--experiment FILE]`:
 * the saved model's shape, then its exact-match accuracy per question type next to the
 * majority-answer baseline of the same samples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/stage.h"
#include "data/scoring.h"
#include "engine/settings.h"
#include "model/checkpoint.h"
#include "tune/evaluate.h"

static int usage(void) {
    fprintf(stderr, "usage: prunelab eval CHECKPOINT [--split test|val] [--samples N] "
                    "[--experiment FILE]\n"
                    "  the data settings come from FILE's data section, else the defaults\n");
    return 2;
}

/* The model's shape: widths and depths, then each module's heads / cross heads / MLP width
 * per block (one line per module). */
static void print_shape(const vlm *m) {
    const model_config *c = &m->cfg;
    printf("model: %zu parameters; widths %d/%d/%d, blocks %d/%d/%d (vision/bridge/language), "
           "head width %d/%d/%d; %s\n", m->index.layout.total, c->dim_vision, c->dim_query,
           c->dim_language, c->layers_vision, c->layers_query, c->layers_language,
           module_head_dim(c, MODULE_VISION), module_head_dim(c, MODULE_BRIDGE),
           module_head_dim(c, MODULE_LANGUAGE),
           model_blocks_uniform(c) ? "every block uniform" : "blocks of their own shapes");
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        printf("  %-8s heads", module_name((pl_module)mod));
        for (int l = 0; l < module_layers(c, (pl_module)mod); l++)
            printf(" %d", model_block(c, (pl_module)mod, l).heads);
        if (mod == MODULE_BRIDGE) {
            printf("  cross_heads");
            for (int l = 0; l < module_layers(c, (pl_module)mod); l++)
                printf(" %d", model_block(c, (pl_module)mod, l).cross_heads);
        }
        printf("  ffn");
        for (int l = 0; l < module_layers(c, (pl_module)mod); l++)
            printf(" %d", model_block(c, (pl_module)mod, l).ffn);
        printf("\n");
    }
}

static void print_report(const eval_result *r, const pl_baseline *base, const char *split) {
    printf("%-10s %7s %9s %9s\n", "type", "samples", "accuracy", "majority");
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++)
        if (r->type_samples[t])
            printf("%-10s %7d %9.3f %9.3f\n", pl_qtype_name(t), r->type_samples[t],
                   r->type_accuracy[t], base->accuracy[t]);
    printf("%-10s %7d %9.3f %9.3f\n", "overall", r->samples, r->accuracy, base->overall);
    printf("answer cross-entropy %.4f nats/token; caption slots right %.3f (%s split)\n", r->ce,
           r->caption_slots, split);
}

static pl_status evaluate(const char *ckpt, const pl_data_config *dc, pl_split split, int samples,
                          pl_error *err) {
    pl_data data;
    vlm model;
    PL_TRY(pl_data_open(&data, dc, err));
    pl_status st = vlm_load(&model, ckpt, 64, err);
    if (st == PL_OK) {
        if (model.cfg.text_len != dc->text_len)
            st = PL_ERROR(err, PL_ERR_CONFIG, "%s was trained with text_len %d but the data has %d",
                          ckpt, model.cfg.text_len, dc->text_len);
        eval_result r;
        pl_baseline base;
        weight_set w = vlm_weights(&model, 1, 0);
        if (st == PL_OK) st = evaluate_model(&model, &w, &data, split, samples, EVAL_KV_CACHE, &r, err);
        if (st == PL_OK) st = pl_majority_baseline(&data, split, samples, &base, err);
        if (st == PL_OK) {
            print_shape(&model);
            print_report(&r, &base, pl_split_name(split));
        }
        vlm_free(&model);
    }
    pl_data_close(&data);
    return st;
}

int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *split_name = "test", *experiment = NULL;
    int samples = 2000;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--split") == 0 && i + 1 < argc) split_name = argv[++i];
        else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc) {
            long long n;
            if (!cli_int("eval", "--samples", argv[++i], 1, 10000000, &n)) return 2;
            samples = (int)n;
        }
        else if (strcmp(argv[i], "--experiment") == 0 && i + 1 < argc) experiment = argv[++i];
        else if (argv[i][0] == '-' || ckpt != NULL) return usage();
        else ckpt = argv[i];
    }
    int split = pl_split_parse(split_name);
    if (ckpt == NULL || (split != PL_SPLIT_TEST && split != PL_SPLIT_VAL)) return usage();
    pl_error err;
    pl_error_clear(&err);
    pl_data_config dc;
    pl_data_config_default(&dc);
    pl_status st = PL_OK;
    if (experiment != NULL) {
        pl_experiment *exp = NULL;
        st = pl_experiment_load(experiment, NULL, 0, &exp, &err);
        if (st == PL_OK) st = settings_data(exp->runs[0].config, &dc, &err);
        pl_experiment_free(exp);
    }
    if (st == PL_OK) st = evaluate(ckpt, &dc, (pl_split)split, samples, &err);
    if (st != PL_OK) pl_error_print(stderr, &err);
    return st == PL_OK ? 0 : 1;
}
