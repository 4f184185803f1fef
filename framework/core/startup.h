/* startup.h - the runtime defaults every prunelab program sets before any work.
 *
 * Two settings only take effect through the environment, read when OpenBLAS and libgomp
 * load (before main), so pl_startup sets them and re-executes the program once:
 *   OPENBLAS_CORETYPE=SkylakeX  on AVX-512 CPUs where OpenBLAS picked slower kernels;
 *   OMP_WAIT_POLICY=passive     when unset: idle OpenMP threads sleep instead of spinning.
 *                               With spinning, a training step slows 25x as soon as another
 *                               process wants the same cores (measured 1564 ms vs 61 ms per
 *                               tiny step on a loaded 2-core machine); when the machine is
 *                               idle the difference is a few percent.
 * PRUNELAB_STARTUP=0 leaves the environment alone. */
#ifndef PL_CORE_STARTUP_H
#define PL_CORE_STARTUP_H

/* Re-executes argv[0] (via /proc/self/exe) at most once with the settings above; returns
 * when nothing needs changing, after the re-execution, or if it fails. */
void pl_startup(char **argv);

#endif
