/* state_copy.c - keeping a forward pass's per-block states (see state_copy.h). */
#include "model/state_copy.h"

#include <string.h>

#include "core/alloc.h"

/* One kept state at offset *at of mem: points its view slot there and, when copying,
 * copies n_now floats from src; advances *at by its room n_cap. Without mem it only counts. */
static void keep(float *mem, size_t *at, const float **slot, const float *src, size_t n_now,
                 size_t n_cap, int copy) {
    if (mem != NULL) {
        if (copy) memcpy(mem + *at, src, n_now * sizeof(float));
        *slot = mem + *at;
    }
    *at += n_cap;
}

/* Walks every kept state in mem's order; returns the floats they need. */
static size_t walk(vlm_state_copy *c, const vlm *m, int batch, int copy) {
    state_module cap[MODULE_COUNT], now[MODULE_COUNT];
    vlm_state_modules(m, m->max_batch, cap);
    vlm_state_modules(m, batch, now);
    size_t at = 0;
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < cap[mod].layers; l++) {
            const block_acts *a = &now[mod].acts[l];
            if (c->hidden)
                keep(c->mem, &at, &c->view.hidden[mod][l], a->out, now[mod].hidden_floats,
                     cap[mod].hidden_floats, copy);
            if (c->att && cap[mod].att_floats[l] > 0)
                keep(c->mem, &at, &c->view.att[mod][l], a->att, now[mod].att_floats[l],
                     cap[mod].att_floats[l], copy);
        }
    return at;
}

pl_status vlm_state_copy_alloc(vlm_state_copy *c, const vlm *m, int hidden, int att,
                               pl_error *err) {
    memset(c, 0, sizeof *c);
    c->hidden = hidden, c->att = att;
    c->mem = pl_alloc(walk(c, m, m->max_batch, 0), sizeof(float), err);
    if (c->mem == NULL) return PL_ERR_NOMEM;
    walk(c, m, m->max_batch, 0);
    return PL_OK;
}

void vlm_state_copy_take(vlm_state_copy *c, const vlm *m, int batch) { walk(c, m, batch, 1); }

void vlm_state_copy_free(vlm_state_copy *c) {
    pl_free(c->mem);
    memset(c, 0, sizeof *c);
}

void vlm_states_of(vlm_states *view, const vlm *m) {
    memset(view, 0, sizeof *view);
    state_module sm[MODULE_COUNT];
    vlm_state_modules(m, m->max_batch, sm);
    for (int mod = 0; mod < MODULE_COUNT; mod++)
        for (int l = 0; l < sm[mod].layers; l++) {
            view->hidden[mod][l] = sm[mod].acts[l].out;
            view->att[mod][l] = sm[mod].att_floats[l] > 0 ? sm[mod].acts[l].att : NULL;
        }
}
