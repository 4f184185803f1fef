/* bind.h - a validated section into the struct its keys name: each cfg_key that says where
 * its value goes (.bind, .offset: config/schema.h; written with config/schema_keys.h's AT_*
 * shorthand, which checks the field's type at compile time) is stored there, so a setting
 * is declared once, in its section table, and read nowhere by name.
 *
 *   eval_settings es = {0};
 *   PL_TRY(cfg_bind(&EVAL, section, &es, err));   // section: what cfg_stage_at returns
 *
 * The section's defaults were filled and its values checked (config/schema.h), so binding
 * only stores; a key absent from the tree (an optional key without a default) leaves its
 * field as the caller set it. */
#ifndef PL_CONFIG_BIND_H
#define PL_CONFIG_BIND_H

#include "config/schema.h"

pl_status cfg_bind(const cfg_section *section, const cfg_node *map, void *out, pl_error *err);

#endif
