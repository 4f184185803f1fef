/* first_run.c - prints the fully resolved config of run 0 of an experiment file, as the
 * canonical YAML a run folder keeps (config.yaml): an experiment file of that one run, which
 * tests/check_same_outputs.sh shortens and runs with two builds of prunelab.
 *
 *   first_run EXPERIMENT.yaml > run0.yaml */
#include <stdio.h>

#include "config/canon.h"
#include "config/strbuf.h"
#include "engine/stage.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: first_run EXPERIMENT.yaml\n");
        return 2;
    }
    pl_experiment *exp;
    pl_error err;
    pl_error_clear(&err);
    if (pl_experiment_load(argv[1], NULL, 0, &exp, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_canon_append(exp->runs[0].config, &sb);
    const int ok = cfg_strbuf_check(&sb, &err) == PL_OK && fwrite(sb.data, 1, sb.len, stdout) == sb.len;
    cfg_strbuf_free(&sb);
    pl_experiment_free(exp);
    return ok ? 0 : 1;
}
