/* par.h - when a pruning loop is worth a parallel region: below PRUNE_PAR_MIN operations
 * the region's fork and barrier cost more than the work (and far more on a loaded machine,
 * where a descheduled thread stalls the barrier). Results never depend on the choice:
 * every loop gives each output to exactly one thread. */
#ifndef PL_PRUNE_PAR_H
#define PL_PRUNE_PAR_H

#define PRUNE_PAR_MIN (1 << 16)

#endif
