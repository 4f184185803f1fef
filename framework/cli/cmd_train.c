/* cmd_train.c - `prunelab train EXPERIMENT [key=value ...] [--out FILE] [--run N]`: runs the
 * first pretrain stage of one run of an experiment and saves the trained model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/stage.h"
#include "config/path.h"
#include "core/threads.h"
#include "engine/settings.h"
#include "engine/stage_settings.h"
#include "model/checkpoint.h"
#include "tune/pretrain.h"

static void print_line(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

static int usage(void) {
    fprintf(stderr, "usage: prunelab train EXPERIMENT.yaml [key=value ...] [--out FILE] [--run N]\n"
                    "  trains the teacher of run N (default 0) of the experiment's sweep and\n"
                    "  writes it as a safetensors checkpoint (default results/teacher-<run id>.safetensors)\n");
    return 2;
}

static const cfg_node *find_stage(const cfg_node *run, const char *kind) {
    for (int i = 0; i < cfg_stage_count(run); i++) {
        const char *k;
        const cfg_node *stage = cfg_stage_at(run, i, &k);
        if (strcmp(k, kind) == 0) return stage;
    }
    return NULL;
}

static int train(const pl_run *run, const char *out_path, pl_error *err) {
    const cfg_node *stage = find_stage(run->config, "pretrain");
    if (stage == NULL) {
        PL_ERROR(err, PL_ERR_CONFIG, "the experiment's pipeline has no pretrain stage");
        return 1;
    }
    pl_data_config dc;
    model_config mc;
    pretrain_config pc;
    pl_data data;
    vlm model;
    if (settings_data(run->config, &dc, err) || settings_model(run->config, &dc, &mc, err) ||
        settings_pretrain(stage, &pc, err) || settings_precision(run->config, &pc.precision, err) ||
        pl_data_open(&data, &dc, err))
        return 1;
    int st = 1;
    if (vlm_create(&model, &mc, pc.batch_size, err) == PL_OK) {
        vlm_init(&model, (uint64_t)run->seed);
        fprintf(stderr, "training run %s: %zu parameters, %d threads, %s\n", run->run_id,
                model.index.layout.total, pl_threads_get(),
                pc.precision == TRAIN_BF16 ? "BF16 products" : "FP32");
        pl_metrics_sink sink = {.progress = print_line};
        checkpoint_meta meta[] = {{"run_id", run->run_id}, {"stage", "pretrain"}};
        if (pretrain_run(&model, &data, &pc, &sink, err) == PL_OK &&
            vlm_save(&model, out_path, meta, 2, err) == PL_OK) {
            printf("%s\n", out_path);
            st = 0;
        }
        vlm_free(&model);
    }
    pl_data_close(&data);
    return st;
}

int cmd_train(int argc, char **argv) {
    const char *file = NULL, *out = NULL;
    int run_index = 0, noverrides = 0;
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    if (overrides == NULL) return 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--run") == 0 && i + 1 < argc) {
            long long r;
            if (!cli_int("train", "--run", argv[++i], 0, 1000000, &r)) {
                free(overrides);
                return 2;
            }
            run_index = (int)r;
        }
        else if (argv[i][0] == '-') { free(overrides); return usage(); }
        else if (file == NULL) file = argv[i];
        else overrides[noverrides++] = argv[i];
    }
    if (file == NULL) {
        free(overrides);
        return usage();
    }
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp = NULL;
    int st = 1;
    if (pl_experiment_load(file, overrides, noverrides, &exp, &err) == PL_OK) {
        if (run_index < 0 || run_index >= exp->n_runs) {
            PL_ERROR(&err, PL_ERR_INVALID, "--run %d: the experiment has runs 0..%d", run_index,
                     exp->n_runs - 1);
        } else {
            char path[512];
            if (out == NULL) {
                snprintf(path, sizeof path, "results/teacher-%s.safetensors", exp->runs[run_index].run_id);
                out = path;
            }
            st = train(&exp->runs[run_index], out, &err);
        }
    }
    if (st != 0 || err.status != PL_OK) pl_error_print(stderr, &err);
    pl_experiment_free(exp);
    free(overrides);
    return err.status == PL_OK ? st : 1;
}
