/* user_data.c - reading a user's TSV of samples line by line (columns, vocabulary, question
 * template, split) and the IDX file or PGM directory of images it refers to; counting a
 * TSV's rows per split for the checks before a run. */
#include "data/user_data.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/file_open.h"
#include "data/batch.h"
#include "data/idx.h"
#include "data/pgm.h"
#include "data/tokenizer.h"

enum { MAX_COLUMNS = 4, MAX_WORDS = PL_USER_MAX_LINE / 2 + 1, MAX_PATH = 4096 };

/* The question templates, by their first words (data/questions.h). */
static const struct {
    int words[4];
    int n;
    int type;
} TEMPLATES[] = {
    {{TOK_HOW, TOK_MANY}, 2, QTYPE_HOWMANY},
    {{TOK_IS, TOK_THERE}, 2, QTYPE_EXISTS},
    {{TOK_WHERE}, 1, QTYPE_WHERE},
    {{TOK_DESCRIBE}, 1, QTYPE_CAPTION},
    {{TOK_WHAT, TOK_IS, TOK_IN}, 3, QTYPE_WHAT},
    {{TOK_WHAT, TOK_IS, TOK_LEFT, TOK_OF}, 4, QTYPE_RELATION},
    {{TOK_WHAT, TOK_IS, TOK_RIGHT, TOK_OF}, 4, QTYPE_RELATION},
    {{TOK_WHAT, TOK_IS, TOK_ABOVE}, 3, QTYPE_RELATION},
    {{TOK_WHAT, TOK_IS, TOK_BELOW}, 3, QTYPE_RELATION},
};
#define TEMPLATE_LIST                                                                      \
    "'how many ...', 'is there ...', 'where ...', 'describe ...', 'what is in ...', "   \
    "'what is left of|right of|above|below ...'"

/* Everything one load works on; the result moves to pl_user_data at the end. */
typedef struct {
    const char *tsv, *images;
    int question_len, answer_room;
    int line;             /* the line being read */
    int pgm_dir;          /* images is a directory of PGMs (else an IDX file) */
    pl_idx idx;           /* the IDX images */
    pl_user_data out;     /* rows and tokens as they are read */
    size_t rows_cap, tokens_len, tokens_cap;
    char *names;          /* a PGM directory's image ids, NUL-terminated one after another */
    size_t names_len, names_cap;
    size_t *name_at;      /* per row: where its image id starts in names */
    size_t name_at_cap;
} loader;

/* Makes room for `need` elements of `size` bytes in a growable array. */
static pl_status reserve(void **array, size_t *cap, size_t need, size_t size, pl_error *err) {
    if (need <= *cap) return PL_OK;
    size_t grown = *cap ? *cap * 2 : 64;
    if (grown < need) grown = need;
    void *p = pl_realloc(*array, grown, size, err);
    if (p == NULL) return PL_ERR_NOMEM;
    *array = p;
    *cap = grown;
    return PL_OK;
}

/* Tokenises one column into ids; every word must be a real word of the vocabulary. */
static pl_status encode(const loader *L, const char *column, const char *text, int limit,
                        const char *limit_key, int *ids, int *n, pl_error *err) {
    *n = pl_tokenize(text, ids, MAX_WORDS, NULL, NULL);
    if (*n == 0)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: the %s is empty", L->tsv, L->line, column);
    size_t len;
    const char *word = pl_next_word(text, &len);
    for (int i = 0; i < *n; i++, word = pl_next_word(word + len, &len))
        if (ids[i] <= TOK_UNK) /* unknown, or a special token such as <sep> */
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s:%d: %s word '%.*s' is not in the vocabulary (`prunelab data "
                            "vocab` lists the words; framework/data/tokenizer.c holds them)",
                            L->tsv, L->line, column, (int)len, word);
    if (*n > limit)
        return PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: the %s has %d words; %s allows %d",
                        L->tsv, L->line, column, *n, limit_key, limit);
    return PL_OK;
}

static int question_type(const int *q, int n) {
    for (size_t t = 0; t < sizeof TEMPLATES / sizeof TEMPLATES[0]; t++) {
        int match = n >= TEMPLATES[t].n;
        for (int i = 0; match && i < TEMPLATES[t].n; i++) match = q[i] == TEMPLATES[t].words[i];
        if (match) return TEMPLATES[t].type;
    }
    return -1;
}

/* An image index: decimal digits only, below count; -1 otherwise. */
static int parse_index(const char *s, int count) {
    long long v = 0;
    if (*s == '\0') return -1;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) return -1;
        v = v * 10 + (*s - '0');
        if (v >= count) return -1;
    }
    return (int)v;
}

/* A file stem that cannot leave the directory: letters, digits, '_', '-', '.'; no leading '.'. */
static int safe_stem(const char *s) {
    if (*s == '\0' || *s == '.' || strlen(s) > 255) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.') return 0;
    return 1;
}

/* Records the row's image: an IDX index now, a PGM directory's id for loading later. */
static pl_status row_image(loader *L, const char *id, pl_user_row *row, pl_error *err) {
    if (!L->pgm_dir) {
        row->image = parse_index(id, L->idx.dims[0]);
        if (row->image < 0)
            return PL_ERROR(err, PL_ERR_FORMAT,
                            "%s:%d: image_id '%s' is not an image of %s (indices 0..%d)", L->tsv,
                            L->line, id, L->images, L->idx.dims[0] - 1);
        return PL_OK;
    }
    if (!safe_stem(id))
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s:%d: image_id '%s' is not a safe file name (letters, digits, '_', "
                        "'-' and '.', not starting with '.')",
                        L->tsv, L->line, id);
    size_t len = strlen(id) + 1;
    PL_TRY(reserve((void **)&L->names, &L->names_cap, L->names_len + len, 1, err));
    PL_TRY(reserve((void **)&L->name_at, &L->name_at_cap, (size_t)L->out.n_rows + 1,
                   sizeof(size_t), err));
    memcpy(L->names + L->names_len, id, len);
    L->name_at[L->out.n_rows] = L->names_len;
    L->names_len += len;
    return PL_OK;
}

/* Splits a line in place on tabs; returns the number of columns (up to MAX_COLUMNS + 1). */
static int split_columns(char *line, char **cols) {
    int n = 0;
    for (char *p = line; n <= MAX_COLUMNS; p++) {
        cols[n++] = p;
        p = strchr(p, '\t');
        if (p == NULL) break;
        *p = '\0';
    }
    return n;
}

static pl_status append_tokens(loader *L, const int *ids, int n, pl_error *err) {
    PL_TRY(reserve((void **)&L->out.tokens, &L->tokens_cap, L->tokens_len + (size_t)n,
                   sizeof(int), err));
    memcpy(L->out.tokens + L->tokens_len, ids, (size_t)n * sizeof(int));
    L->tokens_len += (size_t)n;
    return PL_OK;
}

/* Splits a content line into its columns and reads its split: the shape every row must
 * have, whoever reads it. */
static pl_status row_shape(const char *tsv, int line_no, char *line, char **cols, int *split,
                           pl_error *err) {
    int ncols = split_columns(line, cols);
    if (ncols < 3 || ncols > MAX_COLUMNS)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s:%d: expected 3 or 4 tab-separated columns (image_id, question, "
                        "answer[, split]), found %s%d",
                        tsv, line_no, ncols > MAX_COLUMNS ? "more than " : "",
                        ncols > MAX_COLUMNS ? MAX_COLUMNS : ncols);
    *split = ncols == 4 ? pl_split_parse(cols[3]) : PL_SPLIT_TEST;
    if (*split < 0 || *split >= PL_USER_SPLITS)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s:%d: split '%s' is not train, val or test (calib samples are the "
                        "train rows)",
                        tsv, line_no, cols[3]);
    return PL_OK;
}

static pl_status add_row(void *ctx, int line_no, char *line, pl_error *err) {
    loader *L = ctx;
    L->line = line_no;
    char *cols[MAX_COLUMNS + 1];
    int split;
    PL_TRY(row_shape(L->tsv, L->line, line, cols, &split, err));
    PL_TRY(reserve((void **)&L->out.rows, &L->rows_cap, (size_t)L->out.n_rows + 1,
                   sizeof(pl_user_row), err));
    pl_user_row *row = &L->out.rows[L->out.n_rows];
    memset(row, 0, sizeof *row);
    row->line = L->line;
    PL_TRY(row_image(L, cols[0], row, err));
    int ids[MAX_WORDS];
    PL_TRY(encode(L, "question", cols[1], L->question_len, "data.question_len", ids, &row->nq, err));
    row->qtype = question_type(ids, row->nq);
    if (row->qtype < 0)
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "%s:%d: question '%s' follows none of the templates " TEMPLATE_LIST,
                        L->tsv, L->line, cols[1]);
    row->text = L->tokens_len;
    PL_TRY(append_tokens(L, ids, row->nq, err));
    PL_TRY(encode(L, "answer", cols[2], L->answer_room,
                  "data.text_len - data.question_len - 2", ids, &row->na, err));
    PL_TRY(append_tokens(L, ids, row->na, err));
    row->split = split;
    L->out.split_size[split]++;
    L->out.n_rows++;
    return PL_OK;
}

/* Calls row(ctx, line number, text) for each content line of the TSV (not blank, not a '#'
 * comment, not the header), stopping at the first error; a TSV without one is an error. */
static pl_status each_row(const char *tsv, pl_status (*row)(void *, int, char *, pl_error *),
                          void *ctx, pl_error *err) {
    FILE *f;
    PL_TRY(pl_fopen_read(tsv, "the TSV", PL_OPEN_DATASET, &f, err));
    char line[PL_USER_MAX_LINE + 2];
    pl_status st = PL_OK;
    int line_no = 0, content_lines = 0, rows = 0;
    while (st == PL_OK && fgets(line, sizeof line, f) != NULL) {
        size_t n = strlen(line);
        if (line_no == INT_MAX) {
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s has more than %d lines", tsv, INT_MAX);
            break;
        }
        line_no++;
        if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
        else if (!feof(f)) {
            st = PL_ERROR(err, PL_ERR_FORMAT,
                          "%s:%d: the line is longer than %d bytes or holds a NUL byte", tsv,
                          line_no, PL_USER_MAX_LINE);
            break;
        }
        if (n > 0 && line[n - 1] == '\r') line[--n] = '\0';
        if (strspn(line, " \t") == n || line[0] == '#') continue;
        if (content_lines++ == 0 && strncmp(line, "image_id\t", 9) == 0) continue; /* header */
        if (rows == PL_USER_MAX_ROWS) {
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: more than %d samples in one TSV", tsv,
                          line_no, PL_USER_MAX_ROWS);
            break;
        }
        rows++;
        st = row(ctx, line_no, line, err);
    }
    if (st == PL_OK && ferror(f)) st = PL_ERROR(err, PL_ERR_IO, "cannot read %s", tsv);
    fclose(f);
    if (st == PL_OK && rows == 0)
        st = PL_ERROR(err, PL_ERR_FORMAT,
                      "%s holds no samples (one a line: image_id, question, answer[, split], "
                      "separated by tabs)",
                      tsv);
    return st;
}

typedef struct {
    const char *tsv;
    int *split_size;
} counter;

static pl_status count_row(void *ctx, int line_no, char *line, pl_error *err) {
    counter *c = ctx;
    char *cols[MAX_COLUMNS + 1];
    int split;
    PL_TRY(row_shape(c->tsv, line_no, line, cols, &split, err));
    c->split_size[split]++;
    return PL_OK;
}

pl_status pl_user_data_count(const char *tsv, int split_size[PL_USER_SPLITS], pl_error *err) {
    for (int s = 0; s < PL_USER_SPLITS; s++) split_size[s] = 0;
    counter c = {tsv, split_size};
    return each_row(tsv, count_row, &c, err);
}

/* Decides between a PGM directory and an IDX file, and loads the IDX file. */
static pl_status open_images(loader *L, pl_error *err) {
    struct stat sb;
    if (stat(L->images, &sb) != 0)
        return PL_ERROR(err, errno == ENOENT ? PL_ERR_MISSING : PL_ERR_IO,
                        "cannot read the images %s: %s", L->images, strerror(errno));
    L->pgm_dir = S_ISDIR(sb.st_mode);
    if (L->pgm_dir) return PL_OK;
    PL_TRY(pl_idx_load(L->images, &L->idx, err));
    if (L->idx.ndim != 3 || L->idx.dims[1] != SCENE_SIDE || L->idx.dims[2] != SCENE_SIDE) {
        char shape[64] = "";
        for (int d = 0, at = 0; d < L->idx.ndim; d++)
            at += snprintf(shape + at, sizeof shape - (size_t)at, "%s%d", d ? " x " : "",
                           L->idx.dims[d]);
        return PL_ERROR(err, PL_ERR_FORMAT,
                        "the images %s must be an IDX array of N x %d x %d; it is %s", L->images,
                        SCENE_SIDE, SCENE_SIDE, shape);
    }
    return PL_OK;
}

typedef struct {
    const char *name;
    int row;
} named_row;

static int by_name_then_row(const void *a, const void *b) {
    const named_row *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* Reads each distinct image id's PGM once, in name order, and points the rows at it. */
static pl_status load_pgms(loader *L, pl_error *err) {
    const int n = L->out.n_rows;
    named_row *order = pl_alloc((size_t)n, sizeof *order, err);
    if (order == NULL) return PL_ERR_NOMEM;
    for (int r = 0; r < n; r++) order[r] = (named_row){L->names + L->name_at[r], r};
    qsort(order, (size_t)n, sizeof *order, by_name_then_row);
    int distinct = 0;
    for (int i = 0; i < n; i++) distinct += i == 0 || strcmp(order[i].name, order[i - 1].name);
    L->out.images = pl_alloc((size_t)distinct * SCENE_PIXELS, 1, err);
    pl_status st = L->out.images ? PL_OK : PL_ERR_NOMEM;
    for (int i = 0; st == PL_OK && i < n; i++) {
        pl_user_row *row = &L->out.rows[order[i].row];
        if (i > 0 && strcmp(order[i].name, order[i - 1].name) == 0) {
            row->image = L->out.n_images - 1;
            continue;
        }
        row->image = L->out.n_images++;
        char path[MAX_PATH];
        if (snprintf(path, sizeof path, "%s/%s.pgm", L->images, order[i].name) >= MAX_PATH) {
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: the image path %s/%s.pgm is too long",
                          L->tsv, row->line, L->images, order[i].name);
            break;
        }
        st = pl_pgm_read(path, SCENE_SIDE, SCENE_SIDE,
                         L->out.images + (size_t)row->image * SCENE_PIXELS, err);
        if (st != PL_OK) pl_error_wrap(err, "%s:%d: image_id '%s'", L->tsv, row->line, order[i].name);
    }
    pl_free(order);
    return st;
}

/* Lists each split's rows in file order. */
static pl_status build_splits(pl_user_data *u, pl_error *err) {
    int filled[PL_USER_SPLITS] = {0};
    for (int s = 0; s < PL_USER_SPLITS; s++)
        if ((u->split_rows[s] = pl_alloc((size_t)u->split_size[s] + 1, sizeof(int), err)) == NULL)
            return PL_ERR_NOMEM;
    for (int r = 0; r < u->n_rows; r++) {
        int s = u->rows[r].split;
        u->split_rows[s][filled[s]++] = r;
    }
    return PL_OK;
}

pl_status pl_user_data_load(const char *tsv, const char *images, int question_len,
                            int answer_room, pl_user_data *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    loader L = {.tsv = tsv, .images = images, .question_len = question_len,
                .answer_room = answer_room};
    pl_status st = open_images(&L, err);
    if (st == PL_OK) st = each_row(tsv, add_row, &L, err);
    if (st == PL_OK && L.pgm_dir) st = load_pgms(&L, err);
    if (st == PL_OK && !L.pgm_dir) {
        L.out.images = L.idx.data;
        L.out.n_images = L.idx.dims[0];
        L.idx.data = NULL;
    }
    if (st == PL_OK) st = build_splits(&L.out, err);
    pl_free(L.names);
    pl_free(L.name_at);
    pl_idx_free(&L.idx);
    if (st != PL_OK) {
        pl_user_data_free(&L.out);
        return st;
    }
    *out = L.out;
    return PL_OK;
}

void pl_user_data_free(pl_user_data *u) {
    pl_free(u->rows);
    pl_free(u->tokens);
    pl_free(u->images);
    for (int s = 0; s < PL_USER_SPLITS; s++) pl_free(u->split_rows[s]);
    memset(u, 0, sizeof *u);
}

const pl_user_row *pl_user_data_row(const pl_user_data *u, int split, int64_t index) {
    if (split < 0 || split >= PL_USER_SPLITS || index < 0 || u->split_size[split] == 0)
        return NULL;
    if (split == PL_SPLIT_TRAIN) index %= u->split_size[split];
    else if (index >= u->split_size[split]) return NULL;
    return &u->rows[u->split_rows[split][index]];
}
