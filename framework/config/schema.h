/* schema.h - the one declaration of every config section, and what is derived from it.
 *
 * Each section (model, data, engine, ... and each stage kind) is a table of cfg_key: name,
 * type, default, allowed values or range, and a one-line description. Validation, default
 * filling, `prunelab validate`, `prunelab help config <section>` and the list of keys the
 * run hash ignores all read these tables; nothing restates them. The experiment-level
 * sections live in config/schema_sections.c. A stage kind's section lives with the stage
 * (engine/stage_<kind>.c) and reaches the config layer through a cfg_stage_catalog, which
 * the engine's registry provides: every function that meets pipeline items or the `stages:`
 * defaults takes one. */
#ifndef PL_CONFIG_SCHEMA_H
#define PL_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/node.h"

typedef enum {
    CFG_T_ANY,      /* anything (loosely typed blocks) */
    CFG_T_INT,
    CFG_T_FLOAT,    /* ints are accepted and stored as floats */
    CFG_T_BOOL,
    CFG_T_STRING,
    CFG_T_ENUM,     /* a string from choices */
    CFG_T_MAP,      /* a nested section (sub) */
    CFG_T_LIST,     /* items of type item (choices for ENUM items, sub for MAP items) */
    CFG_T_PIPELINE, /* a list of one-key maps {stage kind: settings} */
    CFG_T_STAGES    /* a map of stage kind -> partial settings of that kind (defaults) */
} cfg_type;

enum { /* cfg_key.range */
    CFG_RANGE_LO = 1,
    CFG_RANGE_LO_OPEN = 2, /* lo itself excluded */
    CFG_RANGE_HI = 4,
    CFG_RANGE_HI_OPEN = 8
};

enum { /* cfg_key.flags */
    CFG_KEY_NONSEMANTIC = 1, /* never part of a run's identity (threads, output paths) */
    CFG_KEY_OPTIONAL = 2,    /* may be absent although it has no default */
    CFG_KEY_DEFAULT_UNSEEN = 4 /* at its default (a string, or an empty map for "{}") the key
                                  is left out of the run's identity: for keys added after runs
                                  were identified, so absent and default name the same run */
};

typedef struct cfg_section cfg_section;

/* Extra check on a value that passed its type: false with a reason ("needs N < M") in why. */
typedef bool (*cfg_check_fn)(const cfg_node *value, char *why, size_t size);

/* Where a key's value goes in the struct its section binds (config/bind.h). */
typedef enum {
    CFG_BIND_NONE = 0, /* nowhere: the key is read by other means, or not at all */
    CFG_BIND_INT,      /* int */
    CFG_BIND_LLONG,    /* long long */
    CFG_BIND_INT64,    /* int64_t */
    CFG_BIND_UINT64,   /* uint64_t (a value >= 0) */
    CFG_BIND_FLOAT,    /* float */
    CFG_BIND_DOUBLE,   /* double */
    CFG_BIND_BOOL,     /* bool */
    CFG_BIND_TEXT,     /* const char *, pointing into the config tree */
    CFG_BIND_CHARS,    /* char[.cap]: a copy of the text (an error when it does not fit) */
    CFG_BIND_CHOICE,   /* int: the value's place in .choices, or .values[place] */
    CFG_BIND_SECTION,  /* the keys of .sub, bound at their offsets from this key's */
    CFG_BIND_INT_LIST, /* int[.cap] at .offset, the item count (an int) at .count_offset */
    CFG_BIND_NODE,     /* const cfg_node *: the value itself, for a stage to read in context
                          (with its position for messages) */
    CFG_BIND_CONVERT   /* .convert stores the value at the field */
} cfg_bind_kind;

/* A CFG_BIND_CONVERT key's conversion: the (checked) value into *field; an error names the
 * key (name) when the value cannot be used. */
typedef pl_status (*cfg_convert_fn)(const cfg_node *value, void *field, const char *name, pl_error *err);

typedef struct {
    const char *name;
    cfg_type type;
    const char *def;     /* default as YAML text; NULL = required (unless OPTIONAL) */
    const char *choices; /* "a|b|c" for ENUM keys and ENUM list items */
    double lo, hi;
    unsigned range;
    const cfg_section *sub; /* MAP keys, and MAP list items */
    cfg_type item;          /* LIST item type */
    cfg_check_fn check;
    const char *synonyms; /* "new=old|...": a text value spelled new is stored, and so hashed,
                             as old (one vocabulary across stages, no run id moved) */
    unsigned flags;
    const char *help;
    /* binding (config/bind.h, shorthand in config/schema_keys.h) */
    cfg_bind_kind bind;
    size_t offset;        /* of the field, from the start of the struct the section binds */
    size_t count_offset;  /* INT_LIST: of the int that gets the item count */
    int cap;              /* INT_LIST, CHARS: the array's length */
    const int *values;    /* CHOICE: each choice's value, in .choices order (NULL: its place) */
    cfg_convert_fn convert;
} cfg_key;

struct cfg_section {
    const char *name;
    const char *help;
    const cfg_key *keys;
    int n_keys;
    bool open; /* unknown keys allowed (loosely validated blocks) */
};

/* The stage kinds a schema knows, in pipeline order: section i is kind i's settings, named
 * by its pipeline key (section->name), with its one-line help (section->help). */
typedef struct {
    int count;
    const cfg_section *(*section_at)(int i);
} cfg_stage_catalog;

/* Kind's section in the catalog, or NULL. */
const cfg_section *cfg_stage_section(const cfg_stage_catalog *stages, const char *kind);

/* The top-level section; its keys are the sections of an experiment file. */
const cfg_section *cfg_schema_root(void);
/* A section by name: a top-level key with keys (model, data, engine, sweep, ...) or a
 * stage kind of the catalog. */
const cfg_section *cfg_schema_section(const cfg_stage_catalog *stages, const char *name);

/* The key a dotted path names in tree (which decides what pipeline indices mean), or NULL
 * with a reason (unknown key and a suggestion) in err. */
const cfg_key *cfg_schema_find(const cfg_stage_catalog *stages, const cfg_node *tree,
                               const char *path, pl_error *err);

/* "one of a, b, c", "0 <= x < 1", "int >= 1", ... */
void cfg_schema_describe(const cfg_key *key, char *out, size_t size);

/* Prints the reference for section name: an experiment section, a stage kind, or a
 * top-level key without keys of its own (name, seed, labels, pipeline: its description);
 * the list of sections and stage kinds when name is NULL. PL_ERR_CONFIG with a suggestion
 * when there is no such section. */
pl_status cfg_schema_help(FILE *out, const cfg_stage_catalog *stages, const char *name,
                          pl_error *err);

typedef struct cfg_validator cfg_validator;

/* A validator allocating its results (and cached default values) in a, which knows the
 * catalog's stage kinds. */
cfg_validator *cfg_validator_new(cfg_arena *a, const cfg_stage_catalog *stages, pl_error *err);

/* Adds schema defaults for every absent key, normalises pipeline items (`- eval` means
 * `- eval: {}`), and refuses unknown keys (with "did you mean"). Does not check types, so it
 * runs before interpolation. */
pl_status cfg_fill_defaults(cfg_validator *v, const cfg_node *root, cfg_node **out, pl_error *err);

/* Checks every value's type, range and allowed values, and that required keys are present;
 * stores ints given for float keys as floats. Run after cfg_fill_defaults and interpolation. */
pl_status cfg_check(cfg_validator *v, const cfg_node *root, cfg_node **out, pl_error *err);

/* Shape-only check of the `stages:` defaults (a map of stage kind -> partial settings):
 * unknown kinds and keys, types; no required keys, no defaults. */
pl_status cfg_check_stage_defaults(cfg_validator *v, const cfg_node *stages, pl_error *err);

/* root without the keys marked CFG_KEY_NONSEMANTIC (at any depth the schema describes). */
pl_status cfg_strip_nonsemantic(cfg_arena *a, const cfg_stage_catalog *stages,
                                const cfg_node *root, const cfg_node **out, pl_error *err);

#endif
