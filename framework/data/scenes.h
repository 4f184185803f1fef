/* scenes.h - fashion-scenes: 56x56 images made of a 2x2 grid of 28x28 Fashion-MNIST cells.
 *
 * Cells are numbered in reading order: 0 top left, 1 top right, 2 bottom left, 3 bottom
 * right. Each cell independently holds an item with probability item_prob (an image drawn
 * uniformly from a pool of source images) or is empty (background). A scene is a pure
 * function of its RNG key: the pool and the key fix every draw. Rendered pixels are
 * normalised with Fashion-MNIST's mean and standard deviation, so an empty cell is
 * -mean/std everywhere. */
#ifndef PL_DATA_SCENES_H
#define PL_DATA_SCENES_H

#include <stdint.h>

#include "core/rng.h"
#include "data/batch.h"

#define PL_FASHION_MEAN 0.2860f
#define PL_FASHION_STD 0.3530f

/* An 8-bit pixel normalised with Fashion-MNIST's mean and standard deviation: what every
 * image the model sees holds, generated scenes and a user's own images alike. */
static inline float pl_pixel_normalise(uint8_t v) {
    return (float)v * (1.0f / (255.0f * PL_FASHION_STD)) - PL_FASHION_MEAN / PL_FASHION_STD;
}

/* The source images a scene draws from: indices [first, first + count) of a set. */
typedef struct {
    const uint8_t *images; /* [*, 28, 28] */
    const uint8_t *labels; /* [*] */
    int first, count;
} pl_scene_pool;

typedef struct {
    int cells[SCENE_CELLS]; /* class 0..9 or CELL_EMPTY */
    int image[SCENE_CELLS]; /* index of the source image in its set, -1 if empty */
} pl_scene;

/* Draws a scene from the pool with the stream `rng`. */
void pl_scene_generate(const pl_scene_pool *pool, float item_prob, pl_rng rng, pl_scene *out);

/* Writes the scene's normalised pixels, [SCENE_SIDE, SCENE_SIDE] row-major, into out. */
void pl_scene_render(const pl_scene *scene, const uint8_t *images, float *out);

/* Row and column (0 or 1) of a cell, and the cell at a row and column. */
static inline int pl_cell_row(int cell) { return cell / 2; }
static inline int pl_cell_col(int cell) { return cell % 2; }
static inline int pl_cell_at(int row, int col) { return row * 2 + col; }

#endif
