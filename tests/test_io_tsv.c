/* test_io_tsv.c - TSV numbers (shortest round trip, '.' in any locale, nan/inf), escaping
 * and unescaping of text fields, rows, and a write error that names the file. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/tsv.h"

static const char *fmt(double v, char *buf) {
    pl_tsv_format_double(v, buf);
    return buf;
}

Test(io_tsv, numbers_are_shortest_round_trip) {
    char b[PL_TSV_NUMBER_MAX];
    cr_assert_str_eq(fmt(0.1, b), "0.1");
    cr_assert_str_eq(fmt(1.0, b), "1");
    cr_assert_str_eq(fmt(-2.5, b), "-2.5");
    cr_assert_str_eq(fmt(1.0 / 3.0, b), "0.3333333333333333");
    cr_assert_str_eq(fmt(0.1 + 0.2, b), "0.30000000000000004");
    cr_assert_str_eq(fmt(1e300, b), "1e+300");
    cr_assert_str_eq(fmt(-0.0, b), "-0");
    cr_assert_str_eq(fmt(NAN, b), "nan");
    cr_assert_str_eq(fmt(INFINITY, b), "inf");
    cr_assert_str_eq(fmt(-INFINITY, b), "-inf");
    const double hard[] = {5e-324, 1.7976931348623157e308, 2.2250738585072014e-308,
                           123456789.123456789, -9.87654321e-5, 0.7};
    for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++) {
        fmt(hard[i], b);
        cr_assert_eq(strtod(b, NULL), hard[i], "%s", b);
        cr_assert_lt(strlen(b), (size_t)PL_TSV_NUMBER_MAX);
    }
}

Test(io_tsv, decimal_point_is_a_dot_in_any_locale) {
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", NULL};
    const char *got = NULL;
    for (int i = 0; names[i] && !got; i++) got = setlocale(LC_NUMERIC, names[i]);
    if (!got) /* e.g. localedef -i de_DE -f UTF-8 /tmp/loc/de_DE.UTF-8 and LOCPATH=/tmp/loc */
        cr_skip_test("no locale with a ',' decimal point is installed");
    char raw[16], b[PL_TSV_NUMBER_MAX];
    snprintf(raw, sizeof raw, "%g", 0.25);
    cr_assert_str_eq(raw, "0,25"); /* the locale really does use a comma */
    cr_assert_str_eq(fmt(0.25, b), "0.25");
    cr_assert_str_eq(fmt(-1.5e-7, b), "-1.5e-07");
    setlocale(LC_NUMERIC, "C");
}

Test(io_tsv, rows_escape_text_and_round_trip) {
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    cr_assert_not_null(out);
    pl_tsv_writer w;
    pl_tsv_begin(&w, out);
    pl_error err;
    pl_error_clear(&err);
    pl_tsv_text(&w, "run_id");
    pl_tsv_text(&w, "acc");
    pl_tsv_text(&w, "steps");
    cr_assert_eq(pl_tsv_end_row(&w, "index.tsv", &err), PL_OK);
    pl_tsv_text(&w, "a\tb\nc\\d\re");
    pl_tsv_number(&w, 0.5);
    pl_tsv_int(&w, -42);
    pl_tsv_text(&w, NULL);
    cr_assert_eq(pl_tsv_end_row(&w, "index.tsv", &err), PL_OK);
    fclose(out);
    cr_assert_str_eq(text, "run_id\tacc\tsteps\na\\tb\\nc\\\\d\\re\t0.5\t-42\t\n");
    char field[] = "a\\tb\\nc\\\\d\\re\\q";
    size_t n = pl_tsv_unescape(field);
    cr_assert_str_eq(field, "a\tb\nc\\d\re\\q");
    cr_assert_eq(n, strlen(field));
    free(text);
}

Test(io_tsv, write_failure_names_the_file) {
    FILE *full = fopen("/dev/full", "w");
    if (!full) cr_skip_test("/dev/full is not available");
    setvbuf(full, NULL, _IONBF, 0);
    pl_tsv_writer w;
    pl_tsv_begin(&w, full);
    pl_error err;
    pl_error_clear(&err);
    pl_tsv_text(&w, "x");
    cr_assert_eq(pl_tsv_end_row(&w, "results/x/index.tsv", &err), PL_ERR_IO);
    cr_assert(strstr(err.message, "results/x/index.tsv") != NULL, "%s", err.message);
    fclose(full);
}
