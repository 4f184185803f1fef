/* run_record.h - what a completed run was computed from and the seal of its results, and
 * the verdict every reader of a results directory draws from them.
 *
 * runs/<id>/record, key<TAB>value lines, written atomically after metrics.h5 is closed and
 * before the status file says completed (a kill in between leaves a run that is not
 * completed, which the next invocation runs again):
 *   metrics.h5  <SHA-256 of metrics.h5>
 *   stage       <index> <kind> <cache key>     every pipeline stage, in order (engine/cache.h)
 *   input       <stage> <key> <SHA-256> <path> every file those keys hash (pl_cache_inputs;
 *                                              stage -1 for data.*)
 *   sha256      <SHA-256 of every byte before>  the record's own seal (engine/fsutil.h)
 *
 * The verdict on a run whose status says completed (pl_run_judge), against its record as it
 * would be written now:
 *   sound      metrics.h5 matches its seal and every stage key is the key the run has now
 *   stale      a stage key differs now: a file it read was replaced (load.path, a teacher,
 *              data.tsv ...) or what the stage computes changed (a numerics version); for a
 *              run completed before records existed, the same against the stage keys its
 *              metrics.h5 names
 *   damaged    metrics.h5 is missing or differs from its seal, or the record does not parse
 *              or fails its own seal;
 *              without a record, metrics.h5 does not read back as a completed run's
 *   unsealed   completed before records existed, metrics.h5 reads and names, for every stage,
 *              the key the stage has now (/stages/NN_<kind> cache_key; a file too old to name
 *              them: every model stage's key now has a cache entry): trusted, and `prunelab
 *              run` writes its record
 * Stale and damaged runs are shown as such by status, plan and collect, left out of export
 * and plot, and computed again by run. */
#ifndef PL_ENGINE_RUN_RECORD_H
#define PL_ENGINE_RUN_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "config/experiment.h"
#include "engine/cache.h"
#include "engine/fsutil.h"

typedef enum { PL_RECORD_SOUND, PL_RECORD_UNSEALED, PL_RECORD_STALE, PL_RECORD_DAMAGED } pl_record_verdict;

typedef struct {
    char kind[32];
    char key[CFG_HASH_HEX];
} pl_record_stage;

typedef struct {
    int stage;           /* -1: data.* */
    char key[96];
    char sha256[CFG_HASH_HEX];
    char *path;
} pl_record_input;

typedef struct {
    char metrics_sha256[CFG_HASH_HEX]; /* "" until sealed */
    int n_stages;
    pl_record_stage *stages;
    int n_inputs;
    pl_record_input *inputs;
} pl_run_record;

/* The record run would get now: every stage's key and every input's hash (memo may be NULL;
 * a frozen memo is only read). Not sealed. */
pl_status pl_run_record_of(const pl_run *run, pl_hash_memo *memo, pl_run_record *out, pl_error *err);

/* Seals dir/metrics.h5 into rec (its SHA-256) and writes dir/record atomically. */
pl_status pl_run_record_write(const char *dir, pl_run_record *rec, pl_error *err);

/* Reads dir/record into out; *present false (and out empty) when there is none. A record
 * that does not parse is PL_ERR_FORMAT. */
pl_status pl_run_record_read(const char *dir, pl_run_record *out, bool *present, pl_error *err);

void pl_run_record_free(pl_run_record *rec);

/* The verdict on the completed run in dir (results: the results directory, whose cache a
 * run without a record is checked against). now: what the record would say now, or NULL
 * when that is unknown (then only the seal is checked). why (cap bytes) gets the reason of
 * any verdict but sound. */
pl_record_verdict pl_run_judge(const char *dir, const char *results, const pl_run_record *now, char *why,
                               size_t cap);

/* Whether the run in dir is done for good: its status file says completed and pl_run_judge
 * finds it sound or unsealed. *verdict (may be NULL) gets the judgement of a completed run;
 * why (cap bytes, may be NULL) the reason when it is stale or damaged. */
bool pl_run_is_done(const char *dir, const char *results, const pl_run_record *now,
                    pl_record_verdict *verdict, char *why, size_t cap);

/* The verdict's name: "sound", "unsealed", "stale", "damaged". */
const char *pl_record_verdict_name(pl_record_verdict v);

#endif
