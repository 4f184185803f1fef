/* loss_trend.h - flagging a training stage whose loss did not fall: the mean of the last
 * 10 % of its logged `loss` values is not below the mean of the first 10 %. A flagged stage
 * gets the summary scalar loss_not_decreasing = 1 (which reaches the run's /summary,
 * index.tsv and `prunelab status`) and a warning line in its log; stages that trained fine
 * get no such scalar. Stages that logged fewer than MIN_LOSS_VALUES losses are not judged. */
#ifndef PL_ENGINE_LOSS_TREND_H
#define PL_ENGINE_LOSS_TREND_H

#include <stdbool.h>

#include "engine/record.h"

enum { PL_MIN_LOSS_VALUES = 10 };

#define PL_LOSS_FLAG "loss_not_decreasing"

/* True when rec's `loss` step values did not decrease as defined above; *first and *last
 * receive the two means (NaN when the stage is not judged). */
bool pl_loss_not_decreasing(const pl_record *rec, double *first, double *last);

/* Appends the flag and the warning to rec when pl_loss_not_decreasing says so. */
pl_status pl_loss_trend_note(pl_record *rec, const char *stage_kind, pl_error *err);

#endif
