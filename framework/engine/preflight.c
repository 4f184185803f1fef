/* preflight.c - checks before anything runs (see preflight.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/preflight.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file_open.h"
#include "engine/preflight_data.h"
#include "engine/settings.h"
#include "engine/stage.h"
#include "model/checkpoint.h"
#include "model/student.h"

/* Why path cannot be read as what a key names (NULL when it can): a missing path when
 * required, a directory unless dir_ok, a FIFO, socket or device always (reading one would
 * block or never end). */
static const char *unreadable(const char *path, bool required, bool dir_ok, char *buf, size_t cap) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!required && errno == ENOENT) return NULL; /* the reader says what is missing */
        snprintf(buf, cap, "cannot be read (%s)", strerror(errno));
        return buf;
    }
    if (S_ISREG(sb.st_mode) || (dir_ok && S_ISDIR(sb.st_mode))) return NULL;
    snprintf(buf, cap, "is %s, not a regular file%s", pl_file_type_name((unsigned)sb.st_mode),
             dir_ok ? " or a directory" : "");
    return buf;
}

/* Every checkpoint a stage reads (its kind's file inputs: load.path, a teacher named by
 * path) must be an existing regular file; the error points at the key. */
static pl_status check_stage_files(const pl_experiment *exp, int r, int i, const char *kind,
                                   const cfg_node *section, pl_error *err) {
    const pl_stage_kind *k = pl_stage_find(kind);
    for (int f = 0; k != NULL && k->files[f].key != NULL; f++) {
        const char *key = k->files[f].key, *path = pl_stage_file(k, section, f);
        const cfg_node *node = cfg_map_get(section, key);
        char why[160];
        if (node == NULL || node->kind != CFG_STRING)
            return PL_ERROR(err, PL_ERR_CONFIG, "%s: run %d (%s): pipeline stage %d '%s' has no %s",
                            exp->path, r + 1, exp->runs[r].run_id, i, kind, key);
        if (path == NULL || unreadable(path, true, false, why, sizeof why) == NULL) continue;
        return cfg_error_at(err, node->pos, "run %d (%s): pipeline stage %d '%s': %s '%s' %s; name a "
                            "checkpoint file (.safetensors) such as `prunelab train ... --out FILE` "
                            "writes", r + 1, exp->runs[r].run_id, i, kind, key, path, why);
    }
    return PL_OK;
}

/* The data keys that name paths: never a FIFO, socket or device; data.tsv a file,
 * data.images a file (IDX) or a directory (PGM), data.path a directory. A missing path is
 * left to the data reader, which says what to install or set. */
static pl_status check_data_paths(const pl_experiment *exp, int r, pl_error *err) {
    static const struct {
        const char *key;
        bool file_ok, dir_ok;
    } KEYS[] = {{"data.tsv", true, false}, {"data.images", true, true}, {"data.path", false, true}};
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        const cfg_node *node = cfg_get(exp->runs[r].config, KEYS[i].key);
        if (node == NULL || node->kind != CFG_STRING || node->u.s[0] == '\0') continue;
        char why[160];
        const char *problem = unreadable(node->u.s, false, KEYS[i].dir_ok, why, sizeof why);
        struct stat sb;
        if (problem == NULL && !KEYS[i].file_ok && stat(node->u.s, &sb) == 0 && !S_ISDIR(sb.st_mode))
            problem = "is not a directory";
        if (problem == NULL) continue;
        return cfg_error_at(err, node->pos, "run %d (%s): %s '%s' %s", r + 1, exp->runs[r].run_id,
                            KEYS[i].key, node->u.s, problem);
    }
    return PL_OK;
}

/* engine.results_dir, its cache/ and the experiment's folder must be directories where they
 * exist (run creates the missing ones). */
static pl_status check_results_dir(const pl_experiment *exp, pl_error *err) {
    const cfg_node *dir = cfg_get(exp->base, "engine.results_dir");
    if (dir == NULL || dir->kind != CFG_STRING) return PL_OK; /* the schema's default applies */
    char paths[3][4096];
    snprintf(paths[0], sizeof paths[0], "%s", dir->u.s);
    snprintf(paths[1], sizeof paths[1], "%s/cache", dir->u.s);
    snprintf(paths[2], sizeof paths[2], "%s/%s", dir->u.s, exp->name);
    for (int i = 0; i < 3; i++) {
        const char *path = paths[i];
        struct stat sb;
        if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode))
            return cfg_error_at(err, dir->pos, "engine.results_dir: %s exists and is not a directory, "
                                "so no results can be written there; move it away or choose another "
                                "engine.results_dir", path);
    }
    return PL_OK;
}

/* Block counts per module of the model a run's pipeline holds, as far as they are known
 * before anything runs: from pretrain's model config or a loaded checkpoint's metadata,
 * then through each distill's scheme. */
typedef struct {
    int known;
    int layers[MODULE_COUNT];
} known_depth;

static void depth_of_config(const model_config *c, known_depth *d) {
    d->known = 1;
    for (int m = 0; m < MODULE_COUNT; m++) d->layers[m] = module_layers(c, (pl_module)m);
}

static void depth_of_run_model(const cfg_node *run, known_depth *d) {
    static const char *const keys[MODULE_COUNT] = {"model.layers_vision", "model.layers_query",
                                                   "model.layers_language"};
    d->known = 1;
    for (int m = 0; m < MODULE_COUNT; m++) {
        long long v;
        if (cfg_get_int(run, keys[m], &v, NULL) != PL_OK) d->known = 0;
        else d->layers[m] = (int)v;
    }
}

/* Each scheme of a distill must keep at least one block and no block past the depth its
 * input has; the error points at the scheme's line. */
static pl_status check_distill(const pl_experiment *exp, int r, int i, const cfg_node *section,
                               known_depth *d, pl_error *err) {
    known_depth next = {.known = d->known};
    for (int m = 0; m < MODULE_COUNT; m++) {
        char key[64];
        snprintf(key, sizeof key, "scheme.%s", module_name((pl_module)m));
        const cfg_node *scheme = cfg_get(section, key);
        if (scheme == NULL || scheme->kind != CFG_STRING || !d->known) continue;
        int kept[VLM_MAX_LAYERS];
        pl_error why;
        pl_error_clear(&why);
        if (student_scheme_select(scheme->u.s, d->layers[m], kept, &next.layers[m], &why) != PL_OK)
            return cfg_error_at(err, scheme->pos, "run %d (%s): pipeline stage %d: distill.%s "
                                "'%s' cannot apply to the %d %s blocks the stage receives: %s",
                                r + 1, exp->runs[r].run_id, i, key, scheme->u.s, d->layers[m],
                                module_name((pl_module)m), why.message);
    }
    *d = next;
    return PL_OK;
}

/* A training stage's data budget must hold at least one batch. */
static pl_status check_budget(const pl_experiment *exp, int r, int i, const char *kind,
                              const cfg_node *section, pl_error *err) {
    const cfg_node *budget = cfg_map_get(section, "train_samples");
    const cfg_node *batch = cfg_map_get(section, "batch_size");
    if (budget == NULL || budget->kind != CFG_INT || batch == NULL || batch->kind != CFG_INT ||
        budget->u.i >= batch->u.i)
        return PL_OK;
    return cfg_error_at(err, budget->pos, "run %d (%s): pipeline stage %d: %s.train_samples = %lld "
                        "is smaller than one batch (batch_size %lld): every step would repeat "
                        "samples within its batch; raise it to at least %lld", r + 1,
                        exp->runs[r].run_id, i, kind, budget->u.i, batch->u.i, batch->u.i);
}

static pl_status check_depths(const pl_experiment *exp, int r, pl_error *err) {
    const cfg_node *run = exp->runs[r].config;
    known_depth d = {0};
    for (int i = 0; i < cfg_stage_count(run); i++) {
        const char *kind;
        const cfg_node *section = cfg_stage_at(run, i, &kind);
        if (strcmp(kind, "pretrain") == 0) {
            depth_of_run_model(run, &d);
        } else if (strcmp(kind, "load") == 0) {
            const cfg_node *path = cfg_map_get(section, "path");
            model_config c;
            d.known = path != NULL && path->kind == CFG_STRING &&
                      vlm_checkpoint_config(path->u.s, &c, NULL) == PL_OK;
            if (d.known) depth_of_config(&c, &d); /* an unreadable file fails when it loads */
        } else if (strcmp(kind, "distill") == 0) {
            PL_TRY(check_distill(exp, r, i, section, &d, err));
        }
    }
    return PL_OK;
}

pl_status pl_preflight(const pl_experiment *exp, pl_error *err) {
    PL_TRY(pl_stage_validate(exp, err));
    PL_TRY(check_results_dir(exp, err));
    preflight_tsv_memo memo = {0};
    for (int r = 0; r < exp->n_runs; r++) {
        int n = cfg_stage_count(exp->runs[r].config);
        for (int i = 0; i < n; i++) {
            const char *kind;
            const cfg_node *section = cfg_stage_at(exp->runs[r].config, i, &kind);
            PL_TRY(check_stage_files(exp, r, i, kind, section, err));
            PL_TRY(check_budget(exp, r, i, kind, section, err));
        }
        PL_TRY(check_depths(exp, r, err));
        PL_TRY(check_data_paths(exp, r, err));
        train_precision precision; /* bf16 needs a CPU with BF16 products */
        PL_TRY(settings_precision(exp->runs[r].config, &precision, err));
        PL_TRY(preflight_data_splits(exp, r, &memo, err));
    }
    return PL_OK;
}
