/* cmd_data.c - `prunelab data show`: prints a few samples (generated fashion-scenes, or a
 * user's own files) and writes one image as a PGM, so a person can check what the model
 * sees; `data baseline`: majority-answer accuracies; `data vocab`: the words a user's TSV
 * may use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "data/dataset.h"
#include "data/pgm.h"
#include "data/scoring.h"
#include "data/tokenizer.h"

static const char *const CELL_NAMES[CELL_CLASSES] = {
    "t-shirt", "trouser", "pullover", "dress", "coat", "sandal",
    "shirt", "sneaker", "bag", "ankle boot", "-",
};

static void usage(FILE *out) {
    fprintf(out,
            "usage: prunelab data show [--split train|val|test|calib] [--n N] [--index I]\n"
            "                          [--out scene.pgm] [--seed S] [--path DIR]\n"
            "                          [--tsv FILE --images IDX|DIR]\n"
            "  prints N samples starting at index I (question, answer, type, cell labels)\n"
            "  and writes the first one's 56x56 image as a binary PGM (default scene.pgm)\n"
            "       prunelab data baseline [--split test|val] [--path DIR] [--tsv FILE --images IDX|DIR]\n"
            "  majority-answer accuracy per question type\n"
            "       prunelab data vocab\n"
            "  the vocabulary: every word a question or answer of your own TSV may use\n"
            "  --tsv and --images read your own data (data.tsv and data.images of a config)\n"
            "  instead of the generated scenes from the Fashion-MNIST directory --path\n");
}

/* Handles the options that choose the data's source; 0 if `a` is not one of them. */
static int source_option(const char *a, const char *v, pl_data_config *cfg) {
    const struct {
        const char *flag;
        char *dst;
        size_t cap;
    } options[] = {{"--path", cfg->path, sizeof cfg->path},
                   {"--tsv", cfg->tsv, sizeof cfg->tsv},
                   {"--images", cfg->images, sizeof cfg->images}};
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strcmp(a, options[i].flag) == 0) {
            snprintf(options[i].dst, options[i].cap, "%s", v);
            return 1;
        }
    return 0;
}

static int show(int argc, char **argv) {
    pl_data_config cfg;
    pl_data_config_default(&cfg);
    const char *split_name = "test", *out = "scene.pgm";
    int n = 4;
    long long first = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return usage(stdout), 0;
        if (v == NULL) {
            fprintf(stderr, "prunelab data show: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (strcmp(a, "--split") == 0) split_name = v;
        else if (strcmp(a, "--n") == 0) {
            long long x;
            if (!cli_int("data show", "--n", v, 1, 1000, &x)) return 2;
            n = (int)x;
        } else if (strcmp(a, "--index") == 0) {
            if (!cli_int("data show", "--index", v, 0, (1LL << 62), &first)) return 2;
        }
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--seed") == 0) cfg.seed = cfg.eval_seed = strtoull(v, NULL, 10);
        else if (!source_option(a, v, &cfg)) {
            fprintf(stderr, "prunelab data show: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    int split = pl_split_parse(split_name);
    if (split < 0 || n < 1 || n > 1000) {
        fprintf(stderr, "prunelab data show: --split must be train, val, test or calib and "
                        "--n 1..1000\n");
        return 2;
    }
    pl_error err;
    pl_error_clear(&err);
    pl_data data;
    pl_batch b = {0};
    int rc = 1;
    if (pl_data_open(&data, &cfg, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    /* A user's split may hold fewer samples than the default 4 (or than --n asks for): show
     * what there is, and say so. */
    const int64_t size = pl_data_split_size(&data, split); /* 0: the fill below says why */
    if (size > 0 && first >= size) {
        (void)PL_ERROR(&err, PL_ERR_CONFIG, "--index %lld is past the end of the %s split, "
                       "which holds %lld samples", first, split_name, (long long)size);
        goto done;
    }
    if (size > 0 && first + n > size) {
        const int have = (int)(size - first);
        printf("(the %s split holds %lld samples: showing %d of the %d asked for)\n", split_name,
               (long long)size, have, n);
        n = have;
    }
    if (pl_data_batch_alloc(&data, &b, n, &err) != PL_OK ||
        pl_data_fill_batch(&data, split, first, n, &b, &err) != PL_OK)
        goto done;
    printf("%s %s split, samples %lld..%lld (vocabulary v%d, %d tokens; rows of %d with SEP at "
           "%d)\n",
           cfg.tsv[0] ? cfg.tsv : "fashion-scenes", split_name, first, first + n - 1,
           PL_VOCAB_VERSION, PL_VOCAB_SIZE, b.text_len, b.answer_start);
    for (int r = 0; r < n; r++) {
        const int *tok = b.tokens + (size_t)r * b.text_len;
        char q[256], a[256];
        pl_detokenize(tok, b.answer_start, q, sizeof q);
        int end = b.answer_start + 1;
        while (end < b.text_len && tok[end] != TOK_EOS) end++;
        pl_detokenize(tok + b.answer_start + 1, end - b.answer_start - 1, a, sizeof a);
        const int *c = b.cells + (size_t)r * SCENE_CELLS;
        printf("#%lld [%s] %s -> %s\n", first + r, pl_qtype_name(b.qtype[r]), q, a);
        if (c[0] >= 0) /* a user's images have no cell labels */
            printf("    cells: %s | %s / %s | %s\n", CELL_NAMES[c[0]], CELL_NAMES[c[1]],
                   CELL_NAMES[c[2]], CELL_NAMES[c[3]]);
    }
    uint8_t pixels[SCENE_PIXELS];
    pl_pixels_denormalise(b.images, SCENE_PIXELS, pixels);
    if (pl_pgm_write(out, pixels, SCENE_SIDE, SCENE_SIDE, &err) != PL_OK) goto done;
    printf("wrote sample #%lld's image to %s (56x56 PGM)\n", first, out);
    rc = 0;
done:
    if (rc) pl_error_print(stderr, &err);
    pl_batch_free(&b);
    pl_data_close(&data);
    return rc;
}

/* `prunelab data baseline [--split test]`: the majority-answer accuracy per question type. */
static int baseline(int argc, char **argv) {
    pl_data_config cfg;
    pl_data_config_default(&cfg);
    const char *split_name = "test";
    for (int i = 0; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v != NULL && strcmp(a, "--split") == 0) split_name = v;
        else if (v == NULL || !source_option(a, v, &cfg)) {
            fprintf(stderr, "usage: prunelab data baseline [--split test|val] [--path DIR] "
                            "[--tsv FILE --images IDX|DIR]\n");
            return 2;
        }
    }
    int split = pl_split_parse(split_name);
    if (split != PL_SPLIT_TEST && split != PL_SPLIT_VAL) {
        fprintf(stderr, "prunelab data baseline: --split must be test or val\n");
        return 2;
    }
    pl_error err;
    pl_error_clear(&err);
    pl_data data;
    pl_baseline bl;
    if (pl_data_open(&data, &cfg, &err) != PL_OK) return pl_error_print(stderr, &err), 1;
    int n = (int)pl_data_split_size(&data, split);
    pl_status st = pl_majority_baseline(&data, split, n, &bl, &err);
    pl_data_close(&data);
    if (st != PL_OK) return pl_error_print(stderr, &err), 1;
    printf("majority-answer baseline on the %s split (%d samples)\n", split_name, n);
    for (int t = 0; t < QTYPE_COUNT_TYPES; t++)
        printf("  %-9s %5d samples  %5.1f %%  (\"%s\")\n", pl_qtype_name(t), bl.samples[t],
               100.0 * bl.accuracy[t], bl.answer[t]);
    printf("  %-9s %5d samples  %5.1f %%\n", "overall", n, 100.0 * bl.overall);
    return 0;
}

/* `prunelab data vocab`: the words of the fixed vocabulary, one a line, special tokens left
 * out (a user's TSV may use exactly these). */
static int vocab(int argc) {
    if (argc != 0) {
        fprintf(stderr, "usage: prunelab data vocab\n");
        return 2;
    }
    for (int id = TOK_UNK + 1; id < PL_VOCAB_SIZE; id++) printf("%s\n", pl_token_word(id));
    return 0;
}

int cmd_data(int argc, char **argv) {
    if (argc >= 1 && strcmp(argv[0], "show") == 0) return show(argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "vocab") == 0) return vocab(argc - 1);
    if (argc >= 1 && strcmp(argv[0], "baseline") == 0) return baseline(argc - 1, argv + 1);
    usage(argc >= 1 && (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) ? stdout
                                                                                       : stderr);
    return argc >= 1 && argv[0][0] == '-' && argv[0][1] == 'h' ? 0 : 2;
}
