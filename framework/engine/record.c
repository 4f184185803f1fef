/* record.c - in-memory metrics recording, its TSV file and replay (see record.h). */
#include "engine/record.h"

#include <stdlib.h>
#include <string.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "engine/fsutil.h"
#include "io/tsv.h"

void pl_record_init(pl_record *r) { memset(r, 0, sizeof *r); }

void pl_record_free(pl_record *r) {
    for (int i = 0; i < r->count; i++) pl_free(r->items[i].text);
    pl_free(r->items);
    memset(r, 0, sizeof *r);
}

static pl_status append(pl_record *r, pl_record_kind kind, const char *text, int64_t step,
                        double value, pl_error *err) {
    if (r->count == r->cap) {
        int cap = r->cap ? 2 * r->cap : 256;
        pl_record_item *bigger = pl_realloc(r->items, (size_t)cap, sizeof *bigger, err);
        if (bigger == NULL) return PL_ERR_NOMEM;
        r->items = bigger, r->cap = cap;
    }
    char *copy = pl_strdup(text, err);
    if (copy == NULL) return PL_ERR_NOMEM;
    r->items[r->count++] = (pl_record_item){kind, copy, step, value};
    return PL_OK;
}

static pl_status on_step(void *ctx, const char *name, int64_t step, double v, pl_error *err) {
    return append(ctx, REC_STEP, name, step, v, err);
}
static pl_status on_eval(void *ctx, const char *name, int64_t step, double v, pl_error *err) {
    return append(ctx, REC_EVAL, name, step, v, err);
}
static pl_status on_summary(void *ctx, const char *name, double v, pl_error *err) {
    return append(ctx, REC_SUMMARY, name, 0, v, err);
}
static void on_progress(void *ctx, const char *line) {
    pl_record *r = ctx;
    if (append(r, REC_LOG, line, 0, 0.0, NULL) != PL_OK) r->failed = 1;
    if (r->on_progress) r->on_progress(r->progress_ctx, line);
}

pl_metrics_sink pl_record_sink(pl_record *r) {
    return (pl_metrics_sink){r, on_step, on_eval, on_summary, on_progress};
}

static const char *const KIND_NAMES[] = {"step", "eval", "summary", "log"};

static void put_escaped(cfg_strbuf *sb, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '\\': cfg_strbuf_puts(sb, "\\\\"); break;
        case '\t': cfg_strbuf_puts(sb, "\\t"); break;
        case '\n': cfg_strbuf_puts(sb, "\\n"); break;
        case '\r': cfg_strbuf_puts(sb, "\\r"); break;
        default: cfg_strbuf_putc(sb, *s);
        }
    }
}

pl_status pl_record_save(const pl_record *r, const char *path, pl_error *err) {
    if (r->failed) return PL_ERROR(err, PL_ERR_NOMEM, "out of memory while recording a stage's log");
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    char num[PL_TSV_NUMBER_MAX];
    for (int i = 0; i < r->count; i++) {
        const pl_record_item *it = &r->items[i];
        cfg_strbuf_puts(&sb, KIND_NAMES[it->kind]);
        cfg_strbuf_putc(&sb, '\t');
        put_escaped(&sb, it->text);
        if (it->kind != REC_LOG) {
            cfg_strbuf_putc(&sb, '\t');
            if (it->kind != REC_SUMMARY) cfg_strbuf_printf(&sb, "%lld", (long long)it->step);
            pl_tsv_format_double(it->value, num);
            cfg_strbuf_printf(&sb, "\t%s", num);
        }
        cfg_strbuf_putc(&sb, '\n');
    }
    pl_status st = cfg_strbuf_check(&sb, err);
    if (st == PL_OK) st = pl_write_atomic(path, sb.data ? sb.data : "", sb.len, err);
    cfg_strbuf_free(&sb);
    return st;
}

/* Splits line (modified) at tabs into at most 4 fields; returns the count. */
static int split_tabs(char *line, char *fields[4]) {
    int n = 0;
    fields[n++] = line;
    for (char *p = line; *p && n < 4; p++)
        if (*p == '\t') {
            *p = '\0';
            fields[n++] = p + 1;
        }
    return n;
}

static pl_status parse_line(pl_record *r, char *line, const char *path, int lineno, pl_error *err) {
    char *f[4];
    int n = split_tabs(line, f);
    int kind = -1;
    for (int k = 0; k < 4; k++)
        if (strcmp(f[0], KIND_NAMES[k]) == 0) kind = k;
    int want = kind == REC_LOG ? 2 : 4;
    if (kind < 0 || n != want)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: not a metrics record", path, lineno);
    pl_tsv_unescape(f[1]);
    int64_t step = 0;
    double value = 0.0;
    if (kind != REC_LOG) {
        char *end;
        if (kind != REC_SUMMARY) step = strtoll(f[2], &end, 10);
        value = strtod(f[3], &end);
        if (*end != '\0') return PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: bad number '%s'", path, lineno, f[3]);
    }
    return append(r, (pl_record_kind)kind, f[1], step, value, err);
}

pl_status pl_record_load(pl_record *r, const char *path, pl_error *err) {
    char *text;
    PL_TRY(pl_read_file(path, &text, NULL, err));
    pl_status st = PL_OK;
    int lineno = 0;
    for (char *line = text; st == PL_OK && *line;) {
        char *nl = strchr(line, '\n');
        if (nl == NULL) {
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s: truncated (no final newline)", path);
            break;
        }
        *nl = '\0';
        st = parse_line(r, line, path, ++lineno, err);
        line = nl + 1;
    }
    pl_free(text);
    return st;
}

pl_status pl_record_replay(const pl_record *r, const pl_metrics_sink *sink, pl_error *err) {
    for (int i = 0; i < r->count; i++) {
        const pl_record_item *it = &r->items[i];
        switch (it->kind) {
        case REC_STEP: PL_TRY(pl_metric_step(sink, it->text, it->step, it->value, err)); break;
        case REC_EVAL: PL_TRY(pl_metric_eval(sink, it->text, it->step, it->value, err)); break;
        case REC_SUMMARY: PL_TRY(pl_metric_summary(sink, it->text, it->value, err)); break;
        case REC_LOG: pl_metric_progress(sink, it->text); break;
        }
    }
    return PL_OK;
}
