/* settings_prune.c - the prune section -> prune_config (see settings_prune.h). The schema
 * has checked types, ranges and the pattern's form; this only maps names to values. */
#include "engine/settings_prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/path.h"

static pl_status get_choice(const cfg_node *stage, const char *key, const char *const *names,
                            int count, int *out, pl_error *err) {
    const char *s;
    PL_TRY(cfg_get_string(stage, key, &s, err));
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return PL_OK;
        }
    return PL_ERROR(err, PL_ERR_CONFIG, "prune.%s '%s' is unknown", key, s);
}

/* "unstructured" -> m = 0; "N:M" -> n, m. */
static pl_status get_pattern(const cfg_node *stage, prune_config *out, pl_error *err) {
    const char *s;
    PL_TRY(cfg_get_string(stage, "pattern", &s, err));
    out->nm_n = out->nm_m = 0;
    out->structured = strcmp(s, "structured") == 0;
    if (out->structured || strcmp(s, "unstructured") == 0) return PL_OK;
    char *end;
    long n = strtol(s, &end, 10), m = 0;
    if (*end == ':') m = strtol(end + 1, &end, 10);
    if (*end != '\0' || n <= 0 || m <= n || m > 4096)
        return PL_ERROR(err, PL_ERR_CONFIG, "prune.pattern '%s': write 'unstructured' or N:M with 0 < N < M", s);
    out->nm_n = (int)n, out->nm_m = (int)m;
    return PL_OK;
}

/* The structured targets: heads.<module>, cross_heads, neurons.<module>, scope, all optional
 * (absent = 0 and scope block); set without pattern: structured they are an error. */
static pl_status get_structured(const cfg_node *stage, prune_config *out, pl_error *err) {
    static const char *const keys[] = {"heads", "cross_heads", "neurons", "scope"};
    for (int i = 0; i < 4; i++)
        if (!out->structured && cfg_get(stage, keys[i]) != NULL)
            return PL_ERROR(err, PL_ERR_CONFIG, "prune.%s is set, but prune.pattern is not "
                            "'structured': whole heads and neurons are removed only with "
                            "pattern: structured", keys[i]);
    if (!out->structured) return PL_OK;
    char path[64];
    double f;
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        snprintf(path, sizeof path, "heads.%s", module_name((pl_module)mod));
        if (cfg_get(stage, path) != NULL) {
            PL_TRY(cfg_get_float(stage, path, &f, err));
            out->heads[mod] = (float)f;
        }
        snprintf(path, sizeof path, "neurons.%s", module_name((pl_module)mod));
        if (cfg_get(stage, path) != NULL) {
            PL_TRY(cfg_get_float(stage, path, &f, err));
            out->neurons[mod] = (float)f;
        }
    }
    if (cfg_get(stage, "cross_heads") != NULL) {
        PL_TRY(cfg_get_float(stage, "cross_heads", &f, err));
        out->cross_heads = (float)f;
    }
    if (cfg_get(stage, "scope") != NULL) {
        static const char *const scopes[] = {"block", "module"};
        int v = 0;
        PL_TRY(get_choice(stage, "scope", scopes, 2, &v, err));
        out->scope = (prune_scope)v;
    }
    return PL_OK;
}

pl_status settings_prune(const cfg_node *stage, prune_config *out, pl_error *err) {
    static const char *const methods[] = {"magnitude", "wanda", "sparsegpt"};
    static const char *const groups[] = {"row", "matrix"};
    static const char *const calibrations[] = {"sequential", "dense"};
    prune_config_default(out);
    int v = 0;
    PL_TRY(get_choice(stage, "method", methods, 3, &v, err));
    out->method = (prune_method)v;
    PL_TRY(get_choice(stage, "group", groups, 2, &v, err));
    out->group = (prune_group)v;
    PL_TRY(get_choice(stage, "calibration", calibrations, 2, &v, err));
    out->calibration = (prune_calibration)v;
    PL_TRY(get_pattern(stage, out, err));
    PL_TRY(get_structured(stage, out, err));
    char path[64];
    for (int mod = 0; mod < MODULE_COUNT; mod++) {
        double s;
        snprintf(path, sizeof path, "sparsity.%s", module_name((pl_module)mod));
        PL_TRY(cfg_get_float(stage, path, &s, err));
        out->sparsity[mod] = (float)s;
    }
    long long n;
    PL_TRY(cfg_get_int(stage, "calib_size", &n, err));
    out->calib_size = (int)n;
    PL_TRY(cfg_get_int(stage, "sparsegpt_block", &n, err));
    out->sparsegpt_block = (int)n;
    double damp;
    PL_TRY(cfg_get_float(stage, "sparsegpt_damp", &damp, err));
    out->sparsegpt_damp = (float)damp;
    out->calib_start = 0;
    return prune_config_check(out, err);
}

pl_status settings_prune_run(const cfg_node *stage, const cfg_node *run, prune_config *out,
                             pl_error *err) {
    PL_TRY(settings_prune(stage, out, err));
    long long seed;
    PL_TRY(cfg_get_int(run, "seed", &seed, err));
    out->calib_start = (int64_t)seed * out->calib_size;
    return PL_OK;
}
