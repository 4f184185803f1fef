/* loss_trend.c - the loss-did-not-fall flag of training stages (see loss_trend.h). */
#include "engine/loss_trend.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool pl_loss_not_decreasing(const pl_record *rec, double *first, double *last) {
    *first = *last = NAN;
    int n = 0;
    for (int i = 0; i < rec->count; i++)
        n += rec->items[i].kind == REC_STEP && strcmp(rec->items[i].text, "loss") == 0;
    if (n < PL_MIN_LOSS_VALUES) return false;
    int tenth = n / 10, seen = 0; /* n >= 10, so at least one value in each tenth */
    double head = 0.0, tail = 0.0;
    for (int i = 0; i < rec->count; i++) {
        const pl_record_item *it = &rec->items[i];
        if (it->kind != REC_STEP || strcmp(it->text, "loss") != 0) continue;
        if (seen < tenth) head += it->value;
        if (seen >= n - tenth) tail += it->value;
        seen++;
    }
    *first = head / tenth;
    *last = tail / tenth;
    return !(*last < *first); /* a NaN mean counts as not decreasing too */
}

pl_status pl_loss_trend_note(pl_record *rec, const char *stage_kind, pl_error *err) {
    double first, last;
    if (!pl_loss_not_decreasing(rec, &first, &last)) return PL_OK;
    pl_metrics_sink sink = pl_record_sink(rec);
    char line[256];
    snprintf(line, sizeof line, "warning: the %s stage's loss did not decrease: mean %.6g over its "
             "last 10%% of logged steps vs %.6g over its first 10%% (summary %s = 1); check the "
             "learning rate and the data", stage_kind, last, first, PL_LOSS_FLAG);
    pl_metric_progress(&sink, line);
    return pl_metric_summary(&sink, PL_LOSS_FLAG, 1.0, err);
}
