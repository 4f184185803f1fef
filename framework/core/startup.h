/* startup.h - the runtime defaults every prunelab program sets before any work.
 *
 * Two settings only take effect through the environment, read when OpenBLAS and libgomp
 * load (before main), so pl_startup sets them and re-executes the program once:
 *   OPENBLAS_CORETYPE=SkylakeX  on AVX-512 CPUs where OpenBLAS picked slower kernels;
 *   GOMP_SPINCOUNT=1000         when neither it nor OMP_WAIT_POLICY is set: an idle OpenMP
 *                               thread spins 1000 times, then sleeps. The count trades the
 *                               idle machine against the loaded one. Unbounded spinning
 *                               (OMP_WAIT_POLICY=active) slows a step 25x as soon as another
 *                               process wants the same cores (1564 ms vs 61 ms per tiny step
 *                               on a loaded 2-core machine), and so do libgomp's default
 *                               300000 spins and even 3000 (1.3-3.3x); sleeping at once
 *                               (passive) pays a futex round trip, in a VM a wake-up IPI, per
 *                               parallel region. On the 2-core Intel Xeon of 2026-12-03 1000
 *                               spins made the idle `small` step 7 % faster than 300 in FP32
 *                               and 20 % in BF16 (173 vs 162 and 248 vs 206 samples/s), and
 *                               8 % slower with both cores already busy (89 vs 97 FP32).
 * PRUNELAB_STARTUP=0 leaves the environment alone. */
#ifndef PL_CORE_STARTUP_H
#define PL_CORE_STARTUP_H

#define PL_GOMP_SPINCOUNT "1000"

/* Re-executes argv[0] (via /proc/self/exe) at most once with the settings above; returns
 * when nothing needs changing, after the re-execution, or if it fails. */
void pl_startup(char **argv);

#endif
