/* cmd_export.c - `prunelab export DIR [...]`: an experiment's results as long or aggregated
 * TSV (io/export.h), to stdout or a file. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "io/export.h"

enum { MAX_LIST = 256 };

static int usage(void) {
    fprintf(stderr,
            "usage: prunelab export DIR [--metric NAME ...] [--by ALIAS,...] [--where EXPR]\n"
            "                       [--agg mean,std,n] [--curves --stage KIND] [--out FILE]\n"
            "  DIR is results/<experiment> (its index.tsv and runs/). Writes TSV, one row per run and\n"
            "  metric; with --agg or --by, mean / sample std / n over seeds per configuration (or per\n"
            "  value of the --by aliases). --curves --stage KIND --metric NAME: the per-step series\n"
            "  from each run's metrics.h5. --where filters on alias values ('sv + sl <= 1.2').\n"
            "  Only completed runs are exported.\n");
    return 2;
}

/* Appends the comma-separated items of text (split in place) to list. */
static int add_items(char *text, const char **list, int *n) {
    for (char *p = text; p;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (*p != '\0') {
            if (*n == MAX_LIST) return -1;
            list[(*n)++] = p;
        }
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

int cmd_export(int argc, char **argv) {
    if (argc < 1 || argv[0][0] == '-') return usage();
    const char *metrics[MAX_LIST], *by[MAX_LIST], *out_path = NULL;
    pl_export_opts o = {.metrics = metrics, .by = by};
    bool curves = false;
    pl_error err;
    pl_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--curves") == 0) curves = true;
        else if (!has_value) return usage();
        else if (strcmp(a, "--metric") == 0) {
            if (add_items(argv[++i], metrics, &o.n_metrics) != 0) return usage();
        } else if (strcmp(a, "--by") == 0) {
            if (add_items(argv[++i], by, &o.n_by) != 0) return usage();
        } else if (strcmp(a, "--where") == 0) o.where = argv[++i];
        else if (strcmp(a, "--stage") == 0) o.stage = argv[++i], curves = true;
        else if (strcmp(a, "--out") == 0) out_path = argv[++i];
        else if (strcmp(a, "--agg") == 0) {
            if (pl_export_parse_agg(argv[++i], &o.agg, &err) != PL_OK) {
                pl_error_print(stderr, &err);
                return 2;
            }
        } else
            return usage();
    }
    if (curves && o.stage == NULL) {
        fprintf(stderr, "prunelab export: --curves needs --stage KIND (pretrain, finetune, ...)\n");
        return 2;
    }
    if (o.n_by > 0 && o.agg == 0) o.agg = PL_AGG_MEAN | PL_AGG_STD | PL_AGG_N;
    pl_results r;
    if (pl_results_read(argv[0], &r, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    int rc = 0;
    pl_export_report rep;
    if (out == NULL) {
        perror(out_path);
        rc = 1;
    } else if (pl_export(&r, &o, out, out_path ? out_path : "<stdout>", &rep, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        rc = 1;
    }
    if (out != NULL && out != stdout && fclose(out) != 0) {
        perror(out_path);
        rc = 1;
    }
    if (rc == 0 && rep.left_out > 0)
        fprintf(stderr, "prunelab export: left out %s (`prunelab status %s` says why)\n",
                rep.left_out_by, argv[0]);
    if (rc == 0 && o.agg != 0) {
        char line[160];
        pl_average_describe(&rep.avg, "row", line, sizeof line);
        fprintf(stderr, "prunelab export: %s%s\n", line, o.agg & PL_AGG_N ? " (column n)" : "");
        if (rep.avg.n_mixed > 0)
            fprintf(stderr, "prunelab export: note: rows average runs that differ in %s; add them to --by or "
                    "fix them with --where\n", rep.avg.mixed);
    }
    pl_results_free(&r);
    return rc;
}
