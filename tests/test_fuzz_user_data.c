/* test_fuzz_user_data.c - the corpus of tests/fuzz/fuzz_user_data.c replayed in the suite
 * (tests/fuzz_replay.h): every seed and regression input must pass the target's checks. */
#define LLVMFuzzerTestOneInput fuzz_user_data_input
#include "fuzz/fuzz_user_data.c"
#undef LLVMFuzzerTestOneInput

#include "fuzz_replay.h"

Test(fuzz_replay, user_data) {
    cr_expect_geq(fuzz_replay("tests/fuzz/corpus/fuzz_user_data", fuzz_user_data_input), 3);
}
