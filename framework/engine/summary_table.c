/* summary_table.c - the summary table of an experiment's runs (see summary_table.h). */
#include "engine/summary_table.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Past MAX_ALIAS_COLUMNS aliases (no real sweep has that many) the rest are not shown. */
enum { MAX_METRIC_COLUMNS = 12, MAX_ALIAS_COLUMNS = 64, VALUE_WIDTH_MAX = 24, CELL_MAX = 64 };

typedef struct {
    const char *metric; /* a name in idx->metrics */
    const char *format; /* of its values */
} metric_column;

/* Length of name without suffix when name ends in it, else -1. */
static int prefix_before(const char *name, const char *suffix) {
    size_t n = strlen(name), k = strlen(suffix);
    return n >= k && strcmp(name + n - k, suffix) == 0 ? (int)(n - k) : -1;
}

static const char *find_metric(const pl_index *idx, const char *name, int len) {
    for (int m = 0; m < idx->n_metrics; m++)
        if ((int)strlen(idx->metrics[m]) == len && strncmp(idx->metrics[m], name, (size_t)len) == 0)
            return idx->metrics[m];
    return NULL;
}

/* Every eval's accuracy: <tag>acc where <tag>caption_slots exists; tagged first (in name
 * order), the untagged acc last. */
static int accuracy_columns(const pl_index *idx, metric_column *cols, int n, int max) {
    const char *untagged = NULL;
    for (int m = 0; m < idx->n_metrics && n < max; m++) {
        int tag = prefix_before(idx->metrics[m], "caption_slots");
        if (tag < 0) continue;
        char acc[CELL_MAX * 4];
        snprintf(acc, sizeof acc, "%.*sacc", tag, idx->metrics[m]);
        const char *name = find_metric(idx, acc, (int)strlen(acc));
        if (name == NULL) continue;
        if (tag == 0) untagged = name;
        else cols[n++] = (metric_column){name, "%.4f"};
    }
    if (untagged != NULL && n < max) cols[n++] = (metric_column){untagged, "%.4f"};
    return n;
}

/* The batch size and thread count of <tag>latency_ms_b<B>_t<T>, and the tag's length;
 * false for other names. */
static bool latency_of(const char *name, int *tag, int *batch, int *threads) {
    const char *at = strstr(name, "latency_ms_b");
    int used = 0;
    if (at == NULL || sscanf(at, "latency_ms_b%d_t%d%n", batch, threads, &used) != 2 || at[used] != '\0')
        return false;
    *tag = (int)(at - name);
    return true;
}

/* Each bench's latency at its smallest batch, then fewest threads. */
static int latency_columns(const pl_index *idx, metric_column *cols, int n, int max) {
    int first = n;
    for (int m = 0; m < idx->n_metrics; m++) {
        int tag, batch, threads;
        if (!latency_of(idx->metrics[m], &tag, &batch, &threads)) continue;
        int same = -1;
        for (int c = first; c < n && same < 0; c++) {
            int ctag, cb, ct;
            latency_of(cols[c].metric, &ctag, &cb, &ct);
            if (ctag == tag && strncmp(cols[c].metric, idx->metrics[m], (size_t)tag) == 0) {
                same = c;
                if (batch < cb || (batch == cb && threads < ct)) cols[c].metric = idx->metrics[m];
            }
        }
        if (same < 0 && n < max) cols[n++] = (metric_column){idx->metrics[m], "%.2f"};
    }
    return n;
}

static bool listed(const char *id, const char *const *only, int n_only) {
    if (only == NULL) return true;
    for (int i = 0; i < n_only; i++)
        if (strcmp(only[i], id) == 0) return true;
    return false;
}

/* text, cut to VALUE_WIDTH_MAX characters with "..." when longer. */
static const char *clipped(const char *text, char buf[VALUE_WIDTH_MAX + 1]) {
    if (strlen(text) <= VALUE_WIDTH_MAX) return text;
    snprintf(buf, VALUE_WIDTH_MAX + 1, "%.*s...", VALUE_WIDTH_MAX - 3, text);
    return buf;
}

static void metric_cell(const pl_index_row *row, const metric_column *col, char cell[CELL_MAX]) {
    double v = pl_index_metric(row, col->metric);
    if (isnan(v)) snprintf(cell, CELL_MAX, "-");
    else snprintf(cell, CELL_MAX, col->format, v);
}

static int max_int(int a, int b) { return a > b ? a : b; }

/* Drops the columns no printed row has a value in (the runs of another invocation's
 * pipeline); returns how many are left. */
static int columns_with_values(const pl_index *idx, const char *const *only, int n_only,
                               metric_column *cols, int n) {
    int kept = 0;
    for (int c = 0; c < n; c++) {
        bool any = false;
        for (int r = 0; r < idx->n_rows && !any; r++)
            any = listed(idx->rows[r].run_id, only, n_only) && !isnan(pl_index_metric(&idx->rows[r], cols[c].metric));
        if (any) cols[kept++] = cols[c];
    }
    return kept;
}

void pl_index_print(const pl_index *idx, const char *const *only, int n_only, FILE *out) {
    metric_column cols[MAX_METRIC_COLUMNS];
    int n_cols = accuracy_columns(idx, cols, 0, MAX_METRIC_COLUMNS);
    n_cols = latency_columns(idx, cols, n_cols, MAX_METRIC_COLUMNS);
    n_cols = columns_with_values(idx, only, n_only, cols, n_cols);
    /* Widths: the header, or the widest cell of a printed row. */
    int w_run = 3, w_seed = 4, w_status = 6, w_alias[MAX_ALIAS_COLUMNS], w_metric[MAX_METRIC_COLUMNS];
    int n_alias = idx->n_aliases < MAX_ALIAS_COLUMNS ? idx->n_aliases : MAX_ALIAS_COLUMNS;
    char buf[VALUE_WIDTH_MAX + 1], cell[CELL_MAX];
    for (int a = 0; a < n_alias; a++) w_alias[a] = (int)strlen(clipped(idx->aliases[a], buf));
    for (int c = 0; c < n_cols; c++) w_metric[c] = (int)strlen(cols[c].metric);
    for (int r = 0; r < idx->n_rows; r++) {
        const pl_index_row *row = &idx->rows[r];
        if (!listed(row->run_id, only, n_only)) continue;
        w_run = max_int(w_run, (int)strlen(row->run_id));
        w_seed = max_int(w_seed, snprintf(cell, sizeof cell, "%lld", row->seed));
        w_status = max_int(w_status, (int)strlen(pl_run_state_name(row->status.state)));
        for (int a = 0; a < n_alias; a++) w_alias[a] = max_int(w_alias[a], (int)strlen(clipped(row->values[a], buf)));
        for (int c = 0; c < n_cols; c++) {
            metric_cell(row, &cols[c], cell);
            w_metric[c] = max_int(w_metric[c], (int)strlen(cell));
        }
    }
    fprintf(out, "%-*s", w_run, "run");
    for (int a = 0; a < n_alias; a++) fprintf(out, "  %-*s", w_alias[a], clipped(idx->aliases[a], buf));
    fprintf(out, "  %*s  %-*s", w_seed, "seed", w_status, "status");
    for (int c = 0; c < n_cols; c++) fprintf(out, "  %*s", w_metric[c], cols[c].metric);
    fputc('\n', out);
    for (int r = 0; r < idx->n_rows; r++) {
        const pl_index_row *row = &idx->rows[r];
        if (!listed(row->run_id, only, n_only)) continue;
        fprintf(out, "%-*s", w_run, row->run_id);
        for (int a = 0; a < n_alias; a++) fprintf(out, "  %-*s", w_alias[a], clipped(row->values[a], buf));
        fprintf(out, "  %*lld  %-*s", w_seed, row->seed, w_status, pl_run_state_name(row->status.state));
        for (int c = 0; c < n_cols; c++) {
            metric_cell(row, &cols[c], cell);
            fprintf(out, "  %*s", w_metric[c], cell);
        }
        if (row->status.state == PL_RUN_FAILED) fprintf(out, "  %s", row->status.reason);
        fputc('\n', out);
    }
}
