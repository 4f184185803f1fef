/* hard_concrete.c - hard-concrete gates (see hard_concrete.h). */
#include "nn/hard_concrete.h"

#include <math.h>

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

void hard_concrete_sample(const hard_concrete *hc, const float *log_alpha, const float *u,
                          float *z, float *dz, size_t n) {
    const double span = (double)hc->zeta - hc->gamma;
    for (size_t i = 0; i < n; i++) {
        const double s = sigmoid((log(u[i]) - log1p(-(double)u[i]) + log_alpha[i]) / hc->beta);
        const double stretched = s * span + hc->gamma;
        const int inside = stretched > 0.0 && stretched < 1.0;
        z[i] = (float)(stretched <= 0.0 ? 0.0 : stretched >= 1.0 ? 1.0 : stretched);
        if (dz != NULL) dz[i] = inside ? (float)(span * s * (1.0 - s) / hc->beta) : 0.0f;
    }
}

void hard_concrete_nonzero(const hard_concrete *hc, const float *log_alpha, float *p, float *dp,
                           size_t n) {
    const double shift = hc->beta * log(-(double)hc->gamma / hc->zeta);
    for (size_t i = 0; i < n; i++) {
        const double q = sigmoid(log_alpha[i] - shift);
        p[i] = (float)q;
        if (dp != NULL) dp[i] = (float)(q * (1.0 - q));
    }
}

void hard_concrete_eval(const hard_concrete *hc, const float *log_alpha, float *z, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const double v = sigmoid(log_alpha[i]) * ((double)hc->zeta - hc->gamma) + hc->gamma;
        z[i] = (float)(v <= 0.0 ? 0.0 : v >= 1.0 ? 1.0 : v);
    }
}

float hard_concrete_log_alpha_of_drop(float d) { return (float)(log1p(-(double)d) - log((double)d)); }

double lagrangian_penalty(double l1, double l2, double s, double t, double *d_s, double *d_l1,
                          double *d_l2) {
    const double gap = s - t;
    if (d_s != NULL) *d_s = l1 + 2.0 * l2 * gap;
    if (d_l1 != NULL) *d_l1 = gap;
    if (d_l2 != NULL) *d_l2 = gap * gap;
    return l1 * gap + l2 * gap * gap;
}
