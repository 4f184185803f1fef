/* run_select.c - picking an array task's runs from a Slurm run table (see run_select.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli/run_select.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file_open.h"

pl_status pl_run_select(const pl_experiment *exp, const char *file, long task, bool *only, pl_error *err) {
    for (int r = 0; r < exp->n_runs; r++) only[r] = false;
    FILE *f;
    PL_TRY(pl_fopen_read(file, "the run table", 0, &f, err));
    char line[512];
    int lineno = 0, picked = 0;
    pl_status st = PL_OK;
    while (st == PL_OK && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        char *tab = strchr(line, '\t'), *end;
        long t = strtol(line, &end, 10);
        if (tab == NULL || end != tab) {
            st = PL_ERROR(err, PL_ERR_FORMAT, "%s:%d: expected task<TAB>run_id", file, lineno);
            break;
        }
        if (t != task) continue;
        const char *id = tab + 1;
        bool found = false;
        for (int r = 0; r < exp->n_runs; r++)
            if (strcmp(exp->runs[r].run_id, id) == 0) only[r] = found = true;
        if (!found)
            st = PL_ERROR(err, PL_ERR_CONFIG, "%s:%d: run %s is not a run of %s as it reads now (was the "
                          "experiment file or an override changed since it was submitted?)", file, lineno, id,
                          exp->path);
        picked += found;
    }
    fclose(f);
    if (st == PL_OK && picked == 0)
        st = PL_ERROR(err, PL_ERR_CONFIG, "%s lists no run for task %ld", file, task);
    return st;
}
