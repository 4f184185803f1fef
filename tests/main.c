/* main.c - the test runner's entry point: picks OpenBLAS's kernels exactly as the prunelab
 * command does (re-executing with OPENBLAS_CORETYPE=SkylakeX on AVX-512 CPUs that Debian's
 * OpenBLAS misidentifies), then runs the Criterion suite, so tests see the BLAS users get;
 * this matters for the thread-count tests: OpenBLAS 0.3.21's Haswell SGEMM gives results
 * that differ in the last bit between 1 and 2 threads, its SkylakeX SGEMM does not. */
#include <criterion/criterion.h>

#include "core/blas.h"
#include "core/startup.h"

int main(int argc, char *argv[]) {
    pl_startup(argv);
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true)) result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}
