/* questions.c - the question templates and their answers, computed from cell labels. */
#include "data/questions.h"

#include <string.h>

#include "data/scenes.h"
#include "data/tokenizer.h"

static const int CLASS_WORD[10] = {
    TOK_TSHIRT, TOK_TROUSER, TOK_PULLOVER, TOK_DRESS, TOK_COAT,
    TOK_SANDAL, TOK_SHIRT,   TOK_SNEAKER,  TOK_BAG,   TOK_BOOT,
};
static const int CLASS_PLURAL[10] = {
    TOK_TSHIRTS, TOK_TROUSERS, TOK_PULLOVERS, TOK_DRESSES, TOK_COATS,
    TOK_SANDALS, TOK_SHIRTS,   TOK_SNEAKERS,  TOK_BAGS,    TOK_BOOTS,
};
enum { CLASS_ANKLE_BOOT = 9 };
static const int COUNT_WORD[5] = {TOK_ZERO, TOK_ONE, TOK_TWO, TOK_THREE, TOK_FOUR};

int pl_class_tokens(int cls, int *ids) {
    if (cls < 0 || cls >= 10) {
        ids[0] = TOK_NOTHING;
        return 1;
    }
    int n = 0;
    if (cls == CLASS_ANKLE_BOOT) ids[n++] = TOK_ANKLE;
    ids[n++] = CLASS_WORD[cls];
    return n;
}

static int plural_tokens(int cat, int *ids) {
    if (cat == PL_CATEGORY_SHOES) return ids[0] = TOK_SHOES, 1;
    if (cat == PL_CATEGORY_TOPS) return ids[0] = TOK_TOPS, 1;
    if (cat == PL_CATEGORY_ITEMS) return ids[0] = TOK_ITEMS, 1;
    int n = 0;
    if (cat == CLASS_ANKLE_BOOT) ids[n++] = TOK_ANKLE;
    ids[n++] = CLASS_PLURAL[cat];
    return n;
}

static int position_tokens(int cell, int *ids) {
    ids[0] = pl_cell_row(cell) == 0 ? TOK_TOP : TOK_BOTTOM;
    ids[1] = pl_cell_col(cell) == 0 ? TOK_LEFT : TOK_RIGHT;
    return 2;
}

int pl_category_has(int cat, int cls) {
    if (cls < 0 || cls >= 10) return 0;
    if (cat < 10) return cat == cls;
    if (cat == PL_CATEGORY_SHOES) return cls == 5 || cls == 7 || cls == 9;
    if (cat == PL_CATEGORY_TOPS) return cls == 0 || cls == 2 || cls == 4 || cls == 6;
    return cat == PL_CATEGORY_ITEMS;
}

int pl_qtype_pick(const float mix[QTYPE_COUNT_TYPES], pl_rng_cursor *c) {
    float total = 0.0f;
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) total += mix[t];
    float u = pl_cursor_uniform(c) * total;
    int last = QTYPE_WHAT;
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) {
        if (mix[t] <= 0.0f) continue;
        last = t;
        if (u < mix[t]) return t;
        u -= mix[t];
    }
    return last; /* rounding at the top end */
}

/* Appends words to the question. */
static void q_add(pl_qa *qa, const int *ids, int n) {
    for (int i = 0; i < n; i++) qa->question[qa->nq++] = ids[i];
}
static void a_add(pl_qa *qa, const int *ids, int n) {
    for (int i = 0; i < n; i++) qa->answer[qa->na++] = ids[i];
}

static void make_what(const int *cells, pl_rng_cursor *c, pl_qa *qa) {
    int cell = (int)pl_cursor_below(c, SCENE_CELLS);
    int pos[2], cls[2];
    int np = position_tokens(cell, pos);
    q_add(qa, (const int[]){TOK_WHAT, TOK_IS, TOK_IN, TOK_THE}, 4);
    q_add(qa, pos, np);
    q_add(qa, (const int[]){TOK_QUESTION_MARK}, 1);
    a_add(qa, cls, pl_class_tokens(cells[cell], cls));
}

static void make_exists(const int *cells, pl_rng_cursor *c, pl_qa *qa) {
    int present[10] = {0}, npresent_cells = 0;
    for (int k = 0; k < SCENE_CELLS; k++)
        if (cells[k] != CELL_EMPTY) present[cells[k]] = 1, npresent_cells++;
    int want_yes = pl_cursor_uniform(c) < 0.5f && npresent_cells > 0;
    int cls;
    if (want_yes) {
        /* A filled cell at random: classes that appear twice are asked about more often. */
        int pick = (int)pl_cursor_below(c, (uint32_t)npresent_cells);
        cls = -1;
        for (int k = 0; k < SCENE_CELLS && cls < 0; k++)
            if (cells[k] != CELL_EMPTY && pick-- == 0) cls = cells[k];
    } else {
        int absent[10], nabsent = 0;
        for (int k = 0; k < 10; k++)
            if (!present[k]) absent[nabsent++] = k;
        cls = absent[pl_cursor_below(c, (uint32_t)nabsent)]; /* at least 6 classes absent */
    }
    int words[2];
    int nw = pl_class_tokens(cls, words);
    q_add(qa, (const int[]){TOK_IS, TOK_THERE, cls == CLASS_ANKLE_BOOT ? TOK_AN : TOK_A}, 3);
    q_add(qa, words, nw);
    q_add(qa, (const int[]){TOK_QUESTION_MARK}, 1);
    a_add(qa, (const int[]){present[cls] ? TOK_YES : TOK_NO}, 1);
}

static int category_count(const int *cells, int cat) {
    int n = 0;
    for (int k = 0; k < SCENE_CELLS; k++) n += pl_category_has(cat, cells[k]);
    return n;
}

static void make_howmany(const int *cells, pl_rng_cursor *c, pl_qa *qa) {
    /* Half the time a category that is present, so "zero" does not dominate the answers. */
    int nonzero[PL_CATEGORIES], nn = 0;
    for (int cat = 0; cat < PL_CATEGORIES; cat++)
        if (category_count(cells, cat) > 0) nonzero[nn++] = cat;
    int from_present = pl_cursor_uniform(c) < 0.5f;
    uint32_t pick_present = pl_cursor_below(c, nn > 0 ? (uint32_t)nn : 1u);
    uint32_t pick_any = pl_cursor_below(c, PL_CATEGORIES);
    int cat = from_present && nn > 0 ? nonzero[pick_present] : (int)pick_any;
    int words[2];
    int nw = plural_tokens(cat, words);
    q_add(qa, (const int[]){TOK_HOW, TOK_MANY}, 2);
    q_add(qa, words, nw);
    q_add(qa, (const int[]){TOK_QUESTION_MARK}, 1);
    a_add(qa, &COUNT_WORD[category_count(cells, cat)], 1);
}

/* Cells whose class appears exactly once in the scene; returns how many. */
static int unique_cells(const int *cells, int *out) {
    int n = 0;
    for (int k = 0; k < SCENE_CELLS; k++) {
        if (cells[k] == CELL_EMPTY) continue;
        int same = 0;
        for (int j = 0; j < SCENE_CELLS; j++) same += cells[j] == cells[k];
        if (same == 1) out[n++] = k;
    }
    return n;
}

static void make_where(const int *cells, int cell, pl_qa *qa) {
    int words[2], pos[2];
    int nw = pl_class_tokens(cells[cell], words);
    q_add(qa, (const int[]){TOK_WHERE, TOK_IS, TOK_THE}, 3);
    q_add(qa, words, nw);
    q_add(qa, (const int[]){TOK_QUESTION_MARK}, 1);
    a_add(qa, pos, position_tokens(cell, pos));
}

static void make_relation(const int *cells, int cell, pl_rng_cursor *c, pl_qa *qa) {
    int row = pl_cell_row(cell), col = pl_cell_col(cell);
    int vertical = pl_cursor_uniform(c) < 0.5f;
    int other, rel[2], nrel;
    if (vertical) {
        other = pl_cell_at(1 - row, col);
        rel[0] = row == 0 ? TOK_BELOW : TOK_ABOVE; /* the neighbour is below / above X */
        nrel = 1;
    } else {
        other = pl_cell_at(row, 1 - col);
        rel[0] = col == 0 ? TOK_RIGHT : TOK_LEFT; /* the neighbour is right / left of X */
        rel[1] = TOK_OF;
        nrel = 2;
    }
    int words[2], ans[2];
    int nw = pl_class_tokens(cells[cell], words);
    q_add(qa, (const int[]){TOK_WHAT, TOK_IS}, 2);
    q_add(qa, rel, nrel);
    q_add(qa, (const int[]){TOK_THE}, 1);
    q_add(qa, words, nw);
    q_add(qa, (const int[]){TOK_QUESTION_MARK}, 1);
    a_add(qa, ans, pl_class_tokens(cells[other], ans));
}

static void make_caption(const int *cells, pl_qa *qa) {
    q_add(qa, (const int[]){TOK_DESCRIBE, TOK_THE, TOK_IMAGE, TOK_PERIOD}, 4);
    for (int k = 0; k < SCENE_CELLS; k++) {
        int words[2];
        a_add(qa, words, pl_class_tokens(cells[k], words));
    }
}

void pl_question_make(const int cells[SCENE_CELLS], int type,
                      const float mix[QTYPE_COUNT_TYPES], pl_rng_cursor *c, pl_qa *out) {
    memset(out, 0, sizeof *out);
    if (type == QTYPE_WHERE || type == QTYPE_RELATION) {
        int uniq[SCENE_CELLS];
        int nu = unique_cells(cells, uniq);
        if (nu > 0) {
            int cell = uniq[pl_cursor_below(c, (uint32_t)nu)];
            out->type = type;
            if (type == QTYPE_WHERE) make_where(cells, cell, out);
            else make_relation(cells, cell, c, out);
            return;
        }
        float fallback[QTYPE_COUNT_TYPES] = {0};
        float total = 0.0f;
        const int always[] = {QTYPE_WHAT, QTYPE_EXISTS, QTYPE_HOWMANY, QTYPE_CAPTION};
        for (int i = 0; i < 4; i++) total += fallback[always[i]] = mix[always[i]];
        type = total > 0.0f ? pl_qtype_pick(fallback, c) : QTYPE_WHAT;
    }
    out->type = type;
    switch (type) {
    case QTYPE_EXISTS: make_exists(cells, c, out); break;
    case QTYPE_HOWMANY: make_howmany(cells, c, out); break;
    case QTYPE_CAPTION: make_caption(cells, out); break;
    default: out->type = QTYPE_WHAT; make_what(cells, c, out); break;
    }
}

int pl_parse_class_list(const int *ids, int n, int *classes, int max) {
    int count = 0;
    for (int i = 0; i < n && count < max; i++) {
        int t = ids[i];
        if (t == TOK_EOS || t == TOK_PAD) break;
        int cls = -1;
        if (t == TOK_NOTHING) cls = CELL_EMPTY;
        else if (t == TOK_ANKLE && i + 1 < n && ids[i + 1] == TOK_BOOT) cls = CLASS_ANKLE_BOOT, i++;
        else
            for (int k = 0; k < CLASS_ANKLE_BOOT; k++)
                if (CLASS_WORD[k] == t) cls = k;
        if (cls < 0) break;
        classes[count++] = cls;
    }
    return count;
}
