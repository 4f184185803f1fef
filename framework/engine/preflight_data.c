/* preflight_data.c - held-out sample counts and train rows against the data's split sizes,
 * before anything runs (see preflight_data.h). */
#include "engine/preflight_data.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config/path.h"
#include "engine/settings.h"
#include "engine/stage.h"

/* How many samples each split of a run's data holds, and where that number was set. */
typedef struct {
    const char *tsv;          /* a user's TSV, or NULL for the generated scenes */
    int64_t size[PL_USER_SPLITS]; /* train: INT64_MAX when unbounded (0 = no train rows) */
    const cfg_node *size_key[PL_USER_SPLITS]; /* generated scenes: data.val_scenes, data.test_size */
} split_sizes;

/* Where to point at for a key: the key itself unless it is a schema default, then its
 * stage (or, failing that, the run's data section). */
static cfg_pos key_pos(const cfg_node *key, const cfg_node *section, const cfg_node *run) {
    if (key != NULL && key->pos.line > 0) return key->pos;
    if (section != NULL && section->pos.line > 0) return section->pos;
    const cfg_node *data = cfg_get(run, "data");
    cfg_pos unknown = {0};
    return data != NULL ? data->pos : key != NULL ? key->pos : unknown;
}

static pl_status sizes_of_run(const pl_experiment *exp, int r, preflight_tsv_memo *memo,
                              split_sizes *out, pl_error *err) {
    const cfg_node *run = exp->runs[r].config;
    pl_data_config dc;
    PL_TRY(settings_data(run, &dc, err));
    memset(out, 0, sizeof *out);
    if (dc.tsv[0] == '\0') {
        out->size[PL_SPLIT_TRAIN] = INT64_MAX;
        out->size[PL_SPLIT_VAL] = dc.val_scenes;
        out->size[PL_SPLIT_TEST] = dc.test_size;
        out->size_key[PL_SPLIT_VAL] = cfg_get(run, "data.val_scenes");
        out->size_key[PL_SPLIT_TEST] = cfg_get(run, "data.test_size");
        return PL_OK;
    }
    if (strcmp(memo->tsv, dc.tsv) != 0) {
        pl_error why;
        pl_error_clear(&why);
        memo->tsv[0] = '\0';
        if (pl_user_data_count(dc.tsv, memo->split_size, &why) != PL_OK)
            return cfg_error_at(err, key_pos(cfg_get(run, "data.tsv"), NULL, run), "run %d (%s): data.tsv: %s",
                                r + 1, exp->runs[r].run_id, why.message);
        snprintf(memo->tsv, sizeof memo->tsv, "%s", dc.tsv);
    }
    cfg_get_string(run, "data.tsv", &out->tsv, NULL);
    for (int s = 0; s < PL_USER_SPLITS; s++) out->size[s] = memo->split_size[s];
    if (out->size[PL_SPLIT_TRAIN] > 0) out->size[PL_SPLIT_TRAIN] = INT64_MAX;
    return PL_OK;
}

/* `samples` held-out samples of split for the key at `key` (named `name`, such as
 * eval.samples) of stage i; why_split says why that split when the key does not. */
static pl_status check_held_out(const pl_experiment *exp, int r, int i, const cfg_node *section,
                                const char *name, const cfg_node *key, pl_split split,
                                const char *why_split, const split_sizes *sz, pl_error *err) {
    if (key == NULL || key->kind != CFG_INT || key->u.i <= sz->size[split]) return PL_OK;
    const cfg_node *run = exp->runs[r].config;
    cfg_pos at = key_pos(key, section, run);
    const char *split_name = pl_split_name(split);
    char prefix[160];
    snprintf(prefix, sizeof prefix, "run %d (%s): pipeline stage %d: %s = %lld%s", r + 1,
             exp->runs[r].run_id, i, name, key->u.i, key->pos.line > 0 ? "" : " (the default)");
    if (sz->tsv != NULL && sz->size[split] == 0)
        return cfg_error_at(err, at, "%s, but the TSV %s (data.tsv) has no %s rows%s; add rows with "
                            "'%s' in the fourth column", prefix, sz->tsv, split_name, why_split,
                            split_name);
    if (sz->tsv != NULL)
        return cfg_error_at(err, at, "%s exceeds the %lld %s rows of the TSV %s (data.tsv)%s; lower "
                            "%s to at most %lld or add %s rows to the TSV", prefix,
                            (long long)sz->size[split], split_name, sz->tsv, why_split, name,
                            (long long)sz->size[split], split_name);
    const char *size_name = split == PL_SPLIT_VAL ? "data.val_scenes" : "data.test_size";
    char size_at[320] = "";
    const cfg_node *size_key = sz->size_key[split];
    if (size_key != NULL && size_key->pos.line > 0) {
        char where[300];
        cfg_pos_format(size_key->pos, where, sizeof where);
        snprintf(size_at, sizeof size_at, " at %s", where);
    }
    return cfg_error_at(err, at, "%s exceeds the %lld scenes of the %s split (%s%s)%s; lower %s to "
                        "at most %lld or raise %s", prefix, (long long)sz->size[split], split_name,
                        size_name, size_at, why_split, name, (long long)sz->size[split], size_name);
}

/* A training stage draws train batches: a user's TSV must have train rows. */
static pl_status check_train_rows(const pl_experiment *exp, int r, int i, const char *kind,
                                  const cfg_node *section, const split_sizes *sz, pl_error *err) {
    if (sz->tsv == NULL || sz->size[PL_SPLIT_TRAIN] > 0) return PL_OK;
    return cfg_error_at(err, key_pos(NULL, section, exp->runs[r].config), "run %d (%s): pipeline "
                        "stage %d '%s' trains on the train split, but the TSV %s (data.tsv) has no "
                        "train rows; add rows with 'train' in the fourth column", r + 1,
                        exp->runs[r].run_id, i, kind, sz->tsv);
}

pl_status preflight_data_splits(const pl_experiment *exp, int r, preflight_tsv_memo *memo,
                                pl_error *err) {
    split_sizes sz;
    PL_TRY(sizes_of_run(exp, r, memo, &sz, err));
    const cfg_node *run = exp->runs[r].config;
    for (int i = 0; i < cfg_stage_count(run); i++) {
        const char *kind;
        const cfg_node *section = cfg_stage_at(run, i, &kind);
        bool held_out = strcmp(kind, "eval") == 0 || strcmp(kind, "bench") == 0;
        if (held_out) {
            const cfg_node *split = cfg_map_get(section, "split");
            int s = split != NULL && split->kind == CFG_STRING ? pl_split_parse(split->u.s) : -1;
            if (s != PL_SPLIT_VAL && s != PL_SPLIT_TEST) continue; /* the schema allows no other */
            char name[32];
            snprintf(name, sizeof name, "%s.samples", kind);
            PL_TRY(check_held_out(exp, r, i, section, name, cfg_map_get(section, "samples"),
                                  (pl_split)s, "", &sz, err));
        }
        if (strcmp(kind, "pretrain") == 0)
            PL_TRY(check_held_out(exp, r, i, section, "pretrain.eval_samples",
                                  cfg_map_get(section, "eval_samples"), PL_SPLIT_VAL,
                                  " (pretrain evaluates on val at its end)", &sz, err));
        const pl_stage_kind *k = pl_stage_find(kind);
        if (k != NULL && k->trains) PL_TRY(check_train_rows(exp, r, i, kind, section, &sz, err));
        /* a training stage evaluating while it trains (eval_every) reads val */
        if (k != NULL && k->trains && strcmp(kind, "pretrain") != 0 && cfg_map_get(section, "eval_every") != NULL) {
            char name[48];
            snprintf(name, sizeof name, "%s.eval_samples", kind);
            const cfg_node *n = cfg_map_get(section, "eval_samples");
            if (n == NULL) n = cfg_map_get(section, "eval_every"); /* its position, for the default */
            const long long want = cfg_map_get(section, "eval_samples") != NULL ? n->u.i : 500;
            if (want > sz.size[PL_SPLIT_VAL])
                return cfg_error_at(err, n->pos, "run %d (%s): pipeline stage %d: %s = %lld%s exceeds "
                                    "the %lld samples of the val split its eval_every passes read; "
                                    "lower %s", r + 1, exp->runs[r].run_id, i, name, want,
                                    cfg_map_get(section, "eval_samples") != NULL ? "" : " (the default)",
                                    (long long)sz.size[PL_SPLIT_VAL], name);
        }
    }
    return PL_OK;
}
