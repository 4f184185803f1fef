/* stage_finetune.c - the finetune stage: recovery with masked full fine-tuning, LoRA or
 * SparseLoRA plus distillation (tune/finetune.h), then the adapters merged into W with the
 * measured sparsity reported before and after the merge (sparsity_*_premerge and the
 * usual sparsity_* after). With merge: false the output model carries the factors unmerged
 * (saved in its checkpoint, applied by later eval stages) and sparsity_* describe W⊙M. */
#include <string.h>

#include "config/path.h"
#include "engine/settings_finetune.h"
#include "engine/stage.h"
#include "model/checkpoint.h"
#include "prune/sparsity.h"

pl_status stage_finetune(vlm *in, const cfg_node *section, const cfg_node *run,
                         const pl_data *data, vlm *out, const pl_metrics_sink *sink,
                         pl_error *err) {
    finetune_settings fs;
    PL_TRY(settings_finetune(section, run, &fs, err));
    PL_TRY(pl_stage_require_merged(in, "finetune", err));
    if (finetune_uses_teacher(&fs.train) && strcmp(fs.teacher, "same") == 0)
        for (int i = 0; i < cfg_stage_count(run); i++) {
            const char *kind, *method;
            const cfg_node *stage = cfg_stage_at(run, i, &kind);
            if (strcmp(kind, "prune") == 0 && cfg_get_string(stage, "method", &method, NULL) == PL_OK &&
                strcmp(method, "sparsegpt") == 0)
                return PL_ERROR(err, PL_ERR_CONFIG,
                                "finetune.teacher 'same' (the unmasked weights) is not the dense "
                                "model after SparseGPT, which updates the kept weights; set "
                                "finetune.teacher to the teacher's checkpoint, or lambda, "
                                "hidden_weight and attn_weight to 0");
        }
    pl_stage_take(in, out);
    vlm teacher;
    vlm *teacher_model = NULL;
    if (strcmp(fs.teacher, "same") != 0) {
        PL_TRY(vlm_load(&teacher, fs.teacher, out->max_batch, err));
        teacher_model = &teacher;
    }
    adapter_set adapters;
    memset(&adapters, 0, sizeof adapters);
    pl_status st = finetune_run(out, teacher_model, data, &fs.train, &adapters, sink, err);
    if (teacher_model) vlm_free(&teacher);
    if (st != PL_OK || fs.train.adapter == ADAPTER_NONE) return st == PL_OK ? sparsity_report(out, sink, 0, err) : st;
    if (!fs.merge) { /* the output carries the factors; later eval stages apply them */
        adapters_move(&out->adapters, &adapters);
        return sparsity_report(out, sink, 0, err);
    }
    st = sparsity_report_modules(out, sink, "_premerge", err);
    if (st == PL_OK) {
        adapters_merge(&adapters, &out->index, &out->params, &out->masks);
        st = sparsity_report(out, sink, 0, err);
    }
    if (st == PL_OK) st = sparsity_check_masked_zero(out, err);
    adapters_free(&adapters);
    return st;
}
