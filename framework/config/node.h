/* node.h - the typed config tree: scalars, maps and lists, each with its source position.
 *
 * Trees are immutable once built; every node lives in a cfg_arena. Maps keep their keys in
 * source order (serialisers sort). Positions are 1-based file:line:col. Lookups by dotted
 * path and the typed getters the engine uses are in config/path.h. */
#ifndef PL_CONFIG_NODE_H
#define PL_CONFIG_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/arena.h"
#include "core/error.h"

typedef enum {
    CFG_NULL,
    CFG_BOOL,
    CFG_INT,
    CFG_FLOAT,
    CFG_STRING,
    CFG_MAP,
    CFG_LIST
} cfg_kind;

typedef struct {
    const char *file; /* owned by the arena; "<override 1>" for command-line values */
    int line, col;    /* 1-based; 0 when unknown (values made by prunelab itself) */
} cfg_pos;

typedef struct cfg_node cfg_node;

typedef struct {
    const char *key;
    cfg_pos key_pos;
    cfg_node *value;
} cfg_entry;

struct cfg_node {
    cfg_kind kind;
    bool quoted;   /* a string that was quoted in the source (never interpreted as a type) */
    cfg_pos pos;
    size_t weight; /* nodes in the tree with every alias expanded, saturating */
    union {
        bool b;
        long long i;
        struct {
            double v;
            const char *text; /* canonical shortest round-trip form */
        } f;
        const char *s;
        struct {
            cfg_entry *entries;
            int count, cap;
        } map;
        struct {
            cfg_node **items;
            int count, cap;
        } list;
    } u;
};

/* Limit on a tree's expanded size, so alias bombs are refused before anything walks them. */
enum { CFG_MAX_WEIGHT = 1000000 };

cfg_node *cfg_new_null(cfg_arena *a, cfg_pos pos, pl_error *err);
cfg_node *cfg_new_bool(cfg_arena *a, bool v, cfg_pos pos, pl_error *err);
cfg_node *cfg_new_int(cfg_arena *a, long long v, cfg_pos pos, pl_error *err);
/* Finite or infinite doubles only; NaN is refused. */
cfg_node *cfg_new_float(cfg_arena *a, double v, cfg_pos pos, pl_error *err);
cfg_node *cfg_new_string(cfg_arena *a, const char *s, size_t n, bool quoted, cfg_pos pos,
                         pl_error *err);
cfg_node *cfg_new_map(cfg_arena *a, cfg_pos pos, pl_error *err);
cfg_node *cfg_new_list(cfg_arena *a, cfg_pos pos, pl_error *err);

/* Appends to a map under construction (no duplicate check; key is copied). */
pl_status cfg_map_append(cfg_arena *a, cfg_node *map, const char *key, cfg_pos key_pos,
                         cfg_node *value, pl_error *err);
pl_status cfg_list_append(cfg_arena *a, cfg_node *list, cfg_node *item, pl_error *err);

/* The entry index of key in map, or -1. */
int cfg_map_find(const cfg_node *map, const char *key);
/* The value under key, or NULL (also when map is not a map). */
cfg_node *cfg_map_get(const cfg_node *map, const char *key);

/* A shallow copy (new entry/item arrays, shared children) with room for one more. */
cfg_node *cfg_shallow_copy(cfg_arena *a, const cfg_node *node, pl_error *err);
/* A copy of map with key set to value (replaced in place, or appended). */
cfg_node *cfg_map_with(cfg_arena *a, const cfg_node *map, const char *key, cfg_pos key_pos,
                       cfg_node *value, pl_error *err);
/* A copy of map without key. */
cfg_node *cfg_map_without(cfg_arena *a, const cfg_node *map, const char *key, pl_error *err);

/* Recomputes node->weight from its children (after building a map or list by hand). */
void cfg_node_reweigh(cfg_node *node);

/* "int", "float", "map", ... for messages. */
const char *cfg_kind_name(cfg_kind kind);
bool cfg_is_scalar(const cfg_node *node);
bool cfg_is_number(const cfg_node *node);
double cfg_number(const cfg_node *node); /* int or float as double */

/* Structural equality (ints equal floats of the same value; positions ignored). */
bool cfg_equal(const cfg_node *a, const cfg_node *b);

/* Sets err to PL_ERR_CONFIG with "file:line:col: <message>" and returns PL_ERR_CONFIG. */
pl_status cfg_error_at(pl_error *err, cfg_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes "file:line:col" (or "<unknown position>") into out. */
void cfg_pos_format(cfg_pos pos, char *out, size_t size);

#endif
