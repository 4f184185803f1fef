/* figures.h - checks of the `figures:` list that need the sweep: every alias a figure names
 * exists, each kind has the keys it needs, `where:` parses, names are unique. The schema
 * (config/schema_sections.c) has already checked each key's type. */
#ifndef PL_CONFIG_FIGURES_H
#define PL_CONFIG_FIGURES_H

#include "config/node.h"
#include "config/sweep.h"

/* The canonical kind for a `kind:` value ("line" -> "lines", ...), or NULL if unknown. */
const char *cfg_figure_kind(const char *kind);

/* figures: the validated list (or NULL); errors name file:line:col of the offending value. */
pl_status cfg_figures_check(const cfg_node *figures, const cfg_sweep *sweep, pl_error *err);

#endif
