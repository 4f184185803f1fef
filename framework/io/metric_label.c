/* metric_label.c - readable metric names and metric families (see metric_label.h). */
#include "io/metric_label.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const EXACT[][2] = {
    {"acc", "accuracy"},
    {"ce", "cross-entropy"},
    {"caption_slots", "caption cells named right"},
    {"loss", "loss"},
    {"loss_task", "task loss"},
    {"loss_kd", "distillation loss"},
    {"loss_aux", "cell loss (vision)"},
    {"loss_bridge_aux", "cell loss (bridge)"},
    {"loss_hidden", "hidden-state loss"},
    {"loss_attn", "attention-map loss"},
    {"lr", "learning rate"},
    {"grad_norm", "gradient norm"},
    {"time_s", "time (s)"},
    {"latency_ms", "latency (ms)"},
    {"sparsity", "sparsity"},
    {"params", "parameters"},
    {"nonzero_params", "non-zero parameters"},
    {"prunable_params", "prunable parameters"},
    {"nonzero_prunable", "non-zero prunable parameters"},
    {"nonzeros", "non-zero weights"},
    {"flops", "FLOPs"},
    {"flops_per_sample", "FLOPs per sample"},
    {"removed_fraction", "fraction removed"},
    {"prune_seconds", "pruning time (s)"},
    {"bench_answer_tokens", "answer tokens decoded"},
    {"student_params", "student parameters"},
    {"teacher_params", "teacher parameters"},
    {"params_before_compact", "parameters before compact"},
};
enum { N_EXACT = sizeof EXACT / sizeof EXACT[0] };

/* Question types as the README names them (data/batch.h: pl_qtype_name). */
static const char *const QTYPES[][2] = {{"what", "what-is-at"}, {"exists", "exists"}, {"howmany", "how-many"},
                                        {"where", "where"}, {"relation", "relation"}, {"caption", "caption"}};

/* Eval and bench tags with a phrase for them. */
static const char *const TAGS[][2] = {{"pruned", "after pruning"},         {"masked", "of the masked model"},
                                      {"compacted", "of the compacted model"}, {"recovered", "after recovery"},
                                      {"teacher", "of the teacher"},       {"dense", "of the dense model"},
                                      {"student", "of the student"}};

static const char *exact_label(const char *base) {
    for (int i = 0; i < N_EXACT; i++)
        if (strcmp(base, EXACT[i][0]) == 0) return EXACT[i][1];
    return NULL;
}

/* "<what>_b<B>_t<T>" -> B and T. */
static bool bench_point(const char *base, const char *what, int *batch, int *threads) {
    size_t n = strlen(what);
    int end = 0;
    return strncmp(base, what, n) == 0 && sscanf(base + n, "_b%d_t%d%n", batch, threads, &end) == 2 &&
           base[n + (size_t)end] == '\0';
}

/* The label of a standard base metric into buf, or NULL when base is none. */
static const char *base_label(const char *base, char *buf, size_t size) {
    const char *exact = exact_label(base);
    if (exact != NULL) return exact;
    int b, t;
    static const char *const timings[][2] = {{"latency_ms", "latency"},
                                             {"latency_q1_ms", "latency, lower quartile"},
                                             {"latency_q3_ms", "latency, upper quartile"}};
    for (int i = 0; i < 3; i++)
        if (bench_point(base, timings[i][0], &b, &t)) {
            snprintf(buf, size, "%s (ms per batch of %d, %d thread%s)", timings[i][1], b, t, t == 1 ? "" : "s");
            return buf;
        }
    if (bench_point(base, "throughput", &b, &t)) {
        snprintf(buf, size, "throughput (samples/s at batch %d, %d thread%s)", b, t, t == 1 ? "" : "s");
        return buf;
    }
    if (strncmp(base, "acc_", 4) == 0)
        for (int i = 0; i < 6; i++)
            if (strcmp(base + 4, QTYPES[i][0]) == 0) {
                snprintf(buf, size, "accuracy (%s questions)", QTYPES[i][1]);
                return buf;
            }
    return NULL;
}

/* Where the base of metric starts: 0 when the whole name is a standard metric, else just
 * after the first '_' whose remainder is one; -1 when there is none. */
static int base_start(const char *metric) {
    char scratch[256];
    for (int at = 0; metric[at]; at++) {
        if (at > 0 && metric[at - 1] != '_') continue;
        if (base_label(metric + at, scratch, sizeof scratch) != NULL) return at;
    }
    return -1;
}

/* "<label> <phrase>", the phrase before a parenthesis: "latency after pruning (ms ...)". */
static const char *with_phrase(const char *label, const char *phrase, char *buf, size_t size) {
    const char *paren = strstr(label, " (");
    if (paren == NULL) snprintf(buf, size, "%s %s", label, phrase);
    else snprintf(buf, size, "%.*s %s%s", (int)(paren - label), label, phrase, paren);
    return buf;
}

const char *pl_metric_label(const char *metric, char *buf, size_t size) {
    int at = base_start(metric);
    char base_buf[256];
    if (at == 0) {
        const char *label = base_label(metric, base_buf, sizeof base_buf);
        if (label == base_buf) {
            snprintf(buf, size, "%s", base_buf);
            return buf;
        }
        return label;
    }
    if (at > 0) {
        const char *label = base_label(metric + at, base_buf, sizeof base_buf);
        int tag_len = at - 1; /* without its '_' */
        for (size_t i = 0; i < sizeof TAGS / sizeof TAGS[0]; i++)
            if ((int)strlen(TAGS[i][0]) == tag_len && strncmp(metric, TAGS[i][0], (size_t)tag_len) == 0)
                return with_phrase(label, TAGS[i][1], buf, size);
        char tag[160];
        snprintf(tag, sizeof tag, "(%.*s)", tag_len, metric);
        return with_phrase(label, tag, buf, size);
    }
    /* <standard>_<detail>: "sparsity_vision" -> "sparsity (vision)" */
    const char *under = strchr(metric, '_');
    for (int i = 0; under && i < N_EXACT; i++)
        if ((size_t)(under - metric) == strlen(EXACT[i][0]) && strncmp(metric, EXACT[i][0], (size_t)(under - metric)) == 0) {
            snprintf(buf, size, "%s (%s)", EXACT[i][1], under + 1);
            return buf;
        }
    return metric;
}

const char *pl_metric_family(const char *metric, char *buf, size_t size) {
    int at = base_start(metric);
    const char *base = metric + (at > 0 ? at : 0);
    if (at >= 0 && strncmp(base, "acc", 3) == 0 && (base[3] == '\0' || base[3] == '_')) base = "acc";
    snprintf(buf, size, "%s", base);
    return buf;
}
