/* test_fuzz_expr.c - the corpus of tests/fuzz/fuzz_expr.c replayed in the suite
 * (tests/fuzz_replay.h): every seed and regression input must pass the target's checks. */
#define LLVMFuzzerTestOneInput fuzz_expr_input
#include "fuzz/fuzz_expr.c"
#undef LLVMFuzzerTestOneInput

#include "fuzz_replay.h"

Test(fuzz_replay, expr) {
    cr_expect_geq(fuzz_replay("tests/fuzz/corpus/fuzz_expr", fuzz_expr_input), 3);
}
