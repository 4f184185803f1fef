/* cmd_status.c - `prunelab status DIR` (progress and ETA of results/<experiment>) and
 * `prunelab collect DIR` (rebuild DIR/index.tsv from the run directories). */
#include <stdio.h>

#include "cli/commands.h"
#include "engine/collect.h"
#include "engine/summary_table.h"
#include "engine/status.h"

int cmd_status(int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: prunelab status DIR   (DIR = results/<experiment>)\n");
        return 2;
    }
    pl_error err;
    pl_error_clear(&err);
    if (pl_status_print(argv[0], stdout, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    return 0;
}

int cmd_collect(int argc, char **argv) {
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: prunelab collect DIR   (DIR = results/<experiment>; writes DIR/index.tsv)\n");
        return 2;
    }
    pl_error err;
    pl_error_clear(&err);
    pl_index idx;
    if (pl_collect(argv[0], true, &idx, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    pl_status st = pl_index_write(&idx, argv[0], &err);
    if (st == PL_OK && idx.state_damaged) st = pl_index_rewrite_state(&idx, argv[0], &err);
    if (st == PL_OK) {
        pl_index_print(&idx, NULL, 0, stdout);
        printf("\n%s/index.tsv: %d runs, %d summary metrics", argv[0], idx.n_rows, idx.n_metrics);
        if (idx.n_aliases > idx.n_axes)
            printf(", %d config key%s whose values differ between runs", idx.n_aliases - idx.n_axes,
                   idx.n_aliases - idx.n_axes == 1 ? "" : "s");
        printf("\n");
        pl_index_notes(&idx, argv[0], stderr);
        pl_index_run_notes(&idx, stderr);
        if (idx.state_damaged) fprintf(stderr, "%s/experiment.state rewritten from the run folders\n", argv[0]);
    } else {
        pl_error_print(stderr, &err);
    }
    pl_index_free(&idx);
    return st == PL_OK ? 0 : 1;
}
