/* stage_distill.c - the distill stage (EfficientVLM): from the pipeline's current model,
 * the teacher, build a shallower student of its own blocks by a scheme per module
 * (model/student.h), then train every student weight with the finetune loss
 *
 *   L = (1−λ)·L_task + λ·T²·KL(teacher ‖ student) + hidden_weight·L_hid + attn_weight·L_attn
 *
 * where the state terms pair student block k with the teacher block it was copied from. The
 * teacher stays frozen, with buffers of its own; the student is the stage's output. */
#include <stdio.h>
#include <string.h>

#include "config/path.h"
#include "engine/settings_finetune.h"
#include "engine/stage.h"
#include "model/student.h"

/* The student plan of the section's scheme per module over the teacher's depths. */
static pl_status plan_of(const cfg_node *section, const model_config *teacher, student_plan *plan,
                         pl_error *err) {
    for (int m = 0; m < MODULE_COUNT; m++) {
        char key[64];
        const char *scheme;
        snprintf(key, sizeof key, "scheme.%s", module_name((pl_module)m));
        PL_TRY(cfg_get_string(section, key, &scheme, err));
        if (student_scheme_select(scheme, module_layers(teacher, (pl_module)m), plan->kept[m],
                                  &plan->count[m], err) != PL_OK)
            return pl_error_wrap(err, "distill.%s (the teacher's %s module has %d blocks)", key,
                                 module_name((pl_module)m), module_layers(teacher, (pl_module)m));
    }
    return PL_OK;
}

pl_status stage_distill(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                        vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    if (in == NULL) return PL_ERROR(err, PL_ERR_INVALID, "distill needs a teacher from an earlier stage");
    PL_TRY(pl_stage_require_merged(in, "distill", err));
    student_plan plan;
    PL_TRY(plan_of(section, &in->cfg, &plan, err));
    finetune_config cfg;
    PL_TRY(settings_distill(section, run, &cfg, err));
    vlm_layer_map map;
    PL_TRY(student_create(out, in, &plan, cfg.batch_size, &map, err));
    cfg.layer_map = &map;
    char line[256];
    snprintf(line, sizeof line, "distill: student of %d/%d/%d blocks from the teacher's %d/%d/%d",
             out->cfg.layers_vision, out->cfg.layers_query, out->cfg.layers_language,
             in->cfg.layers_vision, in->cfg.layers_query, in->cfg.layers_language);
    pl_metric_progress(sink, line);
    pl_status st = finetune_run(out, finetune_uses_teacher(&cfg) ? in : NULL, data, &cfg, NULL,
                                sink, err);
    if (st != PL_OK) return pl_error_wrap(err, "distill");
    PL_TRY(pl_metric_summary(sink, "student_params", (double)out->index.layout.total, err));
    return pl_metric_summary(sink, "teacher_params", (double)in->index.layout.total, err);
}
