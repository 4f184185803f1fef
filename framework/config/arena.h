/* arena.h - a bump allocator that owns every node and string of a config tree.
 *
 * Config trees are built once and never mutated afterwards: edits make new nodes along the
 * edited path and share the rest. All of them live in one arena, freed in one call, so a
 * tree, its copies and the source-file names its positions point at die together. */
#ifndef PL_CONFIG_ARENA_H
#define PL_CONFIG_ARENA_H

#include <stddef.h>

#include "core/error.h"

typedef struct cfg_arena_chunk cfg_arena_chunk;

typedef struct {
    cfg_arena_chunk *head; /* newest chunk first */
    size_t used_bytes;     /* payload handed out, for diagnostics */
} cfg_arena;

void cfg_arena_init(cfg_arena *arena);
void cfg_arena_free(cfg_arena *arena);

/* size bytes, 16-byte aligned, zero-filled; NULL and err set on failure. */
void *cfg_arena_alloc(cfg_arena *arena, size_t size, pl_error *err);
/* count*size bytes with an overflow check. */
void *cfg_arena_array(cfg_arena *arena, size_t count, size_t size, pl_error *err);
/* Copies n bytes of s and appends a NUL. */
char *cfg_arena_strndup(cfg_arena *arena, const char *s, size_t n, pl_error *err);
char *cfg_arena_strdup(cfg_arena *arena, const char *s, pl_error *err);

#endif
