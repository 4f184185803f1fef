/* questions.h - question/answer templates over a scene's four cell labels.
 *
 * Types and templates (X a class, C a category, P a position):
 *   what     "what is in the P ?"          -> X or "nothing"
 *   exists   "is there a|an X ?"           -> "yes" / "no"  (drawn ~50/50)
 *   howmany  "how many C ?"                -> "zero" .. "four"
 *   where    "where is the X ?"            -> P  (X present exactly once)
 *   relation "what is left of|right of|above|below the X ?" -> X' or "nothing"
 *            (X present exactly once; the asked direction always has a cell)
 *   caption  "describe the image ."        -> the four cells in reading order
 * Classes: t-shirt trouser pullover dress coat sandal shirt sneaker bag "ankle boot".
 * Categories: each class (plural), "shoes" (sandal, sneaker, ankle boot), "tops" (t-shirt,
 * pullover, coat, shirt), "items" (any item). Positions: "top left", "top right",
 * "bottom left", "bottom right".
 * A where or relation question needs a class present exactly once; when the scene has none,
 * another type is drawn from the mix among the always-possible types (what, exists,
 * howmany, caption), or what-is-at if all of those have weight 0. */
#ifndef PL_DATA_QUESTIONS_H
#define PL_DATA_QUESTIONS_H

#include "core/rng.h"
#include "data/batch.h"

enum { PL_QUESTION_MAX = 10, PL_ANSWER_MAX = 10, PL_CATEGORIES = 13 };
enum { PL_CATEGORY_SHOES = 10, PL_CATEGORY_TOPS = 11, PL_CATEGORY_ITEMS = 12 };

typedef struct {
    int type;   /* pl_qtype actually generated */
    int nq, na; /* lengths of question and answer (answer without EOS) */
    int question[PL_QUESTION_MAX];
    int answer[PL_ANSWER_MAX];
} pl_qa;

/* Draws a question type with probability proportional to mix[type]. Weights must be >= 0
 * with a positive sum (validated by the data config). */
int pl_qtype_pick(const float mix[QTYPE_COUNT_TYPES], pl_rng_cursor *c);

/* Makes a question of type `type` (or a fallback, see above) about a scene's cells. */
void pl_question_make(const int cells[SCENE_CELLS], int type,
                      const float mix[QTYPE_COUNT_TYPES], pl_rng_cursor *c, pl_qa *out);

/* Writes the words of class 0..9, or "nothing" for CELL_EMPTY, into ids; returns the count. */
int pl_class_tokens(int cls, int *ids);

/* Whether class cls (0..9) belongs to category cat (0..PL_CATEGORIES-1). */
int pl_category_has(int cat, int cls);

/* Parses a token sequence as a list of classes / "nothing" (CELL_EMPTY), stopping at EOS,
 * PAD or the end. Writes at most max entries; an unparseable word ends the list. Returns
 * the number of entries parsed. Used for per-slot caption scoring. */
int pl_parse_class_list(const int *ids, int n, int *classes, int max);

#endif
