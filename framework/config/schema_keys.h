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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/schema.h"

#define K(n, t, d) .name = (n), .type = (t), .def = (d)
#define GE(x) .lo = (x), .range = CFG_RANGE_LO
#define GT(x) .lo = (x), .range = CFG_RANGE_LO | CFG_RANGE_LO_OPEN
#define UNIT_OPEN .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_HI | CFG_RANGE_HI_OPEN
#define RANK_RANGE .lo = 1, .hi = 1024, .range = CFG_RANGE_LO | CFG_RANGE_HI /* see nn/linear.h */
#define UNIT .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_HI
#define SECTION(var, nm, hlp, keys, is_open) \
    static const cfg_section var = {nm, hlp, keys, (int)(sizeof keys / sizeof keys[0]), is_open}

/* Where a key's value goes (config/bind.h): field f of struct T, which must have the C type
 * the binding stores (a compile error otherwise), e.g. {K("steps", ...), AT_INT(my_settings,
 * steps)}. AT_ITEM_* bind the keys of a section that fills an array (per-module triples):
 * item i of the array its parent key's AT_SECTION names. */
#define PL_FIELD_(kind, ctype, T, f) \
    .bind = (kind), .offset = offsetof(T, f) + 0 * sizeof((ctype *){&((T *)0)->f})
#define AT_INT(T, f) PL_FIELD_(CFG_BIND_INT, int, T, f)
#define AT_LLONG(T, f) PL_FIELD_(CFG_BIND_LLONG, long long, T, f)
#define AT_INT64(T, f) PL_FIELD_(CFG_BIND_INT64, int64_t, T, f)
#define AT_UINT64(T, f) PL_FIELD_(CFG_BIND_UINT64, uint64_t, T, f)
#define AT_CHARS(T, f) PL_FIELD_(CFG_BIND_CHARS, char, T, f[0]), .cap = (int)sizeof(((T *)0)->f)
#define AT_FLOAT(T, f) PL_FIELD_(CFG_BIND_FLOAT, float, T, f)
#define AT_DOUBLE(T, f) PL_FIELD_(CFG_BIND_DOUBLE, double, T, f)
#define AT_BOOL(T, f) PL_FIELD_(CFG_BIND_BOOL, bool, T, f)
#define AT_TEXT(T, f) PL_FIELD_(CFG_BIND_TEXT, const char *, T, f)
/* an enum field, set to .values[place of the value in .choices] (or the place itself) */
#define AT_CHOICE(T, f, vals) \
    .bind = CFG_BIND_CHOICE, .values = (vals), \
    .offset = offsetof(T, f) + 0 * sizeof(char[sizeof(((T *)0)->f) == sizeof(int) ? 1 : -1])
#define AT_SECTION(T, f) .bind = CFG_BIND_SECTION, .offset = offsetof(T, f)
#define AT_INT_LIST(T, f, count) \
    PL_FIELD_(CFG_BIND_INT_LIST, int, T, f[0]), .count_offset = offsetof(T, count) + 0 * sizeof((int *){&((T *)0)->count}), \
    .cap = (int)(sizeof(((T *)0)->f) / sizeof(int))
#define AT_NODE(T, f) PL_FIELD_(CFG_BIND_NODE, const cfg_node *, T, f)
#define AT_CONVERT(T, f, fn) .bind = CFG_BIND_CONVERT, .offset = offsetof(T, f), .convert = (fn)
/* The keys of a per-module triple (vision, bridge, language) filling a float or int array
 * indexed by pl_module (model/model_config.h): a default, the range shorthand and a help
 * text each. */
#define MODULE_FLOATS(range, dv, hv, db, hb, dl, hl)                                          \
    {K("vision", CFG_T_FLOAT, dv), range, AT_ITEM_FLOAT(MODULE_VISION), .help = hv},         \
    {K("bridge", CFG_T_FLOAT, db), range, AT_ITEM_FLOAT(MODULE_BRIDGE), .help = hb},         \
    {K("language", CFG_T_FLOAT, dl), range, AT_ITEM_FLOAT(MODULE_LANGUAGE), .help = hl}
#define MODULE_INTS(range, dv, hv, db, hb, dl, hl)                                            \
    {K("vision", CFG_T_INT, dv), range, AT_ITEM_INT(MODULE_VISION), .help = hv},             \
    {K("bridge", CFG_T_INT, db), range, AT_ITEM_INT(MODULE_BRIDGE), .help = hb},             \
    {K("language", CFG_T_INT, dl), range, AT_ITEM_INT(MODULE_LANGUAGE), .help = hl}
#define AT_ITEM_TEXT(i) .bind = CFG_BIND_TEXT, .offset = (size_t)(i) * sizeof(const char *)
#define AT_ITEM_INT(i) .bind = CFG_BIND_INT, .offset = (size_t)(i) * sizeof(int)
#define AT_ITEM_FLOAT(i) .bind = CFG_BIND_FLOAT, .offset = (size_t)(i) * sizeof(float)

/* Keys every training stage built on the shared loop takes, bound into the `train` member (a
 * finetune_config) of the stage's settings struct T; all optional without a default (absent:
 * no data budget, no evaluation while training), so adding them moved no run id. */
#define KEY_TRAIN_SAMPLES(T)                                                               \
    {K("train_samples", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,                \
     AT_INT64(T, train.train_samples),                                                      \
     .help = "data budget: train on these many fixed samples, cycled in epochs (absent: a " \
             "fresh sample every time); at least one batch"}
#define KEYS_EVAL_WHILE_TRAINING(T)                                                        \
    {K("eval_every", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,                   \
     AT_INT(T, train.eval_every),                                                           \
     .help = "steps between validation evaluations while training (acc, ce on the val "    \
             "split; absent: none)"},                                                      \
    {K("eval_samples", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,                 \
     AT_INT(T, train.eval_samples),                                                         \
     .help = "validation scenes per evaluation while training (absent: 500)"}

/* The question mix (data.question_mix, and a pretraining phase's own): weights per
 * question type, and its check that at least one weight is positive. */
extern const cfg_section CFG_QUESTION_MIX;
bool cfg_check_question_mix(const cfg_node *v, char *why, size_t size);

#endif
