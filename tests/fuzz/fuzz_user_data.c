/* fuzz_user_data.c - libFuzzer target for a user's TSV of samples (data/user_data.h): any
 * bytes as the TSV, with an IDX file of 4 images (inputs of even length) or a PGM directory
 * (odd length; image ids a0, a1, 0 and 1) made once in a temporary directory, must load or be
 * refused with an error naming the file, never crash, leak or read out of bounds. When it
 * loads, every row's split, image and token counts must be within bounds and
 * pl_user_data_count must count the same splits. (Reading the IDX file costs a 4 MB
 * buffer, so each input takes one of the two.) */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/batch.h"
#include "data/user_data.h"

static char dir[64], tsv[128], idx[128], pgm[128];
static const char *const PGM_IDS[] = {"a0", "a1", "0", "1"};
enum { N_PGMS = 4 };

static void remove_files(void) {
    char path[192];
    unlink(tsv);
    unlink(idx);
    for (int i = 0; i < N_PGMS; i++) {
        snprintf(path, sizeof path, "%s/%s.pgm", pgm, PGM_IDS[i]);
        unlink(path);
    }
    rmdir(pgm);
    rmdir(dir);
}

static void write_or_die(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) abort();
}

/* The temporary directory with images.idx (4 images) and pgm/<id>.pgm for each PGM id. */
static void make_images(void) {
    snprintf(dir, sizeof dir, "%s/prunelab_fuzz_user_XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == NULL) abort();
    snprintf(tsv, sizeof tsv, "%s/samples.tsv", dir);
    snprintf(idx, sizeof idx, "%s/images.idx", dir);
    snprintf(pgm, sizeof pgm, "%s/pgm", dir);
    if (mkdir(pgm, 0755) != 0) abort();
    static uint8_t file[16 + 4 * SCENE_PIXELS];
    const uint8_t header[16] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, SCENE_SIDE, 0, 0, 0, SCENE_SIDE};
    memcpy(file, header, sizeof header);
    for (size_t i = 16; i < sizeof file; i++) file[i] = (uint8_t)(i * 7);
    write_or_die(idx, file, sizeof file);
    for (int i = 0; i < N_PGMS; i++) {
        char path[192], head[32];
        snprintf(path, sizeof path, "%s/%s.pgm", pgm, PGM_IDS[i]);
        int n = snprintf(head, sizeof head, "P5\n%d %d\n255\n", SCENE_SIDE, SCENE_SIDE);
        static uint8_t image[32 + SCENE_PIXELS];
        memcpy(image, head, (size_t)n);
        memset(image + n, 40 * i, SCENE_PIXELS);
        write_or_die(path, image, (size_t)n + SCENE_PIXELS);
    }
    atexit(remove_files);
}

static void check_loaded(const pl_user_data *u) {
    int counts[PL_USER_SPLITS];
    pl_error err;
    if (pl_user_data_count(tsv, counts, &err) != PL_OK) abort(); /* what loads also counts */
    for (int s = 0; s < PL_USER_SPLITS; s++)
        if (counts[s] != u->split_size[s]) abort();
    for (int r = 0; r < u->n_rows; r++) {
        const pl_user_row *row = &u->rows[r];
        if (row->split < 0 || row->split >= PL_USER_SPLITS || row->image < 0 || row->image >= u->n_images ||
            row->nq < 1 || row->nq > 10 || row->na < 1 || row->na > 10)
            abort();
        volatile int last = u->tokens[row->text + (size_t)row->nq + (size_t)row->na - 1];
        (void)last;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (dir[0] == '\0') make_images();
    write_or_die(tsv, data, size);
    pl_user_data u;
    pl_error err;
    if (pl_user_data_load(tsv, size % 2 == 0 ? idx : pgm, 10, 10, &u, &err) == PL_OK) {
        check_loaded(&u);
        pl_user_data_free(&u);
    }
    int counts[PL_USER_SPLITS];
    (void)pl_user_data_count(tsv, counts, &err);
    return 0;
}
