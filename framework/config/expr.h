/* expr.h - the `where:` filter language of sweeps.
 *
 * Expressions over axis aliases (or, over results, any column name, dotted config paths
 * such as pipeline.pretrain.steps included): numbers, 'strings' or "strings", true/false, arithmetic
 * + - * / % with the usual precedence and unary minus, comparisons < <= > >= == != (not
 * chained), and `and`, `or`, `not`, parentheses. Example: `sv + sl <= 1.2 and not (method
 * == 'magnitude' and sv > 0.5)`. The whole expression must give a bool for every point. */
#ifndef PL_CONFIG_EXPR_H
#define PL_CONFIG_EXPR_H

#include <stdbool.h>

#include "config/node.h"

typedef struct cfg_expr cfg_expr;

/* Parses text; identifiers must be among names (their index is what eval receives). pos
 * is where text sits in its file, so errors point at the offending token. */
pl_status cfg_expr_parse(const char *text, const char *const *names, int n_names, cfg_pos pos,
                         cfg_expr **out, pl_error *err);

/* Evaluates with values[i] the value of names[i] (scalars only). */
pl_status cfg_expr_eval(const cfg_expr *e, const cfg_node *const *values, bool *out, pl_error *err);

void cfg_expr_free(cfg_expr *e);

#endif
