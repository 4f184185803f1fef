/* test_fuzz_config.c - the corpus of tests/fuzz/fuzz_config.c replayed in the suite
 * (tests/fuzz_replay.h): every seed and regression input must pass the target's checks. */
#define LLVMFuzzerTestOneInput fuzz_config_input
#include "fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput

#include "fuzz_replay.h"

Test(fuzz_replay, config) {
    cr_expect_geq(fuzz_replay("tests/fuzz/corpus/fuzz_config", fuzz_config_input), 2);
}
