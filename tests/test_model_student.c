/* test_model_student.c - layer-halving schemes by hand, and students built from a
 * teacher's blocks: the kept blocks' weights and shapes, the shared tensors, the layer map,
 * masks travelling with their blocks, and scheme none giving the teacher itself. */
#include <criterion/criterion.h>
#include <string.h>

#include "model/state_loss.h"
#include "model/student.h"
#include "model_testutil.h"

static void expect_kept(const char *scheme, int layers, const int *want, int n) {
    int kept[VLM_MAX_LAYERS], count = -1;
    pl_error err;
    cr_assert_eq(student_scheme_select(scheme, layers, kept, &count, &err), PL_OK, "%s", err.message);
    cr_assert_eq(count, n, "%s of %d: %d blocks", scheme, layers, count);
    for (int i = 0; i < n; i++) cr_assert_eq(kept[i], want[i], "%s of %d: block %d", scheme, layers, i);
}

static void expect_refused(const char *scheme, int layers, const char *says) {
    int kept[VLM_MAX_LAYERS], count;
    pl_error err;
    cr_assert_eq(student_scheme_select(scheme, layers, kept, &count, &err), PL_ERR_CONFIG, "%s", scheme);
    cr_assert(strstr(err.message, says) != NULL, "%s: %s", scheme, err.message);
}

Test(student, schemes_keep_the_blocks_they_name) {
    expect_kept("even", 6, (int[]){1, 3, 5}, 3); /* teacher layers 2, 4, 6 counting from 1 */
    expect_kept("odd", 6, (int[]){0, 2, 4}, 3);
    expect_kept("first", 6, (int[]){0, 1, 2}, 3);
    expect_kept("last", 6, (int[]){3, 4, 5}, 3);
    expect_kept("uniform:3", 6, (int[]){0, 3, 5}, 3); /* round(0), round(2.5), round(5) */
    expect_kept("uniform:4", 8, (int[]){0, 2, 5, 7}, 4); /* 0, 7/3, 14/3, 7 */
    expect_kept("uniform:1", 6, (int[]){5}, 1);
    expect_kept("uniform:6", 6, (int[]){0, 1, 2, 3, 4, 5}, 6);
    expect_kept("none", 3, (int[]){0, 1, 2}, 3);
    expect_kept("even", 2, (int[]){1}, 1); /* the bridge's two blocks */
    expect_kept("odd", 1, (int[]){0}, 1);
    expect_refused("even", 1, "keeps no block");
    expect_refused("first", 1, "keeps no block");
    expect_refused("uniform:0", 6, "1 <= k <= 6");
    expect_refused("uniform:7", 6, "1 <= k <= 6");
    expect_refused("uniform:x", 6, "uniform:<k>");
    expect_refused("evens", 6, "unknown layer scheme 'evens'");
}

static student_plan plan_of(const model_config *c, const char *scheme) {
    student_plan p;
    for (int m = 0; m < MODULE_COUNT; m++)
        cr_assert_eq(student_scheme_select(scheme, module_layers(c, (pl_module)m), p.kept[m],
                                           &p.count[m], NULL), PL_OK);
    return p;
}

Test(student, even_student_copies_the_kept_blocks_and_pairs_them) {
    model_config c = tm_hetero_config();
    vlm teacher, student;
    cr_assert_eq(vlm_create(&teacher, &c, 2, NULL), PL_OK);
    tm_randomise(&teacher, 71);
    cr_assert_eq(vlm_enable_masks(&teacher, NULL), PL_OK);
    teacher.masks.data[teacher.index.layout.tensors[teacher.index.language_blocks[1].fc1.weight].offset] = 0.0f;
    const student_plan plan = plan_of(&c, "even");
    vlm_layer_map map;
    pl_error err;
    cr_assert_eq(student_create(&student, &teacher, &plan, 2, &map, &err), PL_OK, "%s", err.message);
    cr_assert_eq(student.cfg.layers_vision, 1);
    cr_assert_eq(student.cfg.layers_query, 1);
    cr_assert_eq(student.cfg.layers_language, 1);
    /* student block 0 is teacher block 1 in every module, shape and weights */
    for (int m = 0; m < MODULE_COUNT; m++) {
        cr_assert_eq(map.teacher[m][0], 1);
        const block_dims s = model_block(&student.cfg, (pl_module)m, 0), t = model_block(&c, (pl_module)m, 1);
        cr_assert(s.heads == t.heads && s.cross_heads == t.cross_heads && s.ffn == t.ffn);
    }
    for (int i = 0; i < student.index.layout.count; i++) {
        const pl_tensor_spec *s = &student.index.layout.tensors[i];
        char name[PL_NAME_MAX];
        snprintf(name, sizeof name, "%s", s->name);
        char *at = strstr(name, ".blocks.0.");
        if (at != NULL) at[8] = '1';
        const int t = pl_layout_find(&teacher.index.layout, name);
        cr_assert_geq(t, 0, "%s has no teacher tensor %s", s->name, name);
        cr_assert_eq(memcmp(pl_buffer_view(&student.params, i), pl_buffer_view(&teacher.params, t),
                            s->count * sizeof(float)), 0, "%s", s->name);
        cr_assert_eq(memcmp(pl_buffer_view(&student.masks, i), pl_buffer_view(&teacher.masks, t),
                            s->count * sizeof(float)), 0, "%s mask", s->name);
    }
    cr_assert_eq(state_loss_check(&map, &student.cfg, &teacher.cfg, 1, 1, &err), PL_OK, "%s", err.message);
    vlm_free(&student);
    vlm_free(&teacher);
}

Test(student, scheme_none_is_the_teacher) {
    model_config c = tm_micro_config();
    vlm teacher, student;
    cr_assert_eq(vlm_create(&teacher, &c, 2, NULL), PL_OK);
    tm_randomise(&teacher, 72);
    const student_plan plan = plan_of(&c, "none");
    vlm_layer_map map;
    cr_assert_eq(student_create(&student, &teacher, &plan, 2, &map, NULL), PL_OK);
    cr_assert_eq(memcmp(&student.cfg, &teacher.cfg, sizeof c), 0);
    static tm_batch b;
    tm_fill_batch(&b, 73);
    vlm_input in = {.images = b.images, .tokens = b.tokens, .targets = b.targets, .batch = 2};
    weight_set ws = vlm_weights(&student, 0, 0), wt = vlm_weights(&teacher, 0, 0);
    const float ls = vlm_forward(&student, &ws, &in, (vlm_loss_weights){.task_weight = 1.0f}).total;
    const float lt = vlm_forward(&teacher, &wt, &in, (vlm_loss_weights){.task_weight = 1.0f}).total;
    cr_assert_eq(memcmp(&ls, &lt, sizeof ls), 0);
    vlm_free(&student);
    vlm_free(&teacher);
}
