/* test_data_questions.c - tokenizer round trip, the batch row layout, every question type's
 * answer checked against the cell labels, question-mix weights, and scoring helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "data/dataset.h"
#include "data/questions.h"
#include "data/scoring.h"
#include "data/tokenizer.h"

Test(data_tokenizer, vocabulary_is_complete_unique_and_round_trips) {
    cr_assert_eq(TOK_PAD, 0);
    for (int i = 0; i < PL_VOCAB_SIZE; i++) {
        const char *w = pl_token_word(i);
        cr_assert_not_null(w, "token %d has no word", i);
        if (i != TOK_UNK) cr_assert_eq(pl_token_lookup(w, strlen(w)), i, "word %s", w);
        for (int j = 0; j < i; j++) cr_assert_str_neq(w, pl_token_word(j));
    }
    cr_assert_null(pl_token_word(PL_VOCAB_SIZE));
    const char *text = "what is left of the ankle boot ?";
    int ids[16], unknown;
    pl_error err;
    int n = pl_tokenize(text, ids, 16, &unknown, &err);
    cr_assert_eq(n, 8);
    cr_assert_eq(unknown, 0);
    cr_assert_eq(ids[5], TOK_ANKLE);
    char back[128];
    cr_assert_eq(pl_detokenize(ids, n, back, sizeof back), strlen(text));
    cr_assert_str_eq(back, text);
    n = pl_tokenize("  is there a  hat ?", ids, 16, &unknown, &err);
    cr_assert_eq(n, 5);
    cr_assert_eq(unknown, 1);
    cr_assert_eq(ids[3], TOK_UNK);
    cr_assert_eq(pl_tokenize("a a a", ids, 2, NULL, &err), -1);
    pl_detokenize(ids, 2, back, 3); /* truncation stays terminated */
    cr_assert_str_eq(back, "a"); /* "a a" needs 4 bytes */
}

static pl_data data;
static void open_data(void) {
    pl_data_config cfg;
    pl_data_config_default(&cfg);
    pl_error err;
    cr_assert_eq(pl_data_open(&data, &cfg, &err), PL_OK, "%s", err.message);
}
static void close_data(void) { pl_data_close(&data); }
TestSuite(data_questions, .init = open_data, .fini = close_data);

/* Position words at q[i], q[i+1] -> cell. */
static int parse_position(const int *q) {
    return (q[0] == TOK_BOTTOM) * 2 + (q[1] == TOK_RIGHT);
}
static int plural_category(const int *q) {
    static const int plural[10] = {TOK_TSHIRTS, TOK_TROUSERS, TOK_PULLOVERS, TOK_DRESSES, TOK_COATS,
                                   TOK_SANDALS, TOK_SHIRTS, TOK_SNEAKERS, TOK_BAGS, TOK_BOOTS};
    if (q[0] == TOK_SHOES) return PL_CATEGORY_SHOES;
    if (q[0] == TOK_TOPS) return PL_CATEGORY_TOPS;
    if (q[0] == TOK_ITEMS) return PL_CATEGORY_ITEMS;
    if (q[0] == TOK_ANKLE) return 9;
    for (int c = 0; c < 10; c++)
        if (plural[c] == q[0]) return c;
    return -1;
}
static int one_class(const int *ids) {
    int cls;
    cr_assert_eq(pl_parse_class_list(ids, 2, &cls, 1), 1);
    return cls;
}

/* Checks one row's layout and that its answer follows from its cells. */
static void check_row(const pl_batch *b, int r, int *seen) {
    const int T = b->text_len, S = b->answer_start;
    const int *tok = b->tokens + (size_t)r * T, *tgt = b->targets + (size_t)r * T;
    const int *cells = b->cells + (size_t)r * SCENE_CELLS;
    cr_assert_eq(tok[S], TOK_SEP);
    int eos = S + 1;
    while (eos < T && tok[eos] != TOK_EOS) eos++;
    cr_assert_lt(eos, T, "row has an EOS");
    cr_assert_leq(eos - S - 1, 10, "answers have at most 10 tokens");
    for (int p = 0; p < T; p++) {
        if (p >= S && p < eos) cr_assert_eq(tgt[p], tok[p + 1]);
        else cr_assert_eq(tgt[p], -1);
        if (p > eos) cr_assert_eq(tok[p], TOK_PAD);
    }
    cr_assert_eq(tgt[eos - 1], TOK_EOS);
    int nq = 0;
    while (nq < S && tok[nq] != TOK_PAD) nq++;
    for (int p = nq; p < S; p++) cr_assert_eq(tok[p], TOK_PAD);
    const int *a = tok + S + 1;
    int na = eos - S - 1;
    int type = b->qtype[r];
    seen[type]++;
    int count_of[CELL_CLASSES] = {0};
    for (int k = 0; k < SCENE_CELLS; k++) count_of[cells[k]]++;
    switch (type) {
    case QTYPE_WHAT: {
        cr_assert_eq(tok[0], TOK_WHAT);
        cr_assert_eq(tok[2], TOK_IN);
        cr_assert_eq(one_class(a), cells[parse_position(tok + 4)]);
        break;
    }
    case QTYPE_EXISTS: {
        cr_assert_eq(tok[0], TOK_IS);
        int cls = one_class(tok + 3);
        cr_assert_eq(a[0], count_of[cls] > 0 ? TOK_YES : TOK_NO);
        break;
    }
    case QTYPE_HOWMANY: {
        int cat = plural_category(tok + 2);
        cr_assert_geq(cat, 0);
        int n = 0;
        for (int k = 0; k < SCENE_CELLS; k++) n += pl_category_has(cat, cells[k]);
        cr_assert_eq(a[0], TOK_ZERO + n);
        break;
    }
    case QTYPE_WHERE: {
        cr_assert_eq(tok[0], TOK_WHERE);
        int cls = one_class(tok + 3);
        cr_assert_eq(count_of[cls], 1, "where asks about a unique item");
        cr_assert_eq(cells[parse_position(a)], cls);
        break;
    }
    case QTYPE_RELATION: {
        cr_assert_eq(tok[0], TOK_WHAT);
        int d = tok[2], off = d == TOK_LEFT || d == TOK_RIGHT ? 5 : 4;
        int cls = one_class(tok + off);
        cr_assert_eq(count_of[cls], 1, "relation anchors on a unique item");
        int anchor = 0;
        while (cells[anchor] != cls) anchor++;
        int row = anchor / 2, col = anchor % 2, other;
        int want_row = row, want_col = col;
        if (d == TOK_LEFT) want_col = 1, other = anchor - 1;
        else if (d == TOK_RIGHT) want_col = 0, other = anchor + 1;
        else if (d == TOK_ABOVE) want_row = 1, other = anchor - 2;
        else want_row = 0, other = anchor + 2;
        cr_assert(d == TOK_LEFT || d == TOK_RIGHT || d == TOK_ABOVE || d == TOK_BELOW);
        cr_assert_eq(row, want_row, "the asked direction has a cell");
        cr_assert_eq(col, want_col, "the asked direction has a cell");
        cr_assert_eq(one_class(a), cells[other]);
        break;
    }
    case QTYPE_CAPTION: {
        int got[SCENE_CELLS];
        cr_assert_eq(pl_parse_class_list(a, na, got, SCENE_CELLS), SCENE_CELLS);
        cr_assert_arr_eq(got, cells, sizeof got);
        break;
    }
    default: cr_assert_fail("bad qtype %d", type);
    }
}

Test(data_questions, every_type_answers_from_the_cells) {
    pl_error err;
    pl_batch b;
    int seen[QTYPE_COUNT_TYPES] = {0}, yes = 0, exists = 0;
    cr_assert_eq(pl_data_batch_alloc(&data, &b, 500, &err), PL_OK);
    for (int split = 0; split < PL_SPLIT_COUNT; split++) {
        cr_assert_eq(pl_data_fill_batch(&data, split, 0, 500, &b, &err), PL_OK);
        for (int r = 0; r < b.size; r++) {
            check_row(&b, r, seen);
            if (b.qtype[r] == QTYPE_EXISTS)
                exists++, yes += b.tokens[r * b.text_len + b.answer_start + 1] == TOK_YES;
        }
    }
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++) cr_assert_gt(seen[t], 150, "type %d seen %d", t, seen[t]);
    double rate = (double)yes / exists;
    cr_assert(rate > 0.4 && rate < 0.6, "exists answers yes %.2f of the time", rate);
    pl_batch_free(&b);
}

Test(data_questions, mix_weights_are_respected) {
    pl_error err;
    pl_batch b;
    cr_assert_eq(pl_data_batch_alloc(&data, &b, 1000, &err), PL_OK);
    float mix[QTYPE_COUNT_TYPES] = {1, 0, 2, 0, 1, 0};
    memcpy(data.config.mix, mix, sizeof mix);
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TRAIN, 0, 1000, &b, &err), PL_OK);
    int seen[QTYPE_COUNT_TYPES] = {0};
    for (int r = 0; r < b.size; r++) seen[b.qtype[r]]++;
    cr_assert_eq(seen[QTYPE_EXISTS] + seen[QTYPE_WHERE] + seen[QTYPE_CAPTION], 0);
    /* howmany has twice the weight of what; relation falls back to what/howmany sometimes */
    cr_assert_gt(seen[QTYPE_HOWMANY], seen[QTYPE_WHAT]);
    cr_assert_gt(seen[QTYPE_RELATION], 150);
    float only_caption[QTYPE_COUNT_TYPES] = {0, 0, 0, 0, 0, 1};
    memcpy(data.config.mix, only_caption, sizeof mix);
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TEST, 0, 200, &b, &err), PL_OK);
    for (int r = 0; r < b.size; r++) cr_assert_eq(b.qtype[r], QTYPE_CAPTION);
    pl_batch_free(&b);
}

Test(data_questions, scoring_exact_match_and_caption_slots) {
    pl_error err;
    pl_batch b;
    float only_caption[QTYPE_COUNT_TYPES] = {0, 0, 0, 0, 0, 1};
    memcpy(data.config.mix, only_caption, sizeof only_caption);
    cr_assert_eq(pl_data_batch_alloc(&data, &b, 4, &err), PL_OK);
    cr_assert_eq(pl_data_fill_batch(&data, PL_SPLIT_TEST, 0, 4, &b, &err), PL_OK);
    const int T = b.text_len, S = b.answer_start;
    int pred[64];
    for (int p = 0; p < T; p++) pred[p] = b.targets[p] >= 0 ? b.targets[p] : TOK_PAD;
    cr_assert_eq(pl_score_exact(pred, b.targets, T), 1);
    cr_assert_float_eq(pl_score_caption_slots(pred, b.targets, T, S, b.cells), 1.0f, 1e-6);
    /* pred[S] is the first answer word: replace the first cell's name by a wrong one */
    int wrong = b.cells[0] == CELL_EMPTY ? TOK_BAG : TOK_NOTHING;
    int first[2];
    int n0 = pl_class_tokens(b.cells[0], first);
    int fixed[64], m = 0;
    fixed[m++] = wrong;
    for (int p = S + n0; p < T && m < T - S; p++) fixed[m++] = pred[p];
    memcpy(pred + S, fixed, (size_t)(T - S) * sizeof(int));
    if (b.cells[0] == 8) pred[S] = TOK_COAT;
    cr_assert_eq(pl_score_exact(pred, b.targets, T), 0);
    cr_assert_float_eq(pl_score_caption_slots(pred, b.targets, T, S, b.cells), 0.75f, 1e-6);
    pl_baseline bl;
    cr_assert_eq(pl_majority_baseline(&data, PL_SPLIT_TEST, 300, &bl, &err), PL_OK);
    cr_assert_eq(bl.samples[QTYPE_CAPTION], 300);
    cr_assert_lt(bl.accuracy[QTYPE_CAPTION], 0.1f);
    pl_batch_free(&b);
}
