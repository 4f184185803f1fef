/* run_record.c - writing, reading and judging a completed run's record (see run_record.h). */
#define _POSIX_C_SOURCE 200809L
#include "engine/run_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/run_dir.h"
#include "engine/stage.h"
#include "io/h5_summary.h"

static const char *const VERDICT_NAMES[] = {"sound", "unsealed", "stale", "damaged"};

const char *pl_record_verdict_name(pl_record_verdict v) {
    return (int)v >= 0 && v <= PL_RECORD_DAMAGED ? VERDICT_NAMES[v] : "unknown";
}

void pl_run_record_free(pl_run_record *rec) {
    for (int i = 0; i < rec->n_inputs; i++) pl_free(rec->inputs[i].path);
    pl_free(rec->inputs);
    pl_free(rec->stages);
    memset(rec, 0, sizeof *rec);
}

static void record_path(const char *dir, char *buf, size_t cap) { snprintf(buf, cap, "%s/record", dir); }

static void metrics_path(const char *dir, char *buf, size_t cap) { snprintf(buf, cap, "%s/metrics.h5", dir); }

pl_status pl_run_record_of(const pl_run *run, pl_hash_memo *memo, pl_run_record *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    const int n = cfg_stage_count(run->semantic);
    pl_cache_input inputs[PL_CACHE_MAX_INPUTS];
    int n_inputs = 0;
    pl_status st = n > 0 ? pl_cache_inputs(run, n - 1, inputs, &n_inputs, err)
                         : PL_ERROR(err, PL_ERR_CONFIG, "run %s has no pipeline", run->run_id);
    if (st != PL_OK) return st;
    out->stages = pl_alloc((size_t)n, sizeof *out->stages, err);
    out->inputs = pl_alloc((size_t)n_inputs + 1, sizeof *out->inputs, err);
    if (out->stages == NULL || out->inputs == NULL) st = PL_ERR_NOMEM;
    for (int i = 0; st == PL_OK && i < n; i++) {
        const char *kind;
        cfg_stage_at(run->semantic, i, &kind);
        snprintf(out->stages[i].kind, sizeof out->stages[i].kind, "%s", kind);
        st = pl_cache_key(run, i, memo, out->stages[i].key, err);
        out->n_stages += st == PL_OK;
    }
    for (int i = 0; st == PL_OK && i < n_inputs; i++) {
        pl_record_input *in = &out->inputs[i];
        in->stage = inputs[i].stage;
        snprintf(in->key, sizeof in->key, "%s", inputs[i].key);
        st = pl_content_sha256(memo, inputs[i].path, inputs[i].dir_suffix, in->sha256, err);
        if (st == PL_OK && (in->path = pl_strdup(inputs[i].path, err)) == NULL) st = PL_ERR_NOMEM;
        out->n_inputs += st == PL_OK;
    }
    if (st != PL_OK) pl_run_record_free(out);
    return st;
}

pl_status pl_run_record_write(const char *dir, pl_run_record *rec, pl_error *err) {
    char path[4096];
    metrics_path(dir, path, sizeof path);
    PL_TRY(pl_file_sha256(path, rec->metrics_sha256, err));
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_strbuf_printf(&sb, "metrics.h5\t%s\n", rec->metrics_sha256);
    for (int i = 0; i < rec->n_stages; i++)
        cfg_strbuf_printf(&sb, "stage\t%d\t%s\t%s\n", i, rec->stages[i].kind, rec->stages[i].key);
    for (int i = 0; i < rec->n_inputs; i++) {
        const pl_record_input *in = &rec->inputs[i];
        cfg_strbuf_printf(&sb, "input\t%d\t", in->stage);
        cfg_strbuf_put_field(&sb, in->key);
        cfg_strbuf_printf(&sb, "\t%s\t", in->sha256);
        cfg_strbuf_put_field(&sb, in->path);
        cfg_strbuf_putc(&sb, '\n');
    }
    record_path(dir, path, sizeof path);
    const pl_status st = pl_write_sealed(path, &sb, err);
    cfg_strbuf_free(&sb);
    return st;
}

/* Splits line in place at its first n tabs into n + 1 fields; false when it has fewer. */
static bool split(char *line, char **fields, int n) {
    fields[0] = line;
    for (int i = 1; i <= n; i++) {
        char *tab = strchr(fields[i - 1], '\t');
        if (tab == NULL) return false;
        *tab = '\0';
        fields[i] = tab + 1;
    }
    return true;
}

/* One line of a record into rec; false when it does not parse. */
static bool read_line(char *line, pl_run_record *rec, int *cap_stages, int *cap_inputs, pl_error *err) {
    char *f[5];
    if (strncmp(line, "metrics.h5\t", 11) == 0) {
        if (!pl_is_sha256_hex(line + 11)) return false;
        memcpy(rec->metrics_sha256, line + 11, CFG_HASH_HEX);
        return true;
    }
    if (strncmp(line, "stage\t", 6) == 0) {
        if (!split(line, f, 3) || atoi(f[1]) != rec->n_stages || !pl_is_sha256_hex(f[3]) || strlen(f[2]) >= 32) return false;
        if (rec->n_stages == *cap_stages) {
            *cap_stages = *cap_stages ? 2 * *cap_stages : 8;
            pl_record_stage *grown = pl_realloc(rec->stages, (size_t)*cap_stages, sizeof *grown, err);
            if (grown == NULL) return false;
            rec->stages = grown;
        }
        pl_record_stage *s = &rec->stages[rec->n_stages++];
        snprintf(s->kind, sizeof s->kind, "%s", f[2]);
        memcpy(s->key, f[3], CFG_HASH_HEX);
        return true;
    }
    if (strncmp(line, "input\t", 6) == 0) {
        if (!split(line, f, 4) || !pl_is_sha256_hex(f[3]) || strlen(f[2]) >= 96) return false;
        if (rec->n_inputs == *cap_inputs) {
            *cap_inputs = *cap_inputs ? 2 * *cap_inputs : 4;
            pl_record_input *grown = pl_realloc(rec->inputs, (size_t)*cap_inputs, sizeof *grown, err);
            if (grown == NULL) return false;
            rec->inputs = grown;
        }
        pl_record_input *in = &rec->inputs[rec->n_inputs];
        in->stage = atoi(f[1]);
        snprintf(in->key, sizeof in->key, "%s", f[2]);
        memcpy(in->sha256, f[3], CFG_HASH_HEX);
        if ((in->path = pl_strdup(f[4], err)) == NULL) return false;
        rec->n_inputs++;
        return true;
    }
    return false;
}

pl_status pl_run_record_read(const char *dir, pl_run_record *out, bool *present, pl_error *err) {
    memset(out, 0, sizeof *out);
    *present = false;
    char path[4096], *text;
    record_path(dir, path, sizeof path);
    if (!pl_file_exists(path)) return PL_OK;
    *present = true;
    size_t len, body;
    bool sealed;
    char why[160];
    PL_TRY(pl_read_file(path, &text, &len, err));
    int cap_stages = 0, cap_inputs = 0, lineno = 0;
    pl_status st = PL_OK;
    if (pl_seal_check(text, len, &body, &sealed, why, sizeof why) != PL_OK || !sealed)
        st = PL_ERROR(err, PL_ERR_FORMAT, "%s: %s", path, sealed ? why : "its seal is missing (cut short?)");
    else text[body] = '\0';
    for (char *line = text; st == PL_OK && line != NULL && *line;) {
        char *nl = strchr(line, '\n');
        if (nl == NULL) /* every line ends in a newline: a record is written whole */
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s: its last line is cut off", path);
        else *nl = '\0';
        lineno++;
        if (st == PL_OK && !read_line(line, out, &cap_stages, &cap_inputs, err))
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: not a record line", path, lineno);
        line = nl ? nl + 1 : NULL;
    }
    if (st == PL_OK && out->metrics_sha256[0] == '\0')
        st = PL_ERROR(err, PL_ERR_FORMAT, "%s has no metrics.h5 line", path);
    pl_free(text);
    if (st != PL_OK) pl_run_record_free(out);
    return st;
}

/* The input of rec read by `stage` under `key`, or NULL. */
static const pl_record_input *find_input(const pl_run_record *rec, int stage, const char *key) {
    for (int i = 0; i < rec->n_inputs; i++)
        if (rec->inputs[i].stage == stage && strcmp(rec->inputs[i].key, key) == 0) return &rec->inputs[i];
    return NULL;
}

/* Why the recorded stage keys are not the keys now (NULL when they all are). */
static const char *why_stale(const pl_run_record *then, const pl_run_record *now, char *why, size_t cap) {
    int first = -1;
    const int n = then->n_stages < now->n_stages ? then->n_stages : now->n_stages;
    for (int i = 0; i < n && first < 0; i++)
        if (strcmp(then->stages[i].key, now->stages[i].key) != 0) first = i;
    if (first < 0 && then->n_stages == now->n_stages) return NULL;
    if (first < 0) first = n;
    /* an input whose content changed is the likely reason */
    for (int i = 0; i < now->n_inputs; i++) {
        const pl_record_input *in = &now->inputs[i], *old = find_input(then, in->stage, in->key);
        if (old != NULL && strcmp(old->sha256, in->sha256) != 0) {
            snprintf(why, cap, "%s %s (SHA-256 %.12s...) is not the file it was computed from "
                     "(%.12s...)", in->key, in->path, in->sha256, old->sha256);
            return why;
        }
    }
    if (first < now->n_stages)
        snprintf(why, cap, "stage %d '%s' has another cache key now (%.12s... instead of %.12s...): "
                 "what it reads or computes changed since the run completed", first,
                 now->stages[first].kind, now->stages[first].key,
                 first < then->n_stages ? then->stages[first].key : "none");
    else
        snprintf(why, cap, "its record lists %d stages, its config %d", then->n_stages, now->n_stages);
    return why;
}

/* A run completed before records existed: its metrics.h5 names the cache key of every stage
 * it ran (/stages/NN_<kind> cache_key); stale when one is not the stage's key now. A file
 * without them (older still) is stale when a model stage's key now has no cache entry. */
static const char *why_unrecorded_stale(const char *h5, const char *results, const pl_run_record *now,
                                        char *why, size_t cap) {
    char (*keys)[65] = pl_alloc((size_t)now->n_stages + 1, sizeof *keys, NULL);
    int n = 0;
    const bool read = keys != NULL && pl_h5_read_stage_keys(h5, keys, now->n_stages, &n, NULL) == PL_OK;
    bool all_named = read && n == now->n_stages;
    for (int i = 0; all_named && i < n; i++) all_named = keys[i][0] != '\0';
    const char *stale = NULL;
    if (read && n != now->n_stages && n > 0) {
        snprintf(why, cap, "its metrics.h5 holds %d stages, its config %d", n, now->n_stages);
        stale = why;
    }
    for (int i = 0; all_named && stale == NULL && i < n; i++)
        if (strncmp(keys[i], now->stages[i].key, 64) != 0) {
            snprintf(why, cap, "stage %d '%s' ran with cache key %.12s..., which is %.12s... now: a file it "
                     "read or what it computes changed since the run completed", i, now->stages[i].kind,
                     keys[i], now->stages[i].key);
            stale = why;
        }
    pl_free(keys);
    if (all_named || stale != NULL) return stale;
    for (int i = 0; i < now->n_stages; i++) {
        const pl_stage_kind *k = pl_stage_find(now->stages[i].kind);
        if (k == NULL || !k->produces_model || pl_cache_has(results, now->stages[i].key)) continue;
        snprintf(why, cap, "it completed before runs recorded what they were computed from, and "
                 "stage %d '%s' with its inputs now (cache key %.12s...) was never computed: its "
                 "results came from other inputs or another numerics version", i,
                 now->stages[i].kind, now->stages[i].key);
        return why;
    }
    return NULL;
}

pl_record_verdict pl_run_judge(const char *dir, const char *results, const pl_run_record *now, char *why,
                               size_t cap) {
    char h5[4096];
    metrics_path(dir, h5, sizeof h5);
    pl_run_record then;
    bool present;
    pl_error e;
    pl_error_clear(&e);
    if (pl_run_record_read(dir, &then, &present, &e) != PL_OK) {
        snprintf(why, cap, "its record is unreadable: %s", e.message);
        return PL_RECORD_DAMAGED;
    }
    pl_record_verdict v = PL_RECORD_SOUND;
    char hash[CFG_HASH_HEX];
    if (present) {
        if (pl_file_sha256(h5, hash, &e) != PL_OK) {
            snprintf(why, cap, "metrics.h5 cannot be read: %s", e.message);
            v = PL_RECORD_DAMAGED;
        } else if (strcmp(hash, then.metrics_sha256) != 0) {
            snprintf(why, cap, "metrics.h5 (SHA-256 %.12s...) is not the file sealed when the run "
                     "completed (%.12s...): truncated or changed since", hash, then.metrics_sha256);
            v = PL_RECORD_DAMAGED;
        } else if (now != NULL && why_stale(&then, now, why, cap) != NULL) {
            v = PL_RECORD_STALE;
        }
        pl_run_record_free(&then);
        return v;
    }
    pl_h5_summary summary;
    if (pl_h5_read_summary(h5, &summary, &e) != PL_OK) {
        snprintf(why, cap, "metrics.h5 does not read back: %s", e.message);
        return PL_RECORD_DAMAGED;
    }
    const bool completed = strcmp(summary.status, "completed") == 0;
    if (!completed)
        snprintf(why, cap, "metrics.h5 says its run is '%s', not completed", summary.status);
    pl_h5_summary_free(&summary);
    if (!completed) return PL_RECORD_DAMAGED;
    if (now != NULL && why_unrecorded_stale(h5, results, now, why, cap) != NULL) return PL_RECORD_STALE;
    return PL_RECORD_UNSEALED;
}

bool pl_run_is_done(const char *dir, const char *results, const pl_run_record *now,
                    pl_record_verdict *verdict, char *why, size_t cap) {
    pl_run_status s;
    pl_run_status_read(dir, &s);
    if (s.state != PL_RUN_COMPLETED) return false;
    char scratch[1024];
    const pl_record_verdict v = pl_run_judge(dir, results, now, why ? why : scratch, why ? cap : sizeof scratch);
    if (verdict != NULL) *verdict = v;
    return v == PL_RECORD_SOUND || v == PL_RECORD_UNSEALED;
}
