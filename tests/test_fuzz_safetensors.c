/* test_fuzz_safetensors.c - the corpus of tests/fuzz/fuzz_safetensors.c replayed in the suite
 * (tests/fuzz_replay.h): every seed and regression input must pass the target's checks. */
#define LLVMFuzzerTestOneInput fuzz_safetensors_input
#include "fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput

#include "fuzz_replay.h"

Test(fuzz_replay, safetensors) {
    cr_expect_geq(fuzz_replay("tests/fuzz/corpus/fuzz_safetensors", fuzz_safetensors_input), 2);
}
