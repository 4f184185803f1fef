/* startup.h - the runtime defaults every prunelab program sets before any work.
 *
 * Two settings only take effect through the environment, read when OpenBLAS and libgomp
 * load (before main), so pl_startup sets them and re-executes the program once:
 *   OPENBLAS_CORETYPE=SkylakeX  on AVX-512 CPUs where OpenBLAS picked slower kernels;
 *   GOMP_SPINCOUNT=300          when neither it nor OMP_WAIT_POLICY is set: an idle OpenMP
 *                               thread spins 300 times, then sleeps. Unbounded spinning
 *                               (OMP_WAIT_POLICY=active) slows a step 25x as soon as another
 *                               process wants the same cores (1564 ms vs 61 ms per tiny step
 *                               on a loaded 2-core machine), and so do libgomp's default
 *                               300000 spins and even 3000 (1.5x); sleeping at once
 *                               (passive) pays a futex round trip per parallel region, which
 *                               made an idle 2-thread `small` step 1.3x slower than 300
 *                               spins (AMD EPYC, 2026-12-02: 209-223 vs 275-284 samples/s,
 *                               while under load 300 spins matched passive).
 * PRUNELAB_STARTUP=0 leaves the environment alone. */
#ifndef PL_CORE_STARTUP_H
#define PL_CORE_STARTUP_H

#define PL_GOMP_SPINCOUNT "300"

/* Re-executes argv[0] (via /proc/self/exe) at most once with the settings above; returns
 * when nothing needs changing, after the re-execution, or if it fails. */
void pl_startup(char **argv);

#endif
