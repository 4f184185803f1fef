/* stage_load.c - the load stage: start a pipeline from a saved prunelab checkpoint (e.g. the
 * quickstart's shipped teacher), optionally checking the file's SHA-256 first. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "config/path.h"
#include "engine/settings.h"
#include "engine/stage.h"
#include "model/checkpoint.h"

static pl_status file_sha256(const char *path, char hex[65], pl_error *err) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return PL_ERROR(err, PL_ERR_IO, "cannot open %s (load.path)", path);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    pl_status st = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? PL_OK
                   : PL_ERROR(err, PL_ERR_INTERNAL, "OpenSSL could not start a SHA-256");
    unsigned char buf[1 << 16], digest[32];
    size_t n;
    while (st == PL_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        if (EVP_DigestUpdate(ctx, buf, n) != 1) st = PL_ERROR(err, PL_ERR_INTERNAL, "SHA-256 update failed");
    if (st == PL_OK && ferror(f)) st = PL_ERROR(err, PL_ERR_IO, "reading %s failed", path);
    unsigned int len = 0;
    if (st == PL_OK && EVP_DigestFinal_ex(ctx, digest, &len) != 1)
        st = PL_ERROR(err, PL_ERR_INTERNAL, "SHA-256 final failed");
    for (unsigned i = 0; st == PL_OK && i < len; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return st;
}

pl_status stage_load(vlm *in, const cfg_node *section, const cfg_node *run, const pl_data *data,
                     vlm *out, const pl_metrics_sink *sink, pl_error *err) {
    (void)in, (void)sink;
    const char *path, *want;
    PL_TRY(cfg_get_string(section, "path", &path, err));
    PL_TRY(cfg_get_string(section, "sha256", &want, err));
    if (want[0] != '\0') {
        char have[65] = {0};
        PL_TRY(file_sha256(path, have, err));
        if (strcmp(have, want) != 0)
            return PL_ERROR(err, PL_ERR_CONFIG,
                            "%s has SHA-256 %s but load.sha256 expects %s: the file changed; "
                            "regenerate it or update the expected hash", path, have, want);
    }
    model_config expected;
    PL_TRY(settings_model(run, &data->config, &expected, err));
    PL_TRY(vlm_load(out, path, 64, err));
    model_config got = out->cfg;
    got.init_std = expected.init_std; /* initialisation does not matter for a trained model */
    if (memcmp(&got, &expected, sizeof got) != 0) {
        vlm_free(out);
        return PL_ERROR(err, PL_ERR_CONFIG, "%s holds a model whose shape differs from the run's "
                        "model section (compare `prunelab eval %s` with the experiment's model)",
                        path, path);
    }
    return PL_OK;
}
