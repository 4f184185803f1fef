/* fuzz_replay.h - runs every file of a fuzz target's corpus (tests/fuzz/corpus/<name>/: its
 * seeds and the regression inputs of crashes it found) through the target's
 * LLVMFuzzerTestOneInput, compiled into the test suite under its own name. A target aborts
 * when an invariant breaks, so a crash input that is not fixed fails the suite, plain and
 * under make test-asan, without libFuzzer or clang. Include it after the target's source. */
#ifndef PL_TESTS_FUZZ_REPLAY_H
#define PL_TESTS_FUZZ_REPLAY_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Feeds each regular file of dir to one_input; returns how many there were. */
static inline int fuzz_replay(const char *dir, int (*one_input)(const uint8_t *, size_t)) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "no corpus %s", dir);
    int files = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert_not_null(f, "%s", path);
        uint8_t *bytes = malloc(1 << 20);
        cr_assert_not_null(bytes);
        size_t n = fread(bytes, 1, 1 << 20, f);
        fclose(f);
        cr_expect_eq(one_input(bytes, n), 0, "%s", path);
        free(bytes);
        files++;
    }
    closedir(d);
    return files;
}

#endif
