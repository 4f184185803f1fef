/* losses.c - cross-entropy on chosen rows, temperature KL(teacher ‖ student) and MSE.
 *
 * Scalar sums are taken over fixed chunks of rows (partials in double) and the partials are
 * added in chunk order, so the loss is the same bit for bit whatever the thread count. */
#include "nn/losses.h"

#include <assert.h>
#include <math.h>

enum { ROWS_PER_CHUNK = 8, ELEMS_PER_CHUNK = 4096, CHUNKS_PER_ROUND = 256 };

/* Row-wise softmax of x/T into p; returns log Σ_j exp(x_j/T − max) + max, i.e. log of the
 * partition function of x/T. */
static float softmax_row(float *p, const float *x, int v, float inv_t) {
    float mx = -INFINITY;
    for (int j = 0; j < v; j++) mx = x[j] * inv_t > mx ? x[j] * inv_t : mx;
    float sum = 0.0f;
    for (int j = 0; j < v; j++) {
        p[j] = expf(x[j] * inv_t - mx);
        sum += p[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < v; j++) p[j] *= inv;
    return mx + logf(sum);
}

float crossentropy_forward(float *probs, const float *logits, const int *targets, int n, int v,
                           int *counted) {
    int cnt = 0;
    for (int i = 0; i < n; i++) cnt += targets[i] >= 0;
    if (counted != NULL) *counted = cnt;
    double total = 0.0;
    for (int base = 0; base < n; base += ROWS_PER_CHUNK * CHUNKS_PER_ROUND) {
        const int end = n - base < ROWS_PER_CHUNK * CHUNKS_PER_ROUND
                            ? n : base + ROWS_PER_CHUNK * CHUNKS_PER_ROUND;
        const int chunks = (end - base + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        double part[CHUNKS_PER_ROUND];
#pragma omp parallel for schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            const int i0 = base + ch * ROWS_PER_CHUNK;
            const int i1 = i0 + ROWS_PER_CHUNK < end ? i0 + ROWS_PER_CHUNK : end;
            double s = 0.0;
            for (int i = i0; i < i1; i++) {
                const float *x = logits + (long)i * v;
                const float lse = softmax_row(probs + (long)i * v, x, v, 1.0f);
                const int t = targets[i];
                assert(t < v);
                /* −log softmax(x)_t = log Σ exp(x) − x_t, exact even when p_t underflows */
                if (t >= 0) s += (double)lse - (double)x[t];
            }
            part[ch] = s;
        }
        for (int ch = 0; ch < chunks; ch++) total += part[ch];
    }
    return cnt > 0 ? (float)(total / cnt) : 0.0f;
}

void crossentropy_backward(float *dlogits, const float *probs, const int *targets, int n,
                           int v, float dloss) {
    /* L = (1/N)·Σ_i (lse_i − x_{i,t}) ⇒ dL/dx_ij = (p_ij − [j = t_i]) / N */
    int cnt = 0;
    for (int i = 0; i < n; i++) cnt += targets[i] >= 0;
    if (cnt == 0) return;
    const float f = dloss / (float)cnt;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const int t = targets[i];
        if (t < 0) continue;
        const float *p = probs + (long)i * v;
        float *d = dlogits + (long)i * v;
        for (int j = 0; j < v; j++) d[j] += f * (p[j] - (j == t ? 1.0f : 0.0f));
    }
}

float kl_forward(float *p_teacher, float *q_student, const float *student_logits,
                 const float *teacher_logits, const unsigned char *use, int n, int v,
                 float temperature) {
    const float inv_t = 1.0f / temperature;
    int used = 0;
    for (int i = 0; i < n; i++) used += use == NULL || use[i] != 0;
    double total = 0.0;
    for (int base = 0; base < n; base += ROWS_PER_CHUNK * CHUNKS_PER_ROUND) {
        const int end = n - base < ROWS_PER_CHUNK * CHUNKS_PER_ROUND
                            ? n : base + ROWS_PER_CHUNK * CHUNKS_PER_ROUND;
        const int chunks = (end - base + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        double part[CHUNKS_PER_ROUND];
#pragma omp parallel for schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            const int i0 = base + ch * ROWS_PER_CHUNK;
            const int i1 = i0 + ROWS_PER_CHUNK < end ? i0 + ROWS_PER_CHUNK : end;
            double s = 0.0;
            for (int i = i0; i < i1; i++) {
                const float *tl = teacher_logits + (long)i * v, *sl = student_logits + (long)i * v;
                float *p = p_teacher + (long)i * v, *q = q_student + (long)i * v;
                const float zp = softmax_row(p, tl, v, inv_t);
                const float zq = softmax_row(q, sl, v, inv_t);
                if (use != NULL && use[i] == 0) continue;
                /* KL(p‖q) = Σ p·(log p − log q), log p_j = t_j/T − zp, log q_j = s_j/T − zq;
                 * terms with p_j = 0 contribute 0. */
                float kl = 0.0f;
                for (int j = 0; j < v; j++)
                    if (p[j] > 0.0f) kl += p[j] * ((tl[j] - sl[j]) * inv_t - zp + zq);
                s += kl;
            }
            part[ch] = s;
        }
        for (int ch = 0; ch < chunks; ch++) total += part[ch];
    }
    if (used == 0) return 0.0f;
    return (float)((double)temperature * temperature * total / used);
}

void kl_backward(float *dstudent, const float *p_teacher, const float *q_student,
                 const unsigned char *use, int n, int v, float temperature, float dloss) {
    /* L = T²/N·Σ_i Σ_j p_ij(log p_ij − log q_ij), ∂(−Σ p log q)/∂s_j = (q_j − p_j)/T
     * ⇒ dL/ds_ij = T·(q_ij − p_ij)/N */
    int used = 0;
    for (int i = 0; i < n; i++) used += use == NULL || use[i] != 0;
    if (used == 0) return;
    const float f = dloss * temperature / (float)used;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        if (use != NULL && use[i] == 0) continue;
        const float *p = p_teacher + (long)i * v, *q = q_student + (long)i * v;
        float *d = dstudent + (long)i * v;
        for (int j = 0; j < v; j++) d[j] += f * (q[j] - p[j]);
    }
}

float mse_forward(const float *a, const float *b, size_t n) {
    if (n == 0) return 0.0f;
    double total = 0.0;
    const size_t round = (size_t)ELEMS_PER_CHUNK * CHUNKS_PER_ROUND;
    for (size_t base = 0; base < n; base += round) {
        const size_t end = n - base < round ? n : base + round;
        const int chunks = (int)((end - base + ELEMS_PER_CHUNK - 1) / ELEMS_PER_CHUNK);
        double part[CHUNKS_PER_ROUND];
#pragma omp parallel for schedule(static)
        for (int ch = 0; ch < chunks; ch++) {
            const size_t i0 = base + (size_t)ch * ELEMS_PER_CHUNK;
            const size_t i1 = i0 + ELEMS_PER_CHUNK < end ? i0 + ELEMS_PER_CHUNK : end;
            double s = 0.0; /* partials in double, as for the other losses */
            for (size_t i = i0; i < i1; i++) {
                const double d = (double)a[i] - (double)b[i];
                s += d * d;
            }
            part[ch] = s;
        }
        for (int ch = 0; ch < chunks; ch++) total += part[ch];
    }
    return (float)(total / (double)n);
}

void mse_backward(float *da, float *db, const float *a, const float *b, size_t n, float dloss) {
    if (n == 0) return;
    const float f = 2.0f * dloss / (float)n; /* d/da mean((a−b)²) = 2(a−b)/n */
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = f * (a[i] - b[i]);
        if (da != NULL) da[i] += g;
        if (db != NULL) db[i] -= g;
    }
}
