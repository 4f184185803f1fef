/* scenes.c - drawing a 2x2 scene from a pool of source images and rendering its pixels. */
#include "data/scenes.h"

#include "data/fashion.h"

void pl_scene_generate(const pl_scene_pool *pool, float item_prob, pl_rng rng, pl_scene *out) {
    pl_rng_cursor c = pl_rng_cursor_at(rng, 0);
    for (int k = 0; k < SCENE_CELLS; k++) {
        /* Two draws per cell whether or not it is filled, so cell k's draws never shift
         * when another cell's outcome changes. */
        float u = pl_cursor_uniform(&c);
        uint32_t pick = pl_cursor_below(&c, (uint32_t)pool->count);
        if (u < item_prob) {
            int img = pool->first + (int)pick;
            out->image[k] = img;
            out->cells[k] = pool->labels[img];
        } else {
            out->image[k] = -1;
            out->cells[k] = CELL_EMPTY;
        }
    }
}

void pl_scene_render(const pl_scene *scene, const uint8_t *images, float *out) {
    const float background = pl_pixel_normalise(0);
    for (int k = 0; k < SCENE_CELLS; k++) {
        int r0 = pl_cell_row(k) * PL_FASHION_SIDE, c0 = pl_cell_col(k) * PL_FASHION_SIDE;
        const uint8_t *src =
            scene->image[k] >= 0 ? images + (size_t)scene->image[k] * PL_FASHION_PIXELS : NULL;
        for (int r = 0; r < PL_FASHION_SIDE; r++) {
            float *dst = out + (size_t)(r0 + r) * SCENE_SIDE + c0;
            for (int x = 0; x < PL_FASHION_SIDE; x++)
                dst[x] = src ? pl_pixel_normalise(src[r * PL_FASHION_SIDE + x]) : background;
        }
    }
}
