/* losses.c - cross-entropy on chosen rows, temperature KL(teacher ‖ student) and MSE.
 *
 * Scalar sums go through core/reduce.h (fixed chunks, partials in double, added in order),
 * so the loss is the same bit for bit whatever the thread count. */
#include "nn/losses.h"

#include <assert.h>
#include <math.h>

#include "core/reduce.h"

enum { ROWS_PER_CHUNK = 8, ELEMS_PER_CHUNK = 4096 };

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

typedef struct {
    float *probs;
    const float *logits;
    const int *targets;
    int v;
} ce_rows;

/* Σ over rows [i0, i1) of −log softmax(x)_t; writes each row's probabilities. */
static double ce_partial(const void *ctx, size_t i0, size_t i1) {
    const ce_rows *c = ctx;
    double s = 0.0;
    for (size_t i = i0; i < i1; i++) {
        const float *x = c->logits + i * (size_t)c->v;
        const float lse = softmax_row(c->probs + i * (size_t)c->v, x, c->v, 1.0f);
        const int t = c->targets[i];
        assert(t < c->v);
        /* −log softmax(x)_t = log Σ exp(x) − x_t, exact even when p_t underflows */
        if (t >= 0) s += (double)lse - (double)x[t];
    }
    return s;
}

float crossentropy_forward(float *probs, const float *logits, const int *targets, int n, int v,
                           int *counted) {
    int cnt = 0;
    for (int i = 0; i < n; i++) cnt += targets[i] >= 0;
    if (counted != NULL) *counted = cnt;
    const ce_rows ctx = {probs, logits, targets, v};
    const double total = pl_sum_chunked((size_t)n, ROWS_PER_CHUNK, ce_partial, &ctx);
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

typedef struct {
    float *p_teacher, *q_student;
    const float *student_logits, *teacher_logits;
    const unsigned char *use;
    int v;
    float inv_t;
} kl_rows;

/* Σ over used rows [i0, i1) of KL(p‖q); writes both rows' softmaxes. */
static double kl_partial(const void *ctx, size_t i0, size_t i1) {
    const kl_rows *c = ctx;
    const size_t v = (size_t)c->v;
    double s = 0.0;
    for (size_t i = i0; i < i1; i++) {
        const float *tl = c->teacher_logits + i * v, *sl = c->student_logits + i * v;
        float *p = c->p_teacher + i * v, *q = c->q_student + i * v;
        const float zp = softmax_row(p, tl, c->v, c->inv_t);
        const float zq = softmax_row(q, sl, c->v, c->inv_t);
        if (c->use != NULL && c->use[i] == 0) continue;
        /* KL(p‖q) = Σ p·(log p − log q), log p_j = t_j/T − zp, log q_j = s_j/T − zq;
         * terms with p_j = 0 contribute 0. */
        float kl = 0.0f;
        for (size_t j = 0; j < v; j++)
            if (p[j] > 0.0f) kl += p[j] * ((tl[j] - sl[j]) * c->inv_t - zp + zq);
        s += kl;
    }
    return s;
}

float kl_forward(float *p_teacher, float *q_student, const float *student_logits,
                 const float *teacher_logits, const unsigned char *use, int n, int v,
                 float temperature) {
    int used = 0;
    for (int i = 0; i < n; i++) used += use == NULL || use[i] != 0;
    const kl_rows ctx = {p_teacher, q_student, student_logits, teacher_logits, use, v,
                         1.0f / temperature};
    const double total = pl_sum_chunked((size_t)n, ROWS_PER_CHUNK, kl_partial, &ctx);
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

typedef struct {
    const float *a, *b;
} mse_items;

static double mse_partial(const void *ctx, size_t i0, size_t i1) {
    const mse_items *c = ctx;
    double s = 0.0;
    for (size_t i = i0; i < i1; i++) {
        const double d = (double)c->a[i] - (double)c->b[i];
        s += d * d;
    }
    return s;
}

float mse_forward(const float *a, const float *b, size_t n) {
    if (n == 0) return 0.0f;
    const mse_items ctx = {a, b};
    return (float)(pl_sum_chunked(n, ELEMS_PER_CHUNK, mse_partial, &ctx) / (double)n);
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
