/* hash.c - SHA-256 of canonical config text through libcrypto's EVP interface. */
#include "config/hash.h"

#include <openssl/evp.h>
#include <string.h>

#include "config/canon.h"
#include "config/path.h"
#include "config/strbuf.h"

pl_status cfg_sha256_hex_parts(const void *const *parts, const size_t *lens, int n,
                               char out[CFG_HASH_HEX], pl_error *err) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (int i = 0; ok && i < n; i++) ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) && len == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok) return PL_ERROR(err, PL_ERR_INTERNAL, "libcrypto failed to compute a SHA-256 digest");
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return PL_OK;
}

pl_status cfg_sha256_hex(const void *bytes, size_t n, char out[CFG_HASH_HEX], pl_error *err) {
    return cfg_sha256_hex_parts(&bytes, &n, 1, out, err);
}

static pl_status digest(cfg_strbuf *sb, char out[CFG_HASH_HEX], pl_error *err) {
    pl_status st = cfg_strbuf_check(sb, err);
    if (st == PL_OK) st = cfg_sha256_hex(sb->data ? sb->data : "", sb->len, out, err);
    cfg_strbuf_free(sb);
    return st;
}

pl_status cfg_hash_node(const cfg_node *node, char out[CFG_HASH_HEX], pl_error *err) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    cfg_canon_append(node, &sb);
    return digest(&sb, out, err);
}

pl_status cfg_hash_subtrees(const cfg_node *root, const char *const *paths, int n,
                            char out[CFG_HASH_HEX], pl_error *err) {
    cfg_strbuf sb;
    cfg_strbuf_init(&sb);
    for (int i = 0; i < n; i++) {
        cfg_strbuf_puts(&sb, paths[i]);
        cfg_strbuf_putc(&sb, '\n');
        const cfg_node *sub = cfg_get(root, paths[i]);
        if (sub == NULL) cfg_strbuf_puts(&sb, "~\n");
        else cfg_canon_append(sub, &sb);
    }
    return digest(&sb, out, err);
}
