/* sweep_eta.c - the sweep's ETA: the work left in mean node times, shared by the job slots
 * except where nodes run alone. */
#include "engine/sweep_eta.h"

double pl_sweep_eta(const pl_eta_kind *kinds, int n, int slots) {
    double shared_work = 0.0, alone_work = 0.0;
    int shared_nodes = 0;
    for (int k = 0; k < n; k++) {
        const pl_eta_kind *kind = &kinds[k];
        double work = kind->mean * kind->waiting;
        for (int i = 0; i < kind->running; i++)
            if (kind->ages[i] < kind->mean) work += kind->mean - kind->ages[i];
        if (kind->alone) {
            alone_work += work;
        } else {
            shared_work += work;
            shared_nodes += kind->waiting + kind->running;
        }
    }
    if (slots < 1) slots = 1;
    int parallel = slots < shared_nodes ? slots : shared_nodes;
    return (parallel > 0 ? shared_work / parallel : 0.0) + alone_work;
}
