/* run_dir.c - run directories: config.yaml, run.tsv and the status file (see run_dir.h). */
#include "engine/run_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/canon.h"
#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/fsutil.h"
#include "io/tsv.h"

static const char *const STATE_NAMES[PL_RUN_STATE_COUNT] = {"unknown", "queued",  "running", "completed",
                                                            "failed",  "stale",   "damaged"};

const char *pl_run_state_name(pl_run_state s) {
    return (int)s >= 0 && s < PL_RUN_STATE_COUNT ? STATE_NAMES[s] : "unknown";
}

void pl_run_dir_path(const char *results, const char *experiment, const char *run_id, char *buf,
                     size_t cap) {
    snprintf(buf, cap, "%s/%s/runs/%s", results, experiment, run_id);
}

void pl_run_lock_path(const char *run_dir, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/lock", run_dir);
}

static pl_status write_text(const char *dir, const char *name, cfg_strbuf *sb, pl_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pl_status st = cfg_strbuf_check(sb, err);
    if (st == PL_OK) st = pl_write_atomic(path, sb->data ? sb->data : "", sb->len, err);
    return st;
}

pl_status pl_run_dir_prepare(const char *dir, const pl_experiment *exp, int index, pl_error *err) {
    const pl_run *run = &exp->runs[index];
    PL_TRY(pl_mkdirs(dir, err));
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_canon_append(run->config, &sb);
    pl_status st = write_text(dir, "config.yaml", &sb, err);
    cfg_strbuf_reset(&sb);
    cfg_strbuf_printf(&sb, "run_id\t%s\ngroup_id\t%s\nseed\t%lld\nindex\t%d\n", run->run_id,
                      run->group_id, run->seed, index);
    cfg_strbuf cell;
    cfg_strbuf_init(&cell);
    for (int a = 0; a < exp->n_axes; a++) {
        cfg_strbuf_reset(&cell);
        if (run->values[a]) cfg_canon_flow(run->values[a], &cell);
        cfg_strbuf_puts(&sb, "axis.");
        cfg_strbuf_put_field(&sb, exp->aliases[a]);
        cfg_strbuf_putc(&sb, '\t');
        cfg_strbuf_put_field(&sb, cell.data ? cell.data : "");
        cfg_strbuf_puts(&sb, "\npath.");
        cfg_strbuf_put_field(&sb, exp->aliases[a]);
        cfg_strbuf_putc(&sb, '\t');
        cfg_strbuf_put_field(&sb, exp->paths[a]);
        cfg_strbuf_putc(&sb, '\n');
    }
    if (st == PL_OK) st = cfg_strbuf_check(&cell, err);
    if (st == PL_OK) st = write_text(dir, "run.tsv", &sb, err);
    cfg_strbuf_free(&cell);
    cfg_strbuf_free(&sb);
    return st;
}

pl_status pl_run_status_write(const char *dir, const pl_run_status *s, pl_error *err) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_strbuf_puts(&sb, pl_run_state_name(s->state));
    if (s->state == PL_RUN_FAILED) {
        cfg_strbuf_puts(&sb, ": ");
        cfg_strbuf_put_field(&sb, s->reason[0] ? s->reason : "unknown reason");
    }
    cfg_strbuf_putc(&sb, '\n');
    if (s->started > 0) cfg_strbuf_printf(&sb, "started: %.3f\n", s->started);
    if (s->heartbeat > 0) cfg_strbuf_printf(&sb, "heartbeat: %.3f\n", s->heartbeat);
    if (s->finished > 0) cfg_strbuf_printf(&sb, "finished: %.3f\n", s->finished);
    pl_status st = write_text(dir, "status", &sb, err);
    cfg_strbuf_free(&sb);
    return st;
}

void pl_run_status_read(const char *dir, pl_run_status *s) {
    memset(s, 0, sizeof *s);
    char path[4096], *text;
    snprintf(path, sizeof path, "%s/status", dir);
    if (pl_read_file(path, &text, NULL, NULL) != PL_OK) return;
    char *nl = strchr(text, '\n');
    if (nl == NULL) { /* a status is always written whole, ending in a newline */
        pl_free(text);
        return;
    }
    *nl = '\0';
    for (int i = PL_RUN_QUEUED; i <= PL_RUN_FAILED; i++) {
        size_t n = strlen(STATE_NAMES[i]);
        if (strncmp(text, STATE_NAMES[i], n) == 0 && (text[n] == '\0' || text[n] == ':')) {
            s->state = (pl_run_state)i;
            if (text[n] == ':') snprintf(s->reason, sizeof s->reason, "%s", text + n + (text[n + 1] == ' ' ? 2 : 1));
        }
    }
    for (char *line = nl + 1; *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        double *slot = strncmp(line, "started: ", 9) == 0     ? &s->started
                     : strncmp(line, "heartbeat: ", 11) == 0 ? &s->heartbeat
                     : strncmp(line, "finished: ", 10) == 0  ? &s->finished : NULL;
        if (slot) *slot = strtod(strchr(line, ' ') + 1, NULL);
        if (end == NULL) break;
        line = end + 1;
    }
    pl_free(text);
}
