/* score.c - magnitude and Wanda importance scores (see score.h). */
#include "prune/score.h"

#include <math.h>

#include "prune/par.h"

void prune_score_magnitude(const float *w, size_t count, double *score) {
#pragma omp parallel for schedule(static) if (count > PRUNE_PAR_MIN)
    for (size_t i = 0; i < count; i++) score[i] = fabs((double)w[i]);
}

void prune_score_wanda(const float *w, int rows, int cols, const double *sumsq, int64_t tokens,
                       double *score) {
    /* Wanda approximates the output change of removing W_ij by |W_ij|·‖X_j‖₂; the 1/sqrt(n)
     * makes it an RMS so scores stay comparable however many tokens were seen. */
    const double inv = 1.0 / (double)tokens;
#pragma omp parallel for schedule(static) if ((size_t)rows * cols > PRUNE_PAR_MIN)
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) {
            size_t at = (size_t)r * cols + j;
            score[at] = fabs((double)w[at]) * sqrt(sumsq[j] * inv);
        }
}
