/* h5_run.c - creating a run's metrics.h5 with its provenance attributes, /summary, flushing
 * and closing with the final status. */
#define _POSIX_C_SOURCE 200809L
#include "io/h5_run.h"

#include <string.h>

#include "core/alloc.h"
#include "core/blas.h"
#include "core/threads.h"
#include "io/h5_attr.h"
#include "io/h5_lock.h"
#include "io/h5_parts.h"
#include "io/provenance.h"

enum { DEFAULT_FLUSH_EVERY = 100 };

static pl_status h5_fail(const char *path, const char *what, pl_error *err) {
    char detail[256];
    pl_h5_error_detail(detail, sizeof detail);
    return PL_ERROR(err, PL_ERR_IO, "%s: could not %s (HDF5: %s)", path, what, detail);
}

/* HDF5 1.8 object format (readable by any HDF5 >= 1.8; a file whose writer died stays
 * readable, unlike the 1.10 format, which refuses files left marked open), no file lock
 * (so readers can open the file while it is written), close everything with the file. */
static hid_t file_access_list(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0 ||
        H5Pset_file_locking(fapl, 0, 1) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

static const char *or_unknown(const char *s) { return (s && s[0]) ? s : "unknown"; }

static pl_status write_root_attributes(pl_h5_run *run, const pl_h5_run_info *info,
                                       pl_error *err) {
    char host[256], cpu[256], now[32], version[32];
    unsigned maj = 0, min = 0, rel = 0;
    pl_host_name(host, sizeof host);
    pl_cpu_model(cpu, sizeof cpu);
    pl_utc_now_iso8601(now, sizeof now);
    H5get_libversion(&maj, &min, &rel);
    snprintf(version, sizeof version, "%u.%u.%u", maj, min, rel);
    const char *w = run->path;
    hid_t f = run->file;
    struct {
        const char *name, *value;
    } text[] = {
        {"format", "prunelab-metrics 1"},
        {"run_id", or_unknown(info->run_id)},
        {"experiment", or_unknown(info->experiment)},
        {"config", info->config_yaml ? info->config_yaml : ""},
        {"git_commit", or_unknown(info->git_commit)},
        {"git_dirty", or_unknown(info->git_dirty)},
        {"host", host},
        {"cpu", cpu},
        {"compiler", pl_compiler_version()},
        {"cflags", pl_build_cflags()},
        {"blas_config", or_unknown(pl_blas_config())},
        {"blas_core", or_unknown(pl_blas_core_name())},
        {"numerics", (info->numerics && info->numerics[0]) ? info->numerics : "none"},
        {"precision", info->precision ? info->precision : "fp32"},
        {"hdf5_version", version},
        {"start_time", now},
        {"end_time", ""},
        {"status", "running"},
        {"status_reason", ""},
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        PL_TRY(pl_h5_attr_string(f, text[i].name, text[i].value, w, err));
    PL_TRY(pl_h5_attr_uint64(f, "seed", info->seed, w, err));
    PL_TRY(pl_h5_attr_int64(f, "cores", pl_cores(), w, err));
    PL_TRY(pl_h5_attr_int64(f, "jobs", info->jobs, w, err));
    return pl_h5_attr_int64(f, "threads", info->threads, w, err);
}

/* Closes whatever of run is open and frees it; lock held. */
static void release(pl_h5_run *run) {
    if (run->summary >= 0) H5Gclose(run->summary);
    if (run->stages >= 0) H5Gclose(run->stages);
    if (run->file >= 0) H5Fclose(run->file);
    pl_free(run->path);
    pl_free(run->run_id);
    pl_free(run);
}

static pl_status create_locked(const char *path, const pl_h5_run_info *info, pl_h5_run *run,
                               pl_error *err) {
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
        return PL_ERROR(err, PL_ERR_MISSING,
                        "%s: this HDF5 library has no deflate filter; install Debian's "
                        "libhdf5-dev (make deps)", path);
    hid_t fapl = file_access_list();
    if (fapl < 0) return h5_fail(path, "set up file access properties", err);
    run->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (run->file < 0)
        return h5_fail(path, "create the metrics file (does its directory exist and is it "
                             "writable?)", err);
    run->stages = H5Gcreate2(run->file, "stages", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    run->summary = H5Gcreate2(run->file, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (run->stages < 0 || run->summary < 0) return h5_fail(path, "create /stages and /summary", err);
    PL_TRY(write_root_attributes(run, info, err));
    if (H5Fflush(run->file, H5F_SCOPE_LOCAL) < 0) return h5_fail(path, "flush", err);
    return PL_OK;
}

pl_status pl_h5_run_create(const char *path, const pl_h5_run_info *info, pl_h5_run **out,
                           pl_error *err) {
    *out = NULL;
    if (path == NULL || info == NULL || info->flush_every < 0 || info->flush_seconds < 0)
        return PL_ERROR(err, PL_ERR_INVALID,
                        "metrics file: need a path and run info with flush_every >= 0 and "
                        "flush_seconds >= 0");
    pl_h5_run *run = pl_alloc(1, sizeof *run, err);
    if (run == NULL) return pl_error_wrap(err, "%s", path);
    run->file = run->stages = run->summary = -1;
    run->flush_every = info->flush_every ? (size_t)info->flush_every : DEFAULT_FLUSH_EVERY;
    run->flush_seconds = info->flush_seconds;
    run->path = pl_strdup(path, err);
    run->run_id = run->path ? pl_strdup(or_unknown(info->run_id), err) : NULL;
    if (run->run_id == NULL) {
        pl_free(run->path);
        pl_free(run);
        return pl_error_wrap(err, "%s", path);
    }
    pl_h5_lock();
    pl_status s = create_locked(path, info, run, err);
    if (s != PL_OK) release(run);
    pl_h5_unlock();
    if (s == PL_OK) *out = run;
    return s;
}

pl_status pl_h5_summary_locked(hid_t group, const char *name, double value, const char *where,
                               pl_error *err) {
    if (name == NULL || name[0] == '\0')
        return PL_ERROR(err, PL_ERR_INVALID, "%s: a summary metric needs a name", where);
    return pl_h5_attr_double(group, name, value, where, err);
}

pl_status pl_h5_run_summary(pl_h5_run *run, const char *name, double value, pl_error *err) {
    pl_h5_lock();
    pl_status s = pl_h5_summary_locked(run->summary, name, value, run->path, err);
    pl_h5_unlock();
    return s;
}

static pl_status flush_locked(pl_h5_run *run, pl_error *err) {
    for (pl_h5_stage *st = run->open; st != NULL; st = st->next)
        PL_TRY(pl_h5_stage_flush_locked(st, err));
    if (H5Fflush(run->file, H5F_SCOPE_LOCAL) < 0) return h5_fail(run->path, "flush", err);
    return PL_OK;
}

pl_status pl_h5_run_flush(pl_h5_run *run, pl_error *err) {
    pl_h5_lock();
    pl_status s = flush_locked(run, err);
    pl_h5_unlock();
    return s;
}

pl_status pl_h5_run_close(pl_h5_run *run, const char *status, const char *reason,
                          pl_error *err) {
    if (run == NULL) return PL_OK;
    const char *final = (status && status[0]) ? status : "completed";
    pl_status first = PL_OK;
    pl_h5_lock();
    while (run->open != NULL) { /* finishing unlinks the stage */
        pl_status s = pl_h5_stage_finish_locked(run->open, final, first == PL_OK ? err : NULL);
        if (first == PL_OK) first = s;
    }
    char now[32];
    pl_utc_now_iso8601(now, sizeof now);
    pl_error *e = first == PL_OK ? err : NULL;
    pl_status s = pl_h5_attr_string(run->file, "end_time", now, run->path, e);
    if (s == PL_OK) s = pl_h5_attr_string(run->file, "status", final, run->path, e);
    if (s == PL_OK) s = pl_h5_attr_string(run->file, "status_reason", reason ? reason : "",
                                          run->path, e);
    if (first == PL_OK) first = s;
    hid_t file = run->file;
    run->file = -1;
    H5Gclose(run->summary);
    H5Gclose(run->stages);
    run->summary = run->stages = -1;
    if (H5Fclose(file) < 0 && first == PL_OK) first = h5_fail(run->path, "close", err);
    release(run);
    pl_h5_unlock();
    return first;
}
