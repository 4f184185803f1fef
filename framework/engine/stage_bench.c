/* stage_bench.c - the bench stage: inference latency and throughput of the current model
 * as deployed (tune/latency.h), at each configured batch size and thread count, with the
 * model's parameters, non-zeros and forward FLOPs per sample. Summary metrics, with the
 * stage's tag in front:
 *   latency_ms_b<B>_t<T>, latency_q1_ms_b<B>_t<T>, latency_q3_ms_b<B>_t<T>   per batch
 *   throughput_b<B>_t<T>                                                    samples/s
 *   params, nonzero_params, flops_per_sample, bench_answer_tokens
 * T is the thread count the point ran with (0 in the config = every core). The scheduler
 * runs a run holding a bench stage while nothing else runs (stage.h: runs_alone). */
#include <stdio.h>

#include "config/bind.h"
#include "config/schema_keys.h"
#include "core/threads.h"
#include "engine/stage.h"
#include "prune/sparsity.h"
#include "tune/latency.h"

/* ---- settings (the `bench` section of an experiment) ---- */

/* A non-empty list of at most 16 values, each at most max (max 0: no bound); names the
 * first offender. */
static bool check_int_list(const cfg_node *v, long long max, const char *what, char *why,
                           size_t size) {
    if (v->u.list.count == 0 || v->u.list.count > 16) {
        snprintf(why, size, "list 1 to 16 %s", what);
        return false;
    }
    for (int i = 0; i < v->u.list.count; i++) {
        const cfg_node *n = v->u.list.items[i];
        if (n->kind == CFG_INT && max > 0 && n->u.i > max) {
            snprintf(why, size, "item %d is %lld, above %lld (%s)", i, n->u.i, max, what);
            return false;
        }
    }
    return true;
}

static bool check_bench_batches(const cfg_node *v, char *why, size_t size) {
    return check_int_list(v, 1024, "batch sizes of at most 1024", why, size);
}

static bool check_bench_threads(const cfg_node *v, char *why, size_t size) {
    const long cores = pl_cores(); /* what the bench stage resolves 0 to */
    char what[96];
    snprintf(what, sizeof what, "thread counts; this machine has %ld cores", cores > 0 ? cores : 1);
    return check_int_list(v, cores > 0 ? cores : 1, what, why, size);
}

typedef struct {
    latency_config latency;
    const char *tag;
} bench_settings;

static const cfg_key BENCH_KEYS[] = {
    {K("samples", CFG_T_INT, "64"), GE(1), AT_INT(bench_settings, latency.samples),
     .help = "the fixed set of samples timed: the first N of the split"},
    {K("split", CFG_T_ENUM, "test"), .choices = PL_HELD_OUT_SPLITS,
     AT_CHOICE(bench_settings, latency.split, PL_HELD_OUT_SPLIT_VALUES),
     .help = "which held-out split the samples come from"},
    {K("batch_sizes", CFG_T_LIST, "[1, 32]"), .item = CFG_T_INT, GE(1), .check = check_bench_batches,
     AT_INT_LIST(bench_settings, latency.batch_sizes, latency.n_batch_sizes),
     .help = "batch sizes to time (each a point; at most 16, each at most 1024)"},
    {K("threads", CFG_T_LIST, "[1, 0]"), .item = CFG_T_INT, GE(0), .check = check_bench_threads,
     AT_INT_LIST(bench_settings, latency.threads, latency.n_threads),
     .help = "thread counts to time (0 = every core of the machine; at most its cores)"},
    {K("warmup", CFG_T_INT, "1"), GE(0), AT_INT(bench_settings, latency.warmup),
     .help = "untimed passes over the samples before each point"},
    {K("repeats", CFG_T_INT, "5"), GE(1), AT_INT(bench_settings, latency.repeats),
     .help = "timed passes over the samples per point (median, IQR)"},
    {K("tag", CFG_T_STRING, ""), AT_TEXT(bench_settings, tag),
     .help = "prefix of this bench's summary metrics, so several benches of a pipeline keep apart"},
};
SECTION(BENCH, "bench", "inference latency and throughput as deployed (KV-cached greedy answers), run alone",
        BENCH_KEYS, false);


/* The section into bench settings; a thread count of 0 becomes every core, and two entries
 * that resolve to the same count (e.g. [1, 0] on one core) one: a metric name once. */
static pl_status read_settings(const cfg_node *section, bench_settings *b, pl_error *err) {
    PL_TRY(cfg_bind(&BENCH, section, b, err));
    latency_config *c = &b->latency;
    int kept = 0;
    for (int i = 0; i < c->n_threads; i++) {
        const int t = c->threads[i] == 0 ? pl_cores() : c->threads[i];
        int seen = 0;
        for (int j = 0; j < kept; j++) seen |= c->threads[j] == t;
        if (!seen) c->threads[kept++] = t;
    }
    c->n_threads = kept;
    return PL_OK;
}

static pl_status summary(const pl_metrics_sink *sink, const char *tag, const char *name,
                         const latency_point *p, double value, pl_error *err) {
    char full[160];
    if (p) snprintf(full, sizeof full, "%s%s_b%d_t%d", tag, name, p->batch, p->threads);
    else snprintf(full, sizeof full, "%s%s", tag, name);
    return pl_metric_summary(sink, full, value, err);
}

static pl_status stage_bench(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                      vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    (void)run, (void)out; /* bench leaves the model as it is */
    if (in == NULL) return PL_ERROR(err, PL_ERR_INVALID, "bench needs a model from an earlier stage");
    bench_settings settings = {0};
    PL_TRY(read_settings(section, &settings, err));
    const latency_config cfg = settings.latency;
    const char *tag = settings.tag;
    if (cfg.samples > pl_data_split_size(data, cfg.split))
        return PL_ERROR(err, PL_ERR_CONFIG, "bench.samples = %d exceeds the %s split's %lld samples",
                        cfg.samples, pl_split_name(cfg.split),
                        (long long)pl_data_split_size(data, cfg.split));
    latency_result r;
    PL_TRY(latency_measure(in, data, &cfg, &r, err));
    sparsity_summary sp;
    sparsity_measure(in, &sp);
    PL_TRY(summary(sink, tag, "params", NULL, (double)sp.params, err));
    PL_TRY(summary(sink, tag, "nonzero_params", NULL, (double)sp.nonzero_params, err));
    PL_TRY(summary(sink, tag, "flops_per_sample", NULL, r.flops_per_sample, err));
    PL_TRY(summary(sink, tag, "bench_answer_tokens", NULL, r.answer_tokens, err));
    char line[256];
    for (int i = 0; i < r.n_points; i++) {
        const latency_point *p = &r.points[i];
        PL_TRY(summary(sink, tag, "latency_ms", p, p->median_ms, err));
        PL_TRY(summary(sink, tag, "latency_q1_ms", p, p->q1_ms, err));
        PL_TRY(summary(sink, tag, "latency_q3_ms", p, p->q3_ms, err));
        PL_TRY(summary(sink, tag, "throughput", p, p->samples_per_s, err));
        snprintf(line, sizeof line, "bench batch %d, %d thread%s: %.2f ms per batch (IQR %.2f-%.2f), "
                 "%.1f samples/s", p->batch, p->threads, p->threads == 1 ? "" : "s", p->median_ms,
                 p->q1_ms, p->q3_ms, p->samples_per_s);
        pl_metric_progress(sink, line);
    }
    snprintf(line, sizeof line, "bench: %lld parameters (%lld non-zero), %.3g forward FLOPs per "
             "sample over %d answer tokens", (long long)sp.params, (long long)sp.nonzero_params,
             r.flops_per_sample, r.answer_tokens);
    pl_metric_progress(sink, line);
    return PL_OK;
}

const pl_stage_kind PL_STAGE_BENCH = {.schema = &BENCH, .run = stage_bench, .batch_key = "batch_sizes", .runs_alone = true};
