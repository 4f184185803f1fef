/* metric_label.h - what a figure calls a metric, and which metrics share a colour scale.
 *
 * A metric name is <tag><base>: base a standard metric (acc, acc_<type>, ce, caption_slots,
 * loss terms, latency_ms_b<B>_t<T>, throughput_b<B>_t<T>, params, flops_per_sample, ...)
 * and tag the optional prefix an eval or bench stage's `tag:` puts in front (pruned_,
 * masked_). Labels read as words: acc -> "accuracy", pruned_acc -> "accuracy after pruning",
 * masked_latency_ms_b32_t2 -> "latency of the masked model (ms per batch of 32, 2 threads)";
 * a name that is no standard metric is its own label. */
#ifndef PL_IO_METRIC_LABEL_H
#define PL_IO_METRIC_LABEL_H

#include <stddef.h>

/* The label of metric, built in buf (size bytes) or a constant. */
const char *pl_metric_label(const char *metric, char *buf, size_t size);

/* The metric's family, into buf: its base without the tag, accuracies per question type
 * counted as accuracy ("acc"): pruned_acc, acc and acc_what are all "acc";
 * latency_ms_b1_t1 and pruned_latency_ms_b1_t1 are "latency_ms_b1_t1". A name that is no
 * standard metric is its own family. Heatmaps of one family share a colour range. */
const char *pl_metric_family(const char *metric, char *buf, size_t size);

#endif
