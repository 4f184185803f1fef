/* test_fuzz_override.c - the corpus of tests/fuzz/fuzz_override.c replayed in the suite
 * (tests/fuzz_replay.h): every seed and regression input must pass the target's checks. */
#define LLVMFuzzerTestOneInput fuzz_override_input
#include "fuzz/fuzz_override.c"
#undef LLVMFuzzerTestOneInput

#include "fuzz_replay.h"

Test(fuzz_replay, override) {
    cr_expect_geq(fuzz_replay("tests/fuzz/corpus/fuzz_override", fuzz_override_input), 3);
}
