/* hash.h - run identity: SHA-256 (OpenSSL libcrypto) of canonical config text.
 *
 * A run id is the first 12 hex digits of the SHA-256 of the canonical YAML (config/canon.h)
 * of the run's config without its non-semantic keys (engine, name: see CFG_KEY_NONSEMANTIC).
 * The group id is the same hash with the seed removed, so replicates share it. The engine
 * keys a stage's cached output by hashing the subtrees the stage depends on. */
#ifndef PL_CONFIG_HASH_H
#define PL_CONFIG_HASH_H

#include <stddef.h>

#include "config/node.h"

enum { CFG_HASH_HEX = 65, CFG_ID_LEN = 12 };

/* SHA-256 of bytes as 64 lowercase hex digits. */
pl_status cfg_sha256_hex(const void *bytes, size_t n, char out[CFG_HASH_HEX], pl_error *err);

/* SHA-256 of the concatenation of n byte ranges. */
pl_status cfg_sha256_hex_parts(const void *const *parts, const size_t *lens, int n,
                               char out[CFG_HASH_HEX], pl_error *err);

/* SHA-256 of the canonical text of node. */
pl_status cfg_hash_node(const cfg_node *node, char out[CFG_HASH_HEX], pl_error *err);

/* SHA-256 over "path\n<canonical text>" for each path in order (an absent path hashes as
 * "path\n~\n"), e.g. {"data", "model", "seed", "pipeline.0", "pipeline.1"} for the cache key
 * of the second stage. Pass a tree without non-semantic keys (pl_run.semantic). */
pl_status cfg_hash_subtrees(const cfg_node *root, const char *const *paths, int n,
                            char out[CFG_HASH_HEX], pl_error *err);

#endif
