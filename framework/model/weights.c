/* weights.c - linear layers and layer norms bound to a weight_set's buffers. */
#include "model/weights.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/layernorm.h"

static linear_params params_of(const weight_set *w, const linear_ref *r) {
    linear_params p = {0};
    p.weight = pl_buffer_view(w->params, r->weight);
    p.bias = pl_buffer_view(w->params, r->bias);
    p.mask = w->masks ? pl_buffer_view(w->masks, r->weight) : NULL;
    p.adapter = ADAPTER_NONE;
    const adapter_set *a = w->adapters;
    if (a != NULL && a->a_of[r->weight] >= 0) {
        p.adapter = a->kind;
        p.lora_a = pl_buffer_view(&a->values, a->a_of[r->weight]);
        p.lora_b = pl_buffer_view(&a->values, a->b_of[r->weight]);
        p.rank = a->rank_of[r->weight];
        p.scale = a->scale_of[r->weight];
        if (a->keep_rows != NULL) {
            p.keep_rows = a->keep_rows[r->weight];
            p.keep_cols = a->keep_cols[r->weight];
        }
    }
    return p;
}

/* An unmerged LoRA layer runs its delta factored beside the frozen W⊙M - except on a
 * structurally pruned model, whose delta is masked on the removed units' rows and columns
 * (nn/linear.h): there the whole (W⊙M + s·B·A)⊙U is materialised, as SparseLoRA's is. */
static int lora_factored(const linear_params *p) {
    return p->adapter == ADAPTER_LORA && p->keep_rows == NULL && p->keep_cols == NULL;
}

pl_status ws_bf16_create(ws_bf16 *b, const pl_layout *layout, pl_error *err) {
    memset(b, 0, sizeof *b);
    PL_TRY(pl_bf16_gemm_create(&b->gemm, err));
    b->weights = pl_alloc(layout->total, sizeof *b->weights, err); /* fills err on failure */
    if (b->weights == NULL) {
        ws_bf16_free(b);
        return PL_ERR_NOMEM;
    }
    b->inputs = calloc((size_t)layout->count, sizeof *b->inputs);
    if (b->inputs == NULL) {
        ws_bf16_free(b);
        return PL_ERROR(err, PL_ERR_NOMEM, "out of memory for the BF16 inputs");
    }
    b->count = layout->count;
    return PL_OK;
}

void ws_bf16_free(ws_bf16 *b) {
    pl_bf16_gemm_free(b->gemm);
    pl_free(b->weights);
    for (int i = 0; b->inputs != NULL && i < b->count; i++) pl_free(b->inputs[i].values);
    free(b->inputs);
    pl_free(b->x);
    pl_free(b->dy);
    memset(b, 0, sizeof *b);
}

pl_status ws_bf16_status(const ws_bf16 *b, pl_error *err) {
    if (b->out_of_memory)
        return PL_ERROR(err, PL_ERR_NOMEM, "out of memory for the BF16 copies of a layer's input");
    return pl_bf16_gemm_status(b->gemm, err);
}

/* Grows *buf to hold n values; on failure marks the set and returns 0. */
static int reserve(uint16_t **buf, size_t *cap, size_t n, ws_bf16 *b) {
    if (b->out_of_memory) return 0;
    if (n <= *cap) return 1;
    pl_free(*buf);
    *cap = (*buf = pl_alloc(n, sizeof **buf, NULL)) != NULL ? n : 0;
    b->out_of_memory = *buf == NULL;
    return *buf != NULL;
}

/* The BF16 view of layer r for input x of n rows in p->bf16 (storage h), or 0 when the set
 * has no BF16 path or its storage could not grow (the pass then runs with a failure
 * recorded). Forward rounds x into the layer's own input copy; backward reads that copy when
 * it gets the input forward rounded, else rounds x again into scratch. */
static int bind_bf16(const weight_set *w, const linear_ref *r, const float *x, int n,
                     bool forward, linear_params *p, linear_bf16 *h) {
    ws_bf16 *b = w->bf16;
    if (b == NULL || w->frozen) return 0;
    ws_bf16_input *in = &b->inputs[r->weight];
    const size_t count = (size_t)n * r->in;
    const bool rounded = !forward && in->from == x && in->rows == n; /* forward's copy */
    uint16_t *xh;
    if (forward) {
        in->from = NULL; /* until it holds this input */
        if (!reserve(&in->values, &in->cap, count, b)) return 0;
        in->from = x, in->rows = n, xh = in->values;
    } else if (rounded) {
        xh = in->values;
    } else {
        if (!reserve(&b->x, &b->x_cap, count, b)) return 0;
        xh = b->x;
    }
    if (!reserve(&b->dy, &b->dy_cap, (size_t)n * r->out, b)) return 0;
    *h = (linear_bf16){.gemm = b->gemm,
                       .weight = b->weights + w->params->layout->tensors[r->weight].offset,
                       .x = xh, .x_rounded = rounded, .dy = b->dy};
    p->bf16 = h;
    return 1;
}

static float *weff_of(const weight_set *w, const linear_ref *r, const linear_params *p) {
    return linear_needs_weff(p) ? pl_buffer_view(w->weff, r->weight) : NULL;
}

void ws_linear_forward(const weight_set *w, const linear_ref *r, float *y, const float *x, int n) {
    linear_params p = params_of(w, r);
    if (w->frozen && linear_needs_weff(&p)) { /* the frozen weight is in weff already */
        const linear_params lora = p;
        p.weight = pl_buffer_view(w->weff, r->weight);
        p.mask = NULL;
        p.adapter = ADAPTER_NONE;
        linear_forward(y, NULL, x, &p, n, r->in, r->out);
        if (lora_factored(&lora))
            linear_lora_delta_forward(y, x, lora.lora_a, lora.lora_b, lora.rank, lora.scale, n,
                                      r->in, r->out);
        return;
    }
    linear_bf16 h;
    bind_bf16(w, r, x, n, true, &p, &h);
    linear_forward(y, weff_of(w, r, &p), x, &p, n, r->in, r->out);
}

void ws_freeze_linear(const weight_set *w, const linear_ref *r) {
    linear_params p = params_of(w, r);
    if (!linear_needs_weff(&p)) return;
    if (lora_factored(&p)) p.adapter = ADAPTER_NONE; /* W⊙M; the delta runs factored */
    float *weff = pl_buffer_view(w->weff, r->weight);
    if (linear_needs_weff(&p)) linear_effective_weight(weff, &p, r->in, r->out);
    else memcpy(weff, p.weight, (size_t)r->in * r->out * sizeof(float)); /* unmasked LoRA */
}

static void linear_backward_of(const weight_set *w, const linear_ref *r, float *dx, int dx_set,
                               const float *dy, const float *x, int n) {
    linear_params p = params_of(w, r);
    linear_grads g = {0};
    if (w->grads) {
        g.weight = pl_buffer_view(w->grads, r->weight);
        g.bias = pl_buffer_view(w->grads, r->bias);
    }
    if (w->adapter_grads && p.adapter != ADAPTER_NONE) {
        g.lora_a = pl_buffer_view(w->adapter_grads, w->adapters->a_of[r->weight]);
        g.lora_b = pl_buffer_view(w->adapter_grads, w->adapters->b_of[r->weight]);
    }
    linear_bf16 h;
    bind_bf16(w, r, x, n, false, &p, &h);
    if (dx_set)
        linear_backward_set_dx(dx, &g, w->dweff, dy, x, weff_of(w, r, &p), &p, n, r->in, r->out);
    else
        linear_backward(dx, &g, w->dweff, dy, x, weff_of(w, r, &p), &p, n, r->in, r->out);
}

void ws_linear_backward(const weight_set *w, const linear_ref *r, float *dx, const float *dy,
                        const float *x, int n) {
    linear_backward_of(w, r, dx, 0, dy, x, n);
}

void ws_linear_backward_set_dx(const weight_set *w, const linear_ref *r, float *dx,
                               const float *dy, const float *x, int n) {
    linear_backward_of(w, r, dx, 1, dy, x, n);
}

void ws_norm_forward(const weight_set *w, const norm_ref *r, float *out, float *mean,
                     float *rstd, const float *inp, int n, int c) {
    layernorm_forward(out, mean, rstd, inp, pl_buffer_view(w->params, r->weight),
                      pl_buffer_view(w->params, r->bias), n, c);
}

void ws_norm_backward(const weight_set *w, const norm_ref *r, float *dinp, const float *dout,
                      const float *inp, const float *mean, const float *rstd, int n, int c) {
    float *dweight = w->grads ? pl_buffer_view(w->grads, r->weight) : NULL;
    float *dbias = w->grads ? pl_buffer_view(w->grads, r->bias) : NULL;
    layernorm_backward(dinp, dweight, dbias, dout, inp, pl_buffer_view(w->params, r->weight),
                       mean, rstd, n, c);
}
