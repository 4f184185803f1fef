/* user_data.h - a user's own data: a TSV of (image_id, question, answer[, split]) samples
 * and the 56x56 images they refer to, loaded into memory and checked line by line.
 *
 * The TSV has one sample a line, its columns separated by tabs:
 *     image_id <TAB> question <TAB> answer [<TAB> split]
 * split is train, val or test (test when the column is absent). Blank lines, lines starting
 * with '#' and a first line starting with "image_id<TAB>" (a header) are skipped. Question
 * and answer are words of the fixed vocabulary (data/tokenizer.h; `prunelab data vocab`
 * lists them) separated by spaces. The question must fit question_len tokens and the answer
 * answer_room tokens (text_len - question_len - 2, what pl_batch_set_text accepts). The
 * question type is read from the template the question starts with (data/questions.h):
 *     how many ...                                howmany
 *     is there ...                                exists
 *     where ...                                   where
 *     describe ...                                caption
 *     what is in ...                              what
 *     what is left of|right of|above|below ...    relation
 *
 * `images` is either
 *   - a directory: image_id names <dir>/<image_id>.pgm, a binary 8-bit 56x56 PGM, and must
 *     be a file stem of letters, digits, '_', '-' and '.' that does not start with '.'; or
 *   - an IDX file (gzipped or plain) of N x 56 x 56 unsigned bytes: image_id is an index
 *     0..N-1.
 * A PGM read by several rows is held once. Every error names the TSV file and line (or the
 * image file) and the offending value. */
#ifndef PL_DATA_USER_DATA_H
#define PL_DATA_USER_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "data/split.h"

/* A row's split is PL_SPLIT_TRAIN, PL_SPLIT_VAL or PL_SPLIT_TEST (data/split.h). */
enum { PL_USER_SPLITS = PL_SPLIT_CALIB };

/* Limits against absurd inputs: bytes in one TSV line, samples in one TSV. */
enum { PL_USER_MAX_LINE = 4096, PL_USER_MAX_ROWS = 1 << 20 };

typedef struct {
    int image;   /* index into pl_user_data.images */
    int split;   /* PL_SPLIT_TRAIN, PL_SPLIT_VAL or PL_SPLIT_TEST */
    int qtype;   /* pl_qtype read from the question's template */
    int nq, na;  /* question and answer tokens (the answer without EOS) */
    size_t text; /* offset in pl_user_data.tokens: the question, then the answer */
    int line;    /* the row's line in the TSV */
} pl_user_row;

typedef struct {
    int n_rows, n_images;
    pl_user_row *rows;               /* in file order */
    int *tokens;                     /* every row's question and answer */
    uint8_t *images;                 /* [n_images, 56, 56], raw 0..255 */
    int split_size[PL_USER_SPLITS];  /* rows of each split */
    int *split_rows[PL_USER_SPLITS]; /* their indices in rows, in file order */
} pl_user_data;

/* Loads the TSV and the images it refers to. On failure out is left empty. */
pl_status pl_user_data_load(const char *tsv, const char *images, int question_len,
                            int answer_room, pl_user_data *out, pl_error *err);

/* Counts each split's rows of a TSV without reading the images or the words: the lines,
 * columns and split column pl_user_data_load reads, with its errors for those (the others
 * wait for the load). For the checks made before anything runs (engine/preflight.h). */
pl_status pl_user_data_count(const char *tsv, int split_size[PL_USER_SPLITS], pl_error *err);

void pl_user_data_free(pl_user_data *u);

/* The row of sample `index` of split train, val or test: val and test hold indices
 * 0..size-1; train is unbounded, index i being train row i mod size. NULL if the split has
 * no such sample. */
const pl_user_row *pl_user_data_row(const pl_user_data *u, int split, int64_t index);

#endif
