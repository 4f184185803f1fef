/* h5_stage.c - stage groups of a run's metrics file: creating /stages/NN_<kind> with its
 * attributes, routing step and eval values to their series, flushing on schedule, ending. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "core/alloc.h"
#include "core/timing.h"
#include "io/h5_attr.h"
#include "io/h5_lock.h"
#include "io/h5_parts.h"
#include "io/h5_run.h"
#include "io/provenance.h"

static pl_status h5_fail(const char *where, const char *what, pl_error *err) {
    char detail[256];
    pl_h5_error_detail(detail, sizeof detail);
    return PL_ERROR(err, PL_ERR_IO, "%s: could not %s (HDF5: %s)", where, what, detail);
}

/* Stage kinds: [a-z0-9_]; metric names also allow A-Z . - (1-64 characters). */
static bool valid_name(const char *s, bool metric) {
    if (s == NULL || s[0] == '\0' || strlen(s) > 64) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        bool extra = (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
        if (!plain && !(metric && extra)) return false;
    }
    return true;
}

static pl_status check_metric_name(const pl_h5_stage *st, const char *name, pl_error *err) {
    if (!valid_name(name, true) || strcmp(name, "step") == 0 ||
        strcmp(name, "eval_step") == 0 || strcmp(name, "summary") == 0)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "%s: '%s' is not a usable metric name (1-64 characters from "
                        "A-Z a-z 0-9 _ . -, and not step, eval_step or summary)",
                        st->where, name ? name : "(null)");
    return PL_OK;
}

static void free_stage(pl_h5_stage *st) {
    pl_h5_series_free(&st->steps);
    pl_h5_series_free(&st->evals);
    if (st->summary >= 0) H5Gclose(st->summary);
    if (st->group >= 0) H5Gclose(st->group);
    pl_free(st->where);
    pl_free(st);
}

static pl_status write_stage_attributes(pl_h5_stage *st, int index, const pl_h5_stage_info *info,
                                        pl_error *err) {
    char now[32];
    pl_utc_now_iso8601(now, sizeof now);
    const char *w = st->where;
    PL_TRY(pl_h5_attr_string(st->group, "kind", info->kind, w, err));
    PL_TRY(pl_h5_attr_int64(st->group, "index", index, w, err));
    PL_TRY(pl_h5_attr_string(st->group, "config", info->config_yaml, w, err));
    PL_TRY(pl_h5_attr_string(st->group, "cache_key", info->cache_key, w, err));
    PL_TRY(pl_h5_attr_string(st->group, "cache", info->reused ? "reused" : "computed", w, err));
    PL_TRY(pl_h5_attr_string(st->group, "start_time", now, w, err));
    PL_TRY(pl_h5_attr_string(st->group, "end_time", "", w, err));
    return pl_h5_attr_string(st->group, "status", "running", w, err);
}

static pl_status begin_locked(pl_h5_run *run, const pl_h5_stage_info *info, pl_h5_stage *st,
                              pl_error *err) {
    int index = run->next_index;
    snprintf(st->name, sizeof st->name, "%02d_%s", index, info->kind);
    size_t n = strlen(run->path) + strlen(st->name) + 16;
    st->where = pl_alloc(n, 1, err);
    if (st->where == NULL) return pl_error_wrap(err, "%s", run->path);
    snprintf(st->where, n, "%s:/stages/%s", run->path, st->name);
    st->group = H5Gcreate2(run->stages, st->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (st->group < 0) return h5_fail(st->where, "create the stage group", err);
    run->next_index++;
    pl_h5_series_init(&st->steps, st->group, st->where, "step");
    pl_h5_series_init(&st->evals, st->group, st->where, "eval_step");
    PL_TRY(write_stage_attributes(st, index, info, err));
    if (H5Fflush(run->file, H5F_SCOPE_LOCAL) < 0) return h5_fail(st->where, "flush", err);
    return PL_OK;
}

pl_status pl_h5_stage_begin(pl_h5_run *run, const pl_h5_stage_info *info, pl_h5_stage **out,
                            pl_error *err) {
    *out = NULL;
    if (run == NULL || info == NULL || !valid_name(info->kind, false))
        return PL_ERROR(err, PL_ERR_INVALID,
                        "%s: a stage needs a kind of 1-64 characters from a-z 0-9 _ (got '%s')",
                        run ? run->path : "metrics file",
                        info && info->kind ? info->kind : "(null)");
    pl_h5_stage *st = pl_alloc(1, sizeof *st, err);
    if (st == NULL) return pl_error_wrap(err, "%s", run->path);
    st->run = run;
    st->group = st->summary = -1;
    pl_h5_series_init(&st->steps, -1, "", "step");
    pl_h5_series_init(&st->evals, -1, "", "eval_step");
    st->last_flush = pl_now();
    pl_h5_lock();
    pl_status s = begin_locked(run, info, st, err);
    if (s != PL_OK) {
        free_stage(st);
    } else {
        st->next = run->open;
        run->open = st;
        *out = st;
    }
    pl_h5_unlock();
    return s;
}

pl_status pl_h5_stage_flush_locked(pl_h5_stage *st, pl_error *err) {
    PL_TRY(pl_h5_series_flush(&st->steps, err));
    PL_TRY(pl_h5_series_flush(&st->evals, err));
    if (H5Fflush(st->run->file, H5F_SCOPE_LOCAL) < 0) return h5_fail(st->where, "flush", err);
    st->last_flush = pl_now();
    return PL_OK;
}

static bool flush_due(const pl_h5_stage *st) {
    size_t every = st->run->flush_every;
    size_t pending = pl_h5_series_pending(&st->steps) + pl_h5_series_pending(&st->evals);
    if (pending == 0) return false;
    if (pl_h5_series_pending(&st->steps) >= every || pl_h5_series_pending(&st->evals) >= every)
        return true;
    return st->run->flush_seconds > 0 && pl_now() - st->last_flush >= st->run->flush_seconds;
}

static pl_status record(pl_h5_stage *st, pl_h5_series *mine, pl_h5_series *other,
                        const char *name, int64_t step, double value, pl_error *err) {
    PL_TRY(check_metric_name(st, name, err));
    if (pl_h5_series_find(other, name) != NULL)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "%s: metric '%s' is already a %s metric in this stage; give the %s "
                        "metric another name",
                        st->where, name, other->scale_name, mine->scale_name);
    pl_h5_lock();
    pl_status s = pl_h5_series_record(mine, name, step, value, err);
    if (s == PL_OK && flush_due(st)) s = pl_h5_stage_flush_locked(st, err);
    pl_h5_unlock();
    return s;
}

pl_status pl_h5_stage_step(pl_h5_stage *st, const char *name, int64_t step, double value,
                           pl_error *err) {
    return record(st, &st->steps, &st->evals, name, step, value, err);
}

pl_status pl_h5_stage_eval(pl_h5_stage *st, const char *name, int64_t step, double value,
                           pl_error *err) {
    return record(st, &st->evals, &st->steps, name, step, value, err);
}

static pl_status summary_locked(pl_h5_stage *st, const char *name, double value,
                                pl_error *err) {
    if (st->summary < 0) {
        st->summary = H5Gcreate2(st->group, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (st->summary < 0) return h5_fail(st->where, "create the stage's summary group", err);
    }
    PL_TRY(pl_h5_summary_locked(st->summary, name, value, st->where, err));
    return pl_h5_summary_locked(st->run->summary, name, value, st->run->path, err);
}

pl_status pl_h5_stage_summary(pl_h5_stage *st, const char *name, double value, pl_error *err) {
    PL_TRY(check_metric_name(st, name, err));
    pl_h5_lock();
    pl_status s = summary_locked(st, name, value, err);
    pl_h5_unlock();
    return s;
}

pl_status pl_h5_stage_flush(pl_h5_stage *st, pl_error *err) {
    pl_h5_lock();
    pl_status s = pl_h5_stage_flush_locked(st, err);
    pl_h5_unlock();
    return s;
}

static void unlink_stage(pl_h5_stage *st) {
    for (pl_h5_stage **p = &st->run->open; *p != NULL; p = &(*p)->next)
        if (*p == st) {
            *p = st->next;
            return;
        }
}

pl_status pl_h5_stage_finish_locked(pl_h5_stage *st, const char *status, pl_error *err) {
    char now[32];
    pl_utc_now_iso8601(now, sizeof now);
    pl_status s = pl_h5_stage_flush_locked(st, err);
    if (s == PL_OK) s = pl_h5_attr_string(st->group, "end_time", now, st->where, err);
    if (s == PL_OK) s = pl_h5_attr_string(st->group, "status", status, st->where, err);
    unlink_stage(st);
    free_stage(st);
    return s;
}

pl_status pl_h5_stage_end(pl_h5_stage *st, const char *status, pl_error *err) {
    if (st == NULL) return PL_OK;
    pl_h5_lock();
    pl_status s = pl_h5_stage_finish_locked(st, (status && status[0]) ? status : "completed",
                                            err);
    pl_h5_unlock();
    return s;
}
