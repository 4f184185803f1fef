/* split.c - split names. */
#include "data/split.h"

#include <string.h>

static const char *const SPLIT_NAMES[PL_SPLIT_COUNT] = {"train", "val", "test", "calib"};

const char *pl_split_name(int split) {
    return split >= 0 && split < PL_SPLIT_COUNT ? SPLIT_NAMES[split] : "unknown";
}

int pl_split_parse(const char *name) {
    for (int s = 0; s < PL_SPLIT_COUNT; s++)
        if (strcmp(name, SPLIT_NAMES[s]) == 0) return s;
    return -1;
}
