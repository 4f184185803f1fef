/* plot.c - one figure: its data file, its gnuplot script, gnuplot run on it (see plot.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/strbuf.h"
#include "core/alloc.h"
#include "core/file_open.h"
#include "io/gnuplot_run.h"
#include "io/gp_quote.h"
#include "io/metric_label.h"
#include "io/plot_data.h"
#include "io/tsv.h"

/* Okabe-Ito, distinguishable with the common colour-vision deficiencies, without its yellow
 * (too faint on white); then four of Tol's muted colours for figures with more series. */
static const char *const CATEGORICAL[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                          "#E69F00", "#56B4E9", "#000000", "#999999",
                                          "#882255", "#117733", "#332288", "#AA4499"};
/* viridis, sampled; sequential series run from dark to light (the end stops short of the
 * yellow, which vanishes on white) */
static const double VIRIDIS[][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {190, 215, 40}};

static void sequential_color(double t, char out[8]) {
    double pos = t * 4;
    int i = pos >= 4 ? 3 : (int)pos;
    double f = pos - i, c[3];
    for (int k = 0; k < 3; k++) c[k] = VIRIDIS[i][k] + f * (VIRIDIS[i + 1][k] - VIRIDIS[i][k]);
    snprintf(out, 8, "#%02x%02x%02x", (int)lround(c[0]) & 255, (int)lround(c[1]) & 255, (int)lround(c[2]) & 255);
}

static const char *alias_label(const pl_plot_opts *o, const char *alias) {
    for (int i = 0; alias && i < o->n_aliases; i++)
        if (strcmp(o->aliases[i], alias) == 0 && o->labels && o->labels[i]) return o->labels[i];
    return alias;
}

static void string_var(cfg_strbuf *sb, const char *name, const char *value) {
    cfg_strbuf_printf(sb, "%s = ", name);
    pl_gp_quote(sb, value);
    cfg_strbuf_putc(sb, '\n');
}

static void number_var(cfg_strbuf *sb, const char *name, double v) {
    char num[PL_TSV_NUMBER_MAX];
    pl_tsv_format_double(isfinite(v) ? v : 0, num); /* '.' decimals whatever the locale */
    cfg_strbuf_printf(sb, "%s = %s\n", name, num);
}

static void array_var(cfg_strbuf *sb, const char *name, const char *const *items, int n) {
    cfg_strbuf_printf(sb, "array %s[%d]\n", name, n > 0 ? n : 1);
    if (n == 0) cfg_strbuf_printf(sb, "%s[1] = ''\n", name);
    for (int i = 0; i < n; i++) {
        cfg_strbuf_printf(sb, "%s[%d] = ", name, i + 1);
        pl_gp_quote(sb, items[i]);
        cfg_strbuf_putc(sb, '\n');
    }
}

/* The figure's parameters as gnuplot variables. */
static void variables(cfg_strbuf *sb, const pl_figure *f, const pl_plot_meta *m, const pl_plot_opts *o) {
    char metric_buf[200];
    const char *metric = pl_metric_label(f->metric, metric_buf, sizeof metric_buf);
    const char *xl = f->xlabel, *yl = f->ylabel;
    char xmetric_buf[200];
    if (xl == NULL)
        xl = f->kind == PL_FIG_CURVES ? "step"
           : f->kind == PL_FIG_SCATTER ? pl_metric_label(f->x, xmetric_buf, sizeof xmetric_buf)
           : alias_label(o, f->x);
    if (yl == NULL) yl = f->kind == PL_FIG_HEATMAP ? alias_label(o, f->y) : metric;
    cfg_strbuf_printf(sb, "datafile = '%s.tsv'\npng_file = '%s.png'\npdf_file = '%s.pdf'\n", f->name, f->name, f->name);
    string_var(sb, "title_text", f->title);
    string_var(sb, "xlabel_text", xl);
    string_var(sb, "ylabel_text", yl);
    string_var(sb, "zlabel_text", f->zlabel ? f->zlabel : metric);
    string_var(sb, "key_title", f->series ? alias_label(o, f->series) : "");
    int ns = m->n_series > 0 ? m->n_series : 1;
    cfg_strbuf_printf(sb, "nseries = %d\n", m->n_series);
    array_var(sb, "series_name", m->series, m->n_series);
    cfg_strbuf_printf(sb, "array series_color[%d]\n", ns);
    for (int i = 0; i < ns; i++) {
        char seq[8];
        if (m->series_numeric && ns > 1) sequential_color(0.92 * i / (ns - 1), seq);
        cfg_strbuf_printf(sb, "series_color[%d] = '%s'\n", i + 1,
                          m->series_numeric && ns > 1 ? seq : CATEGORICAL[i % (int)(sizeof CATEGORICAL / sizeof *CATEGORICAL)]);
    }
    cfg_strbuf_printf(sb, "nx = %d\nny = %d\n", m->nx, m->ny);
    if (f->kind == PL_FIG_HEATMAP) {
        array_var(sb, "xtic_label", m->xtics, m->nx);
        array_var(sb, "ytic_label", m->ytics, m->ny);
        double lo = f->shared_zrange ? f->zlo : m->zmin, hi = f->shared_zrange ? f->zhi : m->zmax;
        if (!(lo < hi)) { /* one value (or none): a range around it */
            lo = isfinite(lo) ? lo - 0.5 : 0, hi = isfinite(hi) ? hi + 0.5 : 1;
        }
        number_var(sb, "zmin", lo);
        number_var(sb, "zmax", hi);
        cfg_strbuf_printf(sb, "value_format = '%%.%df'\n", f->digits);
    }
    int longest = 0;
    for (int i = 0; f->kind == PL_FIG_BARS && i < m->nx; i++)
        if ((int)strlen(m->xtics[i]) > longest) longest = (int)strlen(m->xtics[i]);
    cfg_strbuf_printf(sb, "band = %d\nlogx = %d\nlogy = %d\nxtic_rotate = %d\n", f->band, f->logx, f->logy,
                      longest * m->nx > 60);
}

static pl_status append_file(cfg_strbuf *sb, const char *dir, const char *name, pl_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f;
    if (pl_fopen_read(path, "the gnuplot template", 0, &f, err) != PL_OK)
        return pl_error_wrap(err, "the gnuplot template (set --templates or PRUNELAB_ANALYSIS_DIR to "
                             "prunelab's analysis/ directory)");
    char buf[4096];
    size_t n;
    cfg_strbuf_printf(sb, "\n# ---- %s ----\n", name);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) cfg_strbuf_append(sb, buf, n);
    bool bad = ferror(f);
    fclose(f);
    if (bad) return PL_ERROR(err, PL_ERR_IO, "cannot read %s", path);
    if (sb->len > 0 && sb->data[sb->len - 1] != '\n') cfg_strbuf_putc(sb, '\n');
    return PL_OK;
}

static pl_status script(cfg_strbuf *sb, const pl_figure *f, const pl_plot_meta *m, const pl_plot_opts *o,
                        pl_error *err) {
    cfg_strbuf_printf(sb, "# %s.gp - figure '%s' (%s), written by prunelab plot from %s.tsv next to it.\n"
                          "# Redraw by hand: cd into this directory and run `gnuplot %s.gp`.\n"
                          "# Text from the experiment file is in single-quoted literals (nothing inside is\n"
                          "# interpreted); the terminals are noenhanced, so it renders as written.\n",
                      f->name, f->name, f->kind_name, f->name, f->name);
    variables(sb, f, m, o);
    cfg_strbuf_puts(sb, "\nset terminal pngcairo noenhanced size 1400,1000 font 'DejaVu Sans,20' linewidth 2\n"
                        "set output png_file\n");
    PL_TRY(append_file(sb, o->templates, "style.gp", err));
    char kind[64];
    snprintf(kind, sizeof kind, "%s.gp", f->kind_name);
    PL_TRY(append_file(sb, o->templates, kind, err));
    cfg_strbuf_puts(sb, "\n# ---- the same figure as PDF ----\n"
                        "set terminal pdfcairo noenhanced size 7in,5in font 'DejaVu Sans,10' linewidth 1\n"
                        "set output pdf_file\nreplot\nunset output\n");
    return cfg_strbuf_check(sb, err);
}

static bool safe_name(const char *s) {
    if (*s == '\0' || *s == '.') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-' || *s == '.'))
            return false;
    return true;
}

static pl_status write_text(const char *path, const char *text, size_t len, pl_error *err) {
    FILE *f = fopen(path, "w");
    if (f == NULL) return PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    bool ok = fwrite(text, 1, len, f) == len;
    ok &= fclose(f) == 0;
    return ok ? PL_OK : PL_ERROR(err, PL_ERR_IO, "cannot write %s", path);
}

pl_status pl_plot_figure(const pl_results *r, const pl_figure *f, const pl_plot_opts *o, pl_average_report *avg,
                         pl_error *err) {
    if (!safe_name(f->name))
        return PL_ERROR(err, PL_ERR_INVALID, "figure name '%s' is not a plain file name", f->name);
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s/figures", r->dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return PL_ERROR(err, PL_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    cfg_arena arena;
    cfg_arena_init(&arena);
    pl_plot_meta meta;
    snprintf(path, sizeof path, "%s/%s.tsv", dir, f->name);
    FILE *data = fopen(path, "w");
    pl_status st = data ? PL_OK : PL_ERROR(err, PL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (st == PL_OK) {
        st = pl_plot_data(r, f, &arena, data, path, &meta, err);
        if (fclose(data) != 0 && st == PL_OK) st = PL_ERROR(err, PL_ERR_IO, "cannot write %s", path);
    }
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    if (st == PL_OK) st = script(&sb, f, &meta, o, err);
    if (st == PL_OK) {
        snprintf(path, sizeof path, "%s/%s.gp", dir, f->name);
        st = write_text(path, sb.data, sb.len, err);
    }
    if (st == PL_OK && o->render) {
        char gp[200], log[200];
        snprintf(gp, sizeof gp, "%s.gp", f->name);
        snprintf(log, sizeof log, "%s.log", f->name);
        st = pl_gnuplot_run(o->gnuplot ? o->gnuplot : "gnuplot", dir, gp, log, err);
    }
    if (st == PL_OK && avg) *avg = meta.avg;
    cfg_strbuf_free(&sb);
    cfg_arena_free(&arena);
    return st;
}
