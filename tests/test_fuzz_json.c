/* test_fuzz_json.c - the corpus of tests/fuzz/fuzz_json.c replayed in the suite
 * (tests/fuzz_replay.h): every seed and regression input must pass the target's checks. */
#define LLVMFuzzerTestOneInput fuzz_json_input
#include "fuzz/fuzz_json.c"
#undef LLVMFuzzerTestOneInput

#include "fuzz_replay.h"

Test(fuzz_replay, json) {
    cr_expect_geq(fuzz_replay("tests/fuzz/corpus/fuzz_json", fuzz_json_input), 2);
}
