/* preflight.c - checks before anything runs (see preflight.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/preflight.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/stage.h"

/* A load stage's path must be a regular file: a directory or a device has no checkpoint to
 * read (and no content hash for the cache key). */
static pl_status check_load_path(const pl_experiment *exp, int r, int i, const cfg_node *section,
                                 pl_error *err) {
    const cfg_node *path = cfg_map_get(section, "path");
    if (path == NULL || path->kind != CFG_STRING)
        return PL_ERROR(err, PL_ERR_CONFIG, "%s: run %d (%s): pipeline stage %d 'load' has no path",
                        exp->path, r + 1, exp->runs[r].run_id, i);
    struct stat sb;
    const char *why = NULL;
    char detail[128] = "";
    if (stat(path->u.s, &sb) != 0) {
        snprintf(detail, sizeof detail, "cannot be read (%s)", strerror(errno));
        why = detail;
    } else if (S_ISDIR(sb.st_mode)) {
        why = "is a directory";
    } else if (!S_ISREG(sb.st_mode)) {
        why = "is not a regular file";
    }
    if (why == NULL) return PL_OK;
    return cfg_error_at(err, path->pos, "run %d (%s): pipeline stage %d 'load': path '%s' %s; "
                        "name a checkpoint file (.safetensors) such as `prunelab train ... --out "
                        "FILE` writes", r + 1, exp->runs[r].run_id, i, path->u.s, why);
}

/* engine.results_dir, its cache/ and the experiment's folder must be directories where they
 * exist (run creates the missing ones). */
static pl_status check_results_dir(const pl_experiment *exp, pl_error *err) {
    const cfg_node *dir = cfg_get(exp->base, "engine.results_dir");
    if (dir == NULL || dir->kind != CFG_STRING) return PL_OK; /* the schema's default applies */
    char paths[3][4096];
    snprintf(paths[0], sizeof paths[0], "%s", dir->u.s);
    snprintf(paths[1], sizeof paths[1], "%s/cache", dir->u.s);
    snprintf(paths[2], sizeof paths[2], "%s/%s", dir->u.s, exp->name);
    for (int i = 0; i < 3; i++) {
        const char *path = paths[i];
        struct stat sb;
        if (stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode))
            return cfg_error_at(err, dir->pos, "engine.results_dir: %s exists and is not a directory, "
                                "so no results can be written there; move it away or choose another "
                                "engine.results_dir", path);
    }
    return PL_OK;
}

pl_status pl_preflight(const pl_experiment *exp, pl_error *err) {
    PL_TRY(pl_stage_validate(exp, err));
    PL_TRY(check_results_dir(exp, err));
    for (int r = 0; r < exp->n_runs; r++) {
        int n = cfg_stage_count(exp->runs[r].config);
        for (int i = 0; i < n; i++) {
            const char *kind;
            const cfg_node *section = cfg_stage_at(exp->runs[r].config, i, &kind);
            if (strcmp(kind, "load") == 0) PL_TRY(check_load_path(exp, r, i, section, err));
        }
    }
    return PL_OK;
}
