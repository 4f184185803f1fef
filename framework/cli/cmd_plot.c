/* cmd_plot.c - `prunelab plot DIR [EXPERIMENT.yaml]` or `prunelab plot EXPERIMENT.yaml`: draw
 * the figures the experiment declares from the results in DIR (io/plot.h). Without the
 * file, the experiment is the one the engine recorded in DIR/experiment.state. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "engine/engine.h"
#include "engine/exp_state.h"
#include "engine/stage.h"
#include "config/path.h"
#include "io/gnuplot_run.h"
#include "io/heatmap_range.h"
#include "io/metric_label.h"
#include "io/plot.h"

#ifndef PL_ANALYSIS_DIR
#define PL_ANALYSIS_DIR "analysis"
#endif

static int usage(void) {
    fprintf(stderr,
            "usage: prunelab plot DIR [EXPERIMENT.yaml] [--only NAME] [--templates DIR] [--no-render]\n"
            "       prunelab plot EXPERIMENT.yaml [...]\n"
            "  draws the experiment's figures: list from the results in DIR (results/<experiment>) to\n"
            "  DIR/figures/<name>.png and .pdf, with the data drawn (<name>.tsv) and the gnuplot script\n"
            "  (<name>.gp) next to them. Without EXPERIMENT.yaml, the file recorded by `prunelab run` in\n"
            "  DIR/experiment.state is used. --no-render writes .tsv and .gp without running gnuplot.\n");
    return 2;
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The experiment file DIR/experiment.state records, into out. */
static bool recorded_spec(const char *dir, char *out, size_t cap) {
    pl_exp_state state;
    if (pl_exp_state_read(dir, &state, NULL) != PL_OK) return false;
    const bool found = state.spec_path != NULL;
    if (found) snprintf(out, cap, "%s", state.spec_path);
    if (state.damaged) fprintf(stderr, "prunelab plot: %s/experiment.state is damaged (%s)\n", dir, state.why);
    pl_exp_state_free(&state);
    return found;
}

/* One note per metric family whose heatmaps share a colour range, naming them. */
static void note_shared_ranges(const pl_figure *figs, int n) {
    for (int i = 0; i < n; i++) {
        if (!figs[i].shared_zrange) continue;
        char family[256], other[256], label[256];
        pl_metric_family(figs[i].metric, family, sizeof family);
        bool first = true;
        for (int j = 0; j < i && first; j++)
            first = !(figs[j].shared_zrange && strcmp(pl_metric_family(figs[j].metric, other, sizeof other), family) == 0);
        if (!first) continue;
        fprintf(stderr, "prunelab plot: note: heatmaps");
        for (int j = i; j < n; j++)
            if (figs[j].shared_zrange && strcmp(pl_metric_family(figs[j].metric, other, sizeof other), family) == 0)
                fprintf(stderr, " %s", figs[j].name);
        fprintf(stderr, " share one colour range (%s: %g to %g)\n", pl_metric_label(family, label, sizeof label),
                figs[i].zlo, figs[i].zhi);
    }
}

static int draw(const char *dir, const pl_experiment *exp, const pl_plot_opts *base, const char *only) {
    pl_error err;
    pl_error_clear(&err);
    pl_results r;
    if (pl_results_read(dir, &r, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        return 1;
    }
    int n = exp->figures ? exp->figures->u.list.count : 0, drawn = 0, failed = 0, n_figs = 0;
    const char **labels = calloc((size_t)exp->n_axes + 1, sizeof *labels);
    pl_figure *figs = calloc((size_t)n + 1, sizeof *figs);
    if (labels == NULL || figs == NULL) {
        free(labels);
        free(figs);
        pl_results_free(&r);
        fprintf(stderr, "prunelab plot: out of memory\n");
        return 1;
    }
    for (int i = 0; i < exp->n_axes; i++) labels[i] = exp->sweep->axes[i].label;
    pl_plot_opts o = *base;
    o.aliases = exp->aliases, o.labels = labels, o.n_aliases = exp->n_axes;
    if (n == 0) fprintf(stderr, "prunelab plot: %s declares no figures: (see README, Figures and export)\n", exp->path);
    for (int i = 0; i < n; i++)
        if (pl_figure_read(exp->figures->u.list.items[i], &figs[n_figs], &err) == PL_OK) n_figs++;
    /* every heatmap takes part, also with --only: a figure drawn alone keeps its scale */
    if (pl_heatmap_share_ranges(&r, figs, n_figs, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        n_figs = 0, failed++;
    }
    if (only == NULL) note_shared_ranges(figs, n_figs);
    char left_out[200];
    if (pl_results_left_out(&r, left_out, sizeof left_out) > 0)
        fprintf(stderr, "prunelab plot: left out %s (`prunelab status %s` says why)\n", left_out, dir);
    for (int i = 0; i < n_figs; i++) {
        const pl_figure *f = &figs[i];
        pl_average_report avg;
        if (only && strcmp(f->name, only) != 0) continue;
        if (pl_plot_figure(&r, f, &o, &avg, &err) != PL_OK) {
            pl_error_print(stderr, &err);
            failed++;
            continue;
        }
        drawn++;
        if (o.render) printf("%s/figures/%s.png\n%s/figures/%s.pdf\n", dir, f->name, dir, f->name);
        else printf("%s/figures/%s.gp\n", dir, f->name);
        char line[160];
        pl_average_describe(&avg, "point", line, sizeof line);
        fprintf(stderr, "prunelab plot: figure '%s': %s\n", f->name, line);
        if (avg.n_mixed > 0)
            fprintf(stderr, "prunelab plot: note: in figure '%s' points average runs that differ in %s; fix them "
                            "with where: to compare like with like (a config key becomes a name where: knows "
                            "once it is a sweep axis)\n", f->name, avg.mixed);
    }
    if (only && drawn + failed == 0) fprintf(stderr, "prunelab plot: no figure named '%s'\n", only), failed++;
    free(figs);
    free(labels);
    pl_results_free(&r);
    return failed ? 1 : 0;
}

int cmd_plot(int argc, char **argv) {
    const char *dir = NULL, *spec = NULL, *only = NULL;
    pl_plot_opts o = {.render = true, .gnuplot = "gnuplot"};
    o.templates = getenv("PRUNELAB_ANALYSIS_DIR") ? getenv("PRUNELAB_ANALYSIS_DIR") : PL_ANALYSIS_DIR;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-render") == 0) o.render = false;
        else if (strcmp(a, "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(a, "--templates") == 0 && i + 1 < argc) o.templates = argv[++i];
        else if (a[0] == '-') return usage();
        else if (dir == NULL && spec == NULL && is_dir(a)) dir = a;
        else if (spec == NULL) spec = a;
        else return usage();
    }
    if (dir == NULL && spec == NULL) return usage();
    char recorded[4096];
    if (spec == NULL) {
        if (!recorded_spec(dir, recorded, sizeof recorded)) {
            fprintf(stderr, "prunelab plot: %s/experiment.state names no experiment file; pass it: "
                            "prunelab plot %s EXPERIMENT.yaml\n", dir, dir);
            return 2;
        }
        spec = recorded;
    }
    if (o.render && !pl_gnuplot_available(o.gnuplot)) {
        fprintf(stderr, "prunelab plot: gnuplot not found (Debian: gnuplot-nox; `make deps` installs it)\n");
        return 1;
    }
    pl_error err;
    pl_error_clear(&err);
    pl_experiment *exp;
    if (pl_experiment_load(spec, NULL, 0, &exp, &err) != PL_OK) {
        pl_error_print(stderr, &err);
        if (dir && spec == recorded)
            fprintf(stderr, "(the experiment file recorded in %s/experiment.state; pass another as an argument)\n", dir);
        return 1;
    }
    char results[4096], derived[4096];
    if (dir == NULL) {
        if (pl_engine_dirs(exp, results, sizeof results, derived, sizeof derived, &err) != PL_OK) {
            pl_error_print(stderr, &err);
            pl_experiment_free(exp);
            return 1;
        }
        dir = derived;
    }
    int rc = draw(dir, exp, &o, only);
    pl_experiment_free(exp);
    return rc;
}
