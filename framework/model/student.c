/* student.c - layer-halving schemes and building a student from a teacher's blocks (see
 * student.h). */
#include "model/student.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fixed schemes' names, by student_scheme value (uniform:<k> has a count). */
static const char *const SCHEME_NAMES[] = {
    [STUDENT_EVEN] = "even", [STUDENT_ODD] = "odd", [STUDENT_FIRST] = "first",
    [STUDENT_LAST] = "last", [STUDENT_NONE] = "none",
};

bool student_scheme_parse(const char *scheme, student_scheme *kind, long *k) {
    *k = 0;
    for (int s = 0; s < (int)(sizeof SCHEME_NAMES / sizeof SCHEME_NAMES[0]); s++)
        if (strcmp(scheme, SCHEME_NAMES[s]) == 0) return *kind = (student_scheme)s, true;
    if (strncmp(scheme, "uniform:", 8) != 0 || scheme[8] < '0' || scheme[8] > '9') return false;
    char *end;
    *k = strtol(scheme + 8, &end, 10);
    *kind = STUDENT_UNIFORM;
    return *end == '\0' && *k >= 1;
}

pl_status student_scheme_select(const char *scheme, int layers, int *kept, int *count,
                                pl_error *err) {
    int n = 0;
    student_scheme kind;
    long k;
    if (!student_scheme_parse(scheme, &kind, &k)) {
        if (strncmp(scheme, "uniform:", 8) == 0)
            return PL_ERROR(err, PL_ERR_CONFIG, "layer scheme '%s': uniform:<k> needs 1 <= k <= "
                            "%d, the teacher's blocks in this module", scheme, layers);
        return PL_ERROR(err, PL_ERR_CONFIG, "unknown layer scheme '%s'; use even, odd, first, "
                        "last, uniform:<k> or none", scheme);
    }
    switch (kind) {
    case STUDENT_EVEN:
    case STUDENT_ODD:
        for (int l = kind == STUDENT_EVEN ? 1 : 0; l < layers; l += 2) kept[n++] = l;
        break;
    case STUDENT_FIRST:
        for (int l = 0; l < layers / 2; l++) kept[n++] = l;
        break;
    case STUDENT_LAST:
        for (int l = layers - layers / 2; l < layers; l++) kept[n++] = l;
        break;
    case STUDENT_NONE:
        for (int l = 0; l < layers; l++) kept[n++] = l;
        break;
    case STUDENT_UNIFORM:
        if (k > layers)
            return PL_ERROR(err, PL_ERR_CONFIG, "layer scheme '%s': uniform:<k> needs 1 <= k <= "
                            "%d, the teacher's blocks in this module", scheme, layers);
        for (long i = 0; i < k; i++) /* k = 1 keeps the last block */
            kept[n++] = k == 1 ? layers - 1 : (int)lround((double)i * (layers - 1) / (double)(k - 1));
        break;
    }
    if (n == 0)
        return PL_ERROR(err, PL_ERR_CONFIG, "layer scheme '%s' keeps no block of a module with %d "
                        "(a student needs at least one per module)", scheme, layers);
    *count = n;
    return PL_OK;
}

/* The student's name for teacher tensor `name`: block <kept[k]> of a module becomes block
 * k; NULL when the tensor belongs to a block the plan drops. out has PL_NAME_MAX room. */
static const char *student_name(const char *name, const student_plan *plan, char *out) {
    for (int m = 0; m < MODULE_COUNT; m++) {
        char prefix[64];
        const int len = snprintf(prefix, sizeof prefix, "%s.blocks.", module_name((pl_module)m));
        if (strncmp(name, prefix, (size_t)len) != 0) continue;
        char *rest;
        const long t = strtol(name + len, &rest, 10);
        for (int k = 0; k < plan->count[m]; k++)
            if (plan->kept[m][k] == t) {
                snprintf(out, PL_NAME_MAX, "%s%d%s", prefix, k, rest);
                return out;
            }
        return NULL;
    }
    return name; /* embeddings, positions, queries, norms, projection, heads */
}

pl_status student_create(vlm *student, const vlm *teacher, const student_plan *plan,
                         int max_batch, vlm_layer_map *map, pl_error *err) {
    if (teacher->adapters.kind != ADAPTER_NONE)
        return PL_ERROR(err, PL_ERR_CONFIG, "the teacher carries unmerged adapters; merge them "
                        "(finetune merge: true) before building a student from it");
    if (teacher->units.layout != NULL)
        return PL_ERROR(err, PL_ERR_CONFIG, "the teacher was structurally pruned; compact it (a "
                        "compact stage) before building a student from it, so the removed heads "
                        "and neurons are gone rather than masked");
    model_config c = teacher->cfg;
    model_blocks_make_custom(&c);
    const model_config full = c;
    int *layers[MODULE_COUNT] = {&c.layers_vision, &c.layers_query, &c.layers_language};
    memset(map, 0, sizeof *map);
    for (int m = 0; m < MODULE_COUNT; m++) {
        for (int k = 0; k < VLM_MAX_LAYERS; k++) map->teacher[m][k] = -1;
        memset(c.blocks.dims[m], 0, sizeof c.blocks.dims[m]);
        for (int k = 0; k < plan->count[m]; k++) {
            const int t = plan->kept[m][k];
            if (t < 0 || t >= module_layers(&full, (pl_module)m) || (k > 0 && t <= plan->kept[m][k - 1]))
                return PL_ERROR(err, PL_ERR_INVALID, "student plan: %s block %d is not a teacher "
                                "block in increasing order", module_name((pl_module)m), t);
            c.blocks.dims[m][k] = full.blocks.dims[m][t];
            map->teacher[m][k] = t;
        }
        *layers[m] = plan->count[m];
    }
    model_blocks_normalise(&c);
    PL_TRY(vlm_create(student, &c, max_batch, err));
    if (teacher->masks.data != NULL && vlm_enable_masks(student, err) != PL_OK) {
        vlm_free(student);
        return PL_ERR_NOMEM;
    }
    char renamed[PL_NAME_MAX];
    int copied = 0;
    for (int t = 0; t < teacher->index.layout.count; t++) {
        const pl_tensor_spec *src = &teacher->index.layout.tensors[t];
        const char *name = student_name(src->name, plan, renamed);
        if (name == NULL) continue;
        const int s = pl_layout_find(&student->index.layout, name);
        if (s < 0 || student->index.layout.tensors[s].count != src->count) {
            vlm_free(student);
            return PL_ERROR(err, PL_ERR_INTERNAL, "student tensor %s does not match teacher tensor "
                            "%s", name, src->name);
        }
        memcpy(pl_buffer_view(&student->params, s), pl_buffer_view(&teacher->params, t),
               src->count * sizeof(float));
        if (teacher->masks.data != NULL)
            memcpy(pl_buffer_view(&student->masks, s), pl_buffer_view(&teacher->masks, t),
                   src->count * sizeof(float));
        copied++;
    }
    if (copied != student->index.layout.count) {
        vlm_free(student);
        return PL_ERROR(err, PL_ERR_INTERNAL, "the student got %d of its %d tensors from the teacher",
                        copied, student->index.layout.count);
    }
    return PL_OK;
}
