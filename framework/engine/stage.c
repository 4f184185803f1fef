/* stage.c - the stage registry (one line per kind), its catalog for the config layer, and
 * pipeline validation. */
#include "engine/stage.h"

#include <stdio.h>
#include <string.h>

/* The kinds prunelab can run, in pipeline order (help lists them so). One line per kind;
 * everything else about a kind is in its own file (see stage.h). */
static const pl_stage_kind *const STAGE_KINDS[] = {
    &PL_STAGE_PRETRAIN, &PL_STAGE_LOAD,    &PL_STAGE_DISTILL, &PL_STAGE_PRUNE,
    &PL_STAGE_FINETUNE, &PL_STAGE_LORAPRUNE, &PL_STAGE_L0PRUNE, &PL_STAGE_COMPACT,
    &PL_STAGE_EVAL,     &PL_STAGE_BENCH,
};
enum { STAGE_KIND_COUNT = (int)(sizeof STAGE_KINDS / sizeof STAGE_KINDS[0]) };

static const cfg_section *section_at(int i) { return STAGE_KINDS[i]->schema; }
static const cfg_stage_catalog CATALOG = {STAGE_KIND_COUNT, section_at};

const cfg_stage_catalog *pl_stage_catalog(void) { return &CATALOG; }

pl_status pl_experiment_load(const char *path, const char *const *overrides, int n_overrides,
                             pl_experiment **out, pl_error *err) {
    return cfg_experiment_load(&CATALOG, path, overrides, n_overrides, out, err);
}

const int PL_HELD_OUT_SPLIT_VALUES[] = {PL_SPLIT_TEST, PL_SPLIT_VAL};

pl_status pl_modules_into_bits(const cfg_node *value, void *field, const char *name, pl_error *err) {
    unsigned bits = 0;
    for (int i = 0; i < value->u.list.count; i++) {
        const char *module = value->u.list.items[i]->u.s;
        int found = -1;
        for (int m = 0; m < MODULE_COUNT; m++)
            if (strcmp(module, module_name((pl_module)m)) == 0) found = m;
        if (found < 0) return PL_ERROR(err, PL_ERR_CONFIG, "%s: '%s' is no module", name, module);
        bits |= 1u << found;
    }
    *(unsigned *)field = bits;
    return PL_OK;
}

enum { DEFAULT_INPUT_BATCH = 64 };

const pl_stage_kind *pl_stage_find(const char *kind) {
    for (int i = 0; i < STAGE_KIND_COUNT; i++)
        if (strcmp(pl_stage_name(STAGE_KINDS[i]), kind) == 0) return STAGE_KINDS[i];
    return NULL;
}

void pl_stage_kind_names(char *buf, size_t cap) {
    size_t at = 0;
    if (cap == 0) return;
    buf[0] = '\0';
    for (int i = 0; i < STAGE_KIND_COUNT && at < cap; i++) {
        int n = snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", pl_stage_name(STAGE_KINDS[i]));
        if (n < 0) break;
        at += (size_t)n;
    }
}

/* "pretrain or load": the kinds a pipeline can start with. */
static void starting_kinds(char *buf, size_t cap) {
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0, n = 0; i < STAGE_KIND_COUNT && at < cap; i++) {
        if (!STAGE_KINDS[i]->starts_pipeline) continue;
        int w = snprintf(buf + at, cap - at, "%s%s", n++ ? " or " : "", pl_stage_name(STAGE_KINDS[i]));
        if (w < 0) break;
        at += (size_t)w;
    }
}

static pl_status stage_error(const pl_experiment *exp, int r, int i, const char *kind,
                             const char *why, pl_error *err) {
    return PL_ERROR(err, PL_ERR_CONFIG, "%s: run %d (%s): pipeline stage %d '%s' %s", exp->path,
                    r + 1, exp->runs[r].run_id, i, kind, why);
}

pl_status pl_stage_validate(const pl_experiment *exp, pl_error *err) {
    char why[256], names[128];
    for (int r = 0; r < exp->n_runs; r++) {
        const cfg_node *config = exp->runs[r].config;
        int n = cfg_stage_count(config);
        if (n <= 0)
            return PL_ERROR(err, PL_ERR_CONFIG, "%s: run %d has an empty pipeline", exp->path, r + 1);
        bool have_model = false;
        for (int i = 0; i < n; i++) {
            const char *kind;
            cfg_stage_at(config, i, &kind);
            const pl_stage_kind *k = pl_stage_find(kind);
            if (k == NULL) {
                pl_stage_kind_names(names, sizeof names);
                snprintf(why, sizeof why, "is not implemented yet (available stage kinds: %s)", names);
                return stage_error(exp, r, i, kind, why, err);
            }
            const bool from_nothing = k->starts_pipeline;
            if (from_nothing && have_model)
                return stage_error(exp, r, i, kind, "makes a new model (from scratch or a file), "
                                   "so it must come before every other stage", err);
            if (!from_nothing && !have_model) {
                starting_kinds(names, sizeof names);
                snprintf(why, sizeof why, "needs a model: put a %s stage before it", names);
                return stage_error(exp, r, i, kind, why, err);
            }
            have_model = true;
        }
    }
    return PL_OK;
}

int pl_stage_numerics(const pl_stage_kind *k, const cfg_node *section) {
    return k->numerics_of != NULL ? k->numerics_of(section) : k->numerics;
}

/* Whether value is one of the '|'-separated words. */
static bool is_word(const char *words, const char *value) {
    const size_t n = strlen(value);
    for (const char *w = words; w != NULL && *w;) {
        const size_t len = strcspn(w, "|");
        if (len == n && strncmp(w, value, n) == 0) return true;
        w += len + (w[len] == '|');
    }
    return false;
}

const char *pl_stage_file(const pl_stage_kind *k, const cfg_node *section, int i) {
    const pl_file_input *in = &k->files[i];
    const cfg_node *v = in->key != NULL ? cfg_map_get(section, in->key) : NULL;
    if (v == NULL || v->kind != CFG_STRING || is_word(in->words, v->u.s)) return NULL;
    return v->u.s;
}

const char *pl_stage_first_file(const cfg_node *run) {
    const char *kind;
    const cfg_node *first = cfg_stage_at(run, 0, &kind);
    const pl_stage_kind *k = first != NULL ? pl_stage_find(kind) : NULL;
    return k != NULL && k->files[0].key != NULL ? pl_stage_file(k, first, 0) : NULL;
}

int pl_stage_input_batch(const pl_stage_kind *k, const cfg_node *section) {
    const cfg_node *b = k->batch_key ? cfg_get(section, k->batch_key) : NULL;
    if (b != NULL && b->kind == CFG_INT && b->u.i > 0 && b->u.i < (1 << 20)) return (int)b->u.i;
    if (b != NULL && b->kind == CFG_LIST) { /* several batch sizes: the largest */
        long long largest = 0;
        for (int i = 0; i < b->u.list.count; i++)
            if (b->u.list.items[i]->kind == CFG_INT && b->u.list.items[i]->u.i > largest)
                largest = b->u.list.items[i]->u.i;
        if (largest > 0 && largest < (1 << 20)) return (int)largest;
    }
    return DEFAULT_INPUT_BATCH;
}

pl_status pl_stage_require_merged(const vlm *in, const char *kind, pl_error *err) {
    if (in == NULL || in->adapters.kind == ADAPTER_NONE) return PL_OK;
    return PL_ERROR(err, PL_ERR_CONFIG, "the %s stage got a model that carries unmerged adapters "
                    "(an earlier finetune with merge: false); set merge: true there, or end the "
                    "pipeline with eval stages after it", kind);
}

void pl_stage_take(vlm *in, vlm *out) { vlm_move(out, in); }
