/* test_nn_embedding.c - lookup forward exactly equals the table rows; backward (with repeated
 * ids, which must add up) against central finite differences of a double oracle. Sums of at
 * most 3 float values: tolerance 1e-6. */
#include "nn/embedding.h"
#include "nn_testutil.h"

enum { V = 6, C = 5, N = 7 };
static const int ids[N] = {2, 0, 2, 5, 2, 0, 3}; /* id 2 three times, id 0 twice, 1 and 4 never */

typedef struct {
    double table[V * C], r[N * C];
} emb_ctx;

static double emb_loss(void *ctx) {
    emb_ctx *c = ctx;
    double s = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < C; j++) s += c->table[ids[i] * C + j] * c->r[i * C + j];
    return s;
}

Test(nn_embedding, lookup_and_repeated_id_gradients) {
    float table[V * C], r[N * C], out[N * C];
    tu_randn(table, V * C, 41, 1.0f, 0.0f);
    tu_randn(r, N * C, 42, 1.0f, 0.0f);
    embedding_forward(out, ids, table, N, C);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < C; j++) cr_assert_eq(out[i * C + j], table[ids[i] * C + j]);
    emb_ctx c;
    for (int i = 0; i < V * C; i++) c.table[i] = table[i];
    for (int i = 0; i < N * C; i++) c.r[i] = r[i];
    float *dt = tu_alloc_f(V * C, 0.25f);
    embedding_backward(dt, r, ids, N, C);
    double num[V * C];
    tu_numgrad(num, c.table, V * C, emb_loss, &c);
    tu_check(dt, num, V * C, 0.25f, 1e-6, "embedding dtable");
    for (int j = 0; j < C; j++) cr_assert_eq(dt[1 * C + j], 0.25f); /* unused rows untouched */
    free(dt);
}
