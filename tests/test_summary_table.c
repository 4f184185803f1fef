/* test_summary_table.c - the table `prunelab run` ends with and `prunelab collect` prints:
 * columns line up whatever the widths of alias values, ids and numbers; every eval's
 * accuracy (pruned_acc before acc) and a bench's latency at its smallest batch and fewest
 * threads are shown; a failed run ends with its reason; long alias values are cut. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/summary_table.h"

/* Summary metric names of a quickstart run (load, prune, eval pruned_, finetune, eval, bench). */
static char *NAMES[] = {"acc",  "acc_what", "caption_slots", "ce", "latency_ms_b1_t1", "latency_ms_b1_t2",
                        "latency_ms_b32_t1", "latency_q1_ms_b1_t1", "params", "pruned_acc",
                        "pruned_caption_slots", "pruned_ce", "throughput_b1_t1"};
enum { N_NAMES = sizeof NAMES / sizeof NAMES[0] };

static double VALUES[3][N_NAMES] = {
    {0.6125, 0.7, 0.5, 1.2, 7.25, 9.5, 88.125, 7.0, 550000, 0.4375, 0.3, 2.5, 130.0},
    {0.71, 0.8, 0.6, 1.1, 12.5, 14.0, 101.0, 12.0, 550000, 0.625, 0.4, 2.0, 80.0},
};

static const char *ALIASES[] = {"sv", "pattern"};
static const char *VALS[3][2] = {{"0.3", "2:4"}, {"0.75", "unstructured"}, {"0.5", "a_very_long_value_that_goes_on_and_on"}};

/* Three runs: two completed with the metrics above, one failed without metrics. */
static void make_index(pl_index *idx, pl_index_row rows[3]) {
    memset(idx, 0, sizeof *idx);
    idx->n_aliases = 2, idx->aliases = ALIASES;
    idx->n_metrics = N_NAMES, idx->metrics = NAMES;
    const char *ids[3] = {"0123456789ab", "ba9876543210", "ffffeeeedddd"};
    for (int r = 0; r < 3; r++) {
        memset(&rows[r], 0, sizeof rows[r]);
        snprintf(rows[r].run_id, sizeof rows[r].run_id, "%s", ids[r]);
        rows[r].seed = r == 1 ? 12 : 0;
        rows[r].values = VALS[r];
        rows[r].status.state = r < 2 ? PL_RUN_COMPLETED : PL_RUN_FAILED;
        if (r == 2) snprintf(rows[r].status.reason, sizeof rows[r].status.reason, "loss is NaN at step 3");
        else rows[r].summary = (pl_h5_summary){.count = N_NAMES, .names = NAMES, .values = VALUES[r]};
    }
    idx->n_rows = 3, idx->rows = rows;
}

static char *table(const pl_index *idx) {
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    pl_index_print(idx, NULL, 0, out);
    fclose(out);
    return text;
}

/* Line k (0-based) of text into buf. */
static void line_of(const char *text, int k, char *buf, size_t cap) {
    for (int i = 0; i < k && text; i++) text = strchr(text, '\n') ? strchr(text, '\n') + 1 : NULL;
    cr_assert_not_null(text);
    size_t n = strcspn(text, "\n");
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), text);
}

/* The column where `word` ends in line. */
static int end_of(const char *line, const char *word) {
    const char *at = strstr(line, word);
    cr_assert_not_null(at, "no '%s' in '%s'", word, line);
    return (int)(at - line + strlen(word));
}

static int start_of(const char *line, const char *word) {
    const char *at = strstr(line, word);
    cr_assert_not_null(at, "no '%s' in '%s'", word, line);
    return (int)(at - line);
}

Test(summary_table, shows_every_eval_accuracy_and_the_smallest_bench_latency) {
    pl_index idx;
    pl_index_row rows[3];
    make_index(&idx, rows);
    char *text = table(&idx);
    char head[512];
    line_of(text, 0, head, sizeof head);
    cr_expect_lt(start_of(head, "pruned_acc"), start_of(head, "  acc ") + 2, "pruned_acc before acc: %s", head);
    cr_expect_not_null(strstr(head, "latency_ms_b1_t1"), "%s", head);
    cr_expect_null(strstr(head, "latency_ms_b32"), "one latency per bench: %s", head);
    cr_expect_null(strstr(head, "latency_ms_b1_t2"), "one latency per bench: %s", head);
    cr_expect_null(strstr(head, "acc_what"), "not the per-type accuracies: %s", head);
    cr_expect_null(strstr(head, "pruned_ce"), "%s", head);
    free(text);
}

Test(summary_table, columns_line_up) {
    pl_index idx;
    pl_index_row rows[3];
    make_index(&idx, rows);
    char *text = table(&idx);
    char head[512], r0[512], r1[512], r2[512];
    line_of(text, 0, head, sizeof head);
    line_of(text, 1, r0, sizeof r0);
    line_of(text, 2, r1, sizeof r1);
    line_of(text, 3, r2, sizeof r2);
    /* text columns start together, numbers end together */
    cr_expect_eq(start_of(r0, "2:4"), start_of(head, "pattern"), "\n%s\n%s", head, r0);
    cr_expect_eq(start_of(r1, "unstructured"), start_of(head, "pattern"), "\n%s\n%s", head, r1);
    cr_expect_eq(start_of(r0, "completed"), start_of(head, "status"), "\n%s\n%s", head, r0);
    cr_expect_eq(start_of(r2, "failed"), start_of(head, "status"), "\n%s\n%s", head, r2);
    cr_expect_eq(end_of(r1, "12  "), end_of(head, "seed  "), "\n%s\n%s", head, r1);
    cr_expect_eq(end_of(r0, "0.4375"), end_of(head, "pruned_acc"), "\n%s\n%s", head, r0);
    cr_expect_eq(end_of(r1, "0.6250"), end_of(head, "pruned_acc"), "\n%s\n%s", head, r1);
    cr_expect_eq(end_of(r0, "0.6125"), end_of(head, " acc"), "\n%s\n%s", head, r0);
    cr_expect_eq(end_of(r0, "7.25"), end_of(head, "latency_ms_b1_t1"), "\n%s\n%s", head, r0);
    cr_expect_eq(end_of(r1, "12.50"), end_of(head, "latency_ms_b1_t1"), "\n%s\n%s", head, r1);
    /* a failed run: dashes under the metrics, then its reason */
    cr_expect_not_null(strstr(r2, "loss is NaN at step 3"), "%s", r2);
    cr_expect_eq(end_of(r2, "-  loss"), end_of(head, "latency_ms_b1_t1") + 6, "\n%s\n%s", head, r2);
    /* a long alias value is cut to 24 characters */
    cr_expect_not_null(strstr(r2, "a_very_long_value_tha... "), "%s", r2);
    cr_expect_lt(strlen(head), 120, "readable width: %s", head);
    free(text);
}

Test(summary_table, prints_only_the_runs_asked_for) {
    pl_index idx;
    pl_index_row rows[3];
    make_index(&idx, rows);
    const char *only[] = {"ba9876543210"};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    pl_index_print(&idx, only, 1, out);
    fclose(out);
    cr_expect_null(strstr(text, "0123456789ab"), "%s", text);
    cr_expect_not_null(strstr(text, "ba9876543210"), "%s", text);
    free(text);
}
