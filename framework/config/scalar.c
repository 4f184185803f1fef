/* scalar.c - YAML 1.2 core-schema resolution of plain scalars and shortest float text. */
#include "config/scalar.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool text_is(const char *t, size_t n, const char *const *words) {
    for (; *words != NULL; words++)
        if (strlen(*words) == n && memcmp(t, *words, n) == 0) return true;
    return false;
}

static const char *const NULL_WORDS[] = {"~", "null", "Null", "NULL", NULL};
static const char *const TRUE_WORDS[] = {"true", "True", "TRUE", NULL};
static const char *const FALSE_WORDS[] = {"false", "False", "FALSE", NULL};
static const char *const INF_WORDS[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
static const char *const NINF_WORDS[] = {"-.inf", "-.Inf", "-.INF", NULL};
static const char *const NAN_WORDS[] = {".nan", ".NaN", ".NAN", NULL};

static bool is_digits(const char *t, size_t n, int base) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        bool ok = (c >= '0' && c <= '9' && c - '0' < base) ||
                  (base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
        if (!ok) return false;
    }
    return true;
}

/* 0 = not an int, 10/16/8 = its base; *skip = prefix length before the digits. */
static int int_base(const char *t, size_t n, size_t *skip) {
    size_t s = (n > 0 && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
    if (n - s > 2 && t[s] == '0' && t[s + 1] == 'x' && s == 0 && is_digits(t + 2, n - 2, 16)) {
        *skip = 2;
        return 16;
    }
    if (n - s > 2 && t[s] == '0' && t[s + 1] == 'o' && s == 0 && is_digits(t + 2, n - 2, 8)) {
        *skip = 2;
        return 8;
    }
    *skip = 0;
    return is_digits(t + s, n - s, 10) ? 10 : 0;
}

/* [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_float_text(const char *t, size_t n) {
    size_t i = 0, digits = 0;
    if (i < n && (t[i] == '-' || t[i] == '+')) i++;
    while (i < n && t[i] >= '0' && t[i] <= '9') i++, digits++;
    if (i < n && t[i] == '.') {
        i++;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++, digits++;
    }
    if (digits == 0) return false;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '-' || t[i] == '+')) i++;
        size_t exp_digits = 0;
        while (i < n && t[i] >= '0' && t[i] <= '9') i++, exp_digits++;
        if (exp_digits == 0) return false;
    }
    return i == n;
}

bool cfg_scalar_is_special(const char *t, size_t n) {
    size_t skip;
    if (n > 0 && strchr("~nNtTfF.+-0123456789", t[0]) == NULL) return false; /* the common case */
    return n == 0 || text_is(t, n, NULL_WORDS) || text_is(t, n, TRUE_WORDS) ||
           text_is(t, n, FALSE_WORDS) || text_is(t, n, INF_WORDS) || text_is(t, n, NINF_WORDS) ||
           text_is(t, n, NAN_WORDS) || int_base(t, n, &skip) != 0 || is_float_text(t, n);
}

static cfg_node *scalar_error(cfg_pos pos, pl_error *err, const char *what, const char *t,
                              size_t n) {
    cfg_error_at(err, pos, "'%.*s' %s", (int)(n > 80 ? 80 : n), t, what);
    return NULL;
}

cfg_node *cfg_scalar_resolve(cfg_arena *a, const char *t, size_t n, cfg_pos pos, pl_error *err) {
    if (n == 0 || text_is(t, n, NULL_WORDS)) return cfg_new_null(a, pos, err);
    if (text_is(t, n, TRUE_WORDS)) return cfg_new_bool(a, true, pos, err);
    if (text_is(t, n, FALSE_WORDS)) return cfg_new_bool(a, false, pos, err);
    if (text_is(t, n, INF_WORDS)) return cfg_new_float(a, INFINITY, pos, err);
    if (text_is(t, n, NINF_WORDS)) return cfg_new_float(a, -INFINITY, pos, err);
    if (text_is(t, n, NAN_WORDS))
        return scalar_error(pos, err, "is NaN, which is never a valid setting; give a number", t, n);
    char buf[128];
    size_t skip;
    int base = int_base(t, n, &skip);
    if (base != 0 || is_float_text(t, n)) {
        if (n >= sizeof buf) return scalar_error(pos, err, "is too long to be a number", t, n);
        memcpy(buf, t, n);
        buf[n] = '\0';
        errno = 0;
        char *end;
        if (base != 0) {
            long long v = strtoll(buf + skip, &end, base);
            if (errno == ERANGE)
                return scalar_error(pos, err, "is outside the 64-bit integer range", t, n);
            return cfg_new_int(a, v, pos, err);
        }
        double v = strtod(buf, &end);
        if (errno == ERANGE && isinf(v))
            return scalar_error(pos, err, "is too large for a double; use .inf for infinity", t, n);
        return cfg_new_float(a, v, pos, err);
    }
    return cfg_new_string(a, t, n, false, pos, err);
}

void cfg_format_double(double v, char out[32]) {
    if (isinf(v)) {
        strcpy(out, v > 0 ? ".inf" : "-.inf");
        return;
    }
    if (v == 0.0) v = 0.0; /* -0.0 and 0.0 are the same setting */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v) break;
    }
    if (strpbrk(out, ".eni") == NULL) strcat(out, ".0");
}

double cfg_round_sig12(double v) {
    if (!isfinite(v) || v == 0.0) return v;
    char buf[40];
    snprintf(buf, sizeof buf, "%.12g", v);
    return strtod(buf, NULL);
}
