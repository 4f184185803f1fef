/* schema_keys.h - shorthand for writing section tables (cfg_key / cfg_section literals),
 * for the files that declare them: config/schema_sections.c and each stage kind's file.
 *
 *   static const cfg_key FOO_KEYS[] = {
 *       {K("steps", CFG_T_INT, "500"), GE(0), .help = "optimizer steps"},
 *   };
 *   SECTION(FOO, "foo", "what the foo stage does", FOO_KEYS, false);
 *
 * Include it only in such files: the macro names are short. */
#ifndef PL_CONFIG_SCHEMA_KEYS_H
#define PL_CONFIG_SCHEMA_KEYS_H

#include "config/schema.h"

#define K(n, t, d) .name = (n), .type = (t), .def = (d)
#define GE(x) .lo = (x), .range = CFG_RANGE_LO
#define GT(x) .lo = (x), .range = CFG_RANGE_LO | CFG_RANGE_LO_OPEN
#define UNIT_OPEN .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_HI | CFG_RANGE_HI_OPEN
#define RANK_RANGE .lo = 1, .hi = 1024, .range = CFG_RANGE_LO | CFG_RANGE_HI /* see nn/linear.h */
#define UNIT .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_HI
#define SECTION(var, nm, hlp, keys, is_open) \
    static const cfg_section var = {nm, hlp, keys, (int)(sizeof keys / sizeof keys[0]), is_open}

/* Keys every training stage built on the shared loop takes, all optional without a default
 * (absent: no data budget, no evaluation while training), so adding them moved no run id. */
#define KEY_TRAIN_SAMPLES                                                                  \
    {K("train_samples", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,                \
     .help = "data budget: train on these many fixed samples, cycled in epochs (absent: a " \
             "fresh sample every time); at least one batch"}
#define KEYS_EVAL_WHILE_TRAINING                                                           \
    {K("eval_every", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,                   \
     .help = "steps between validation evaluations while training (acc, ce on the val "    \
             "split; absent: none)"},                                                      \
    {K("eval_samples", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,                 \
     .help = "validation scenes per evaluation while training (absent: 500)"}

/* The question mix (data.question_mix, and a pretraining phase's own): weights per
 * question type, and its check that at least one weight is positive. */
extern const cfg_section CFG_QUESTION_MIX;
bool cfg_check_question_mix(const cfg_node *v, char *why, size_t size);

#endif
