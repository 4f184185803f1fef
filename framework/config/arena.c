/* arena.c - chunked bump allocation for config trees. */
#include "config/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ARENA_ALIGN = 16, ARENA_CHUNK = 64 * 1024 };

struct cfg_arena_chunk {
    cfg_arena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void cfg_arena_init(cfg_arena *arena) {
    arena->head = NULL;
    arena->used_bytes = 0;
}

void cfg_arena_free(cfg_arena *arena) {
    cfg_arena_chunk *c = arena->head;
    while (c != NULL) {
        cfg_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    cfg_arena_init(arena);
}

void *cfg_arena_alloc(cfg_arena *arena, size_t size, pl_error *err) {
    if (size > SIZE_MAX / 2) {
        PL_ERROR(err, PL_ERR_NOMEM, "a config allocation of %zu bytes is too large", size);
        return NULL;
    }
    size_t rounded = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (rounded == 0) rounded = ARENA_ALIGN;
    cfg_arena_chunk *c = arena->head;
    if (c == NULL || c->size - c->used < rounded) {
        size_t cap = rounded > ARENA_CHUNK ? rounded : ARENA_CHUNK;
        c = malloc(sizeof *c + cap);
        if (c == NULL) {
            PL_ERROR(err, PL_ERR_NOMEM, "out of memory growing the config arena by %zu bytes", cap);
            return NULL;
        }
        c->size = cap;
        c->used = 0;
        c->next = arena->head;
        arena->head = c;
    }
    void *p = c->data + c->used;
    c->used += rounded;
    arena->used_bytes += rounded;
    memset(p, 0, rounded);
    return p;
}

void *cfg_arena_array(cfg_arena *arena, size_t count, size_t size, pl_error *err) {
    if (size != 0 && count > SIZE_MAX / 4 / size) {
        PL_ERROR(err, PL_ERR_NOMEM, "a config array of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    return cfg_arena_alloc(arena, count * size, err);
}

char *cfg_arena_strndup(cfg_arena *arena, const char *s, size_t n, pl_error *err) {
    char *p = cfg_arena_alloc(arena, n + 1, err);
    if (p == NULL) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cfg_arena_strdup(cfg_arena *arena, const char *s, pl_error *err) {
    return cfg_arena_strndup(arena, s, strlen(s), err);
}
