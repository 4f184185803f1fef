/* test_fuzz_idx.c - the corpus of tests/fuzz/fuzz_idx.c replayed in the suite
 * (tests/fuzz_replay.h): every seed and regression input must pass the target's checks. */
#define LLVMFuzzerTestOneInput fuzz_idx_input
#include "fuzz/fuzz_idx.c"
#undef LLVMFuzzerTestOneInput

#include "fuzz_replay.h"

Test(fuzz_replay, idx) {
    cr_expect_geq(fuzz_replay("tests/fuzz/corpus/fuzz_idx", fuzz_idx_input), 2);
}
