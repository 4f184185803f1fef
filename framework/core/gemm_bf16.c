/* gemm_bf16.c - BF16 x BF16 -> FP32 matrix products through oneDNN's matmul primitive, on a
 * tile grid fixed by the shape so the result is the same at every thread count (see
 * gemm_bf16.h). */
#include "core/gemm_bf16.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* The tiles of C, one oneDNN call each: about TILES row tiles (so two to four threads have
 * work) of whole rows up to TILE_N_MAX columns, else TILE_N-column tiles. A function of the
 * shape, never of the thread count. Fewer, larger tiles repack the shared operand less often
 * (measured: 256 x 512 tiles and these run within noise of each other on `small`, these 1-2 %
 * faster on `base`). */
enum { TILES = 4, TILE_M_MIN = 32, TILE_M_MAX = 512, TILE_N = 512, TILE_N_MAX = 1024 };

/* Rows per tile: m split into about TILES tiles, a multiple of 32 rows within the bounds. */
static int tile_rows(int m) {
    int tm = (m + TILES - 1) / TILES;
    tm = (tm + TILE_M_MIN - 1) / TILE_M_MIN * TILE_M_MIN;
    return tm < TILE_M_MIN ? TILE_M_MIN : tm > TILE_M_MAX ? TILE_M_MAX : tm;
}

/* One primitive per tile shape and layout, with each thread's memory objects for it. */
enum { MEMS = 5 };
typedef struct {
    int m, n, k, lda, ldb, ldc;
    bool trans_a, trans_b, accumulate, bias; /* bias: + bias[j] on every row of the tile */
    dnnl_primitive_t prim;
    size_t scratch_bytes;
    dnnl_memory_t *mem; /* [threads * MEMS]: src, weights, dst, scratchpad, bias per thread */
} tile_kernel;

struct pl_bf16_gemm {
    dnnl_engine_t engine;
    dnnl_stream_t *streams; /* one per thread: a stream is not shared between threads */
    int threads;            /* slots ready in streams, scratch, and every kernel's mem */
    int slots;              /* entries of streams and scratch (NULL or owned; may exceed
                               threads after a failed growth) */
    void **scratch;         /* [threads] of scratch_cap bytes */
    size_t scratch_cap;
    tile_kernel **kernels; /* each allocated on its own: a pointer to one stays valid while
                              the list grows */
    int count, capacity;
    pl_error failure; /* sticky: status PL_OK until something fails */
};

bool pl_bf16_supported(char *why, size_t cap) {
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) ==
        (unsigned)dnnl_cpu_isa_avx512_core_bf16)
        return true;
    if (why != NULL)
        snprintf(why, cap, "this CPU has neither AVX512-BF16 nor AMX (oneDNN's instruction set "
                 "here: %s)", pl_bf16_isa_name());
    return false;
}

const char *pl_bf16_isa_name(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "other";
    }
}

void pl_bf16_describe(char *out, size_t cap) {
    const dnnl_version_t *v = dnnl_version();
    snprintf(out, cap, "bf16: oneDNN %d.%d.%d, %s", v->major, v->minor, v->patch,
             pl_bf16_isa_name());
}

/* Round to nearest even on the bit pattern: add 0x7fff plus the lowest kept bit, keep the
 * upper half. A NaN is made quiet instead (adding could carry it into an infinity). */
static inline uint16_t bf16_round(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);
}

void pl_bf16_from_float(uint16_t *dst, const float *src, size_t n) {
#pragma omp parallel for schedule(static) if (n > 16384)
    for (size_t i = 0; i < n; i++) dst[i] = bf16_round(src[i]);
}

/* Records the first failure: what failed, for which tile shape, and oneDNN's own status
 * (dnnl_out_of_memory for prunelab's own allocations). */
static void fail(pl_bf16_gemm *g, pl_status status, const char *what, const tile_kernel *t,
                 dnnl_status_t s) {
    if (g->failure.status != PL_OK) return;
    if (t == NULL)
        PL_ERROR(&g->failure, status, "BF16 matrix product: %s failed (%s)", what, dnnl_status2str(s));
    else
        PL_ERROR(&g->failure, status, "BF16 matrix product of a %d x %d x %d tile: %s failed (%s)",
                 t->m, t->n, t->k, what, dnnl_status2str(s));
}

pl_status pl_bf16_gemm_create(pl_bf16_gemm **out, pl_error *err) {
    *out = NULL;
    pl_bf16_gemm *g = calloc(1, sizeof *g);
    if (g == NULL) return PL_ERROR(err, PL_ERR_NOMEM, "out of memory for the BF16 product context");
    if (dnnl_engine_create(&g->engine, dnnl_cpu, 0) != dnnl_success) {
        free(g);
        return PL_ERROR(err, PL_ERR_INTERNAL, "oneDNN could not create its CPU engine");
    }
    *out = g;
    return PL_OK;
}

static void kernel_release(pl_bf16_gemm *g, tile_kernel *t) {
    if (t->mem != NULL)
        for (int i = 0; i < MEMS * g->threads; i++)
            if (t->mem[i] != NULL) dnnl_memory_destroy(t->mem[i]);
    free(t->mem);
    if (t->prim != NULL) dnnl_primitive_destroy(t->prim);
}

void pl_bf16_gemm_free(pl_bf16_gemm *g) {
    if (g == NULL) return;
    for (int i = 0; i < g->count; i++) {
        kernel_release(g, g->kernels[i]);
        free(g->kernels[i]);
    }
    free(g->kernels);
    for (int i = 0; i < g->slots; i++) {
        if (g->streams[i] != NULL) dnnl_stream_destroy(g->streams[i]);
        pl_free(g->scratch[i]);
    }
    free(g->streams);
    free(g->scratch);
    dnnl_engine_destroy(g->engine);
    free(g);
}

pl_status pl_bf16_gemm_status(const pl_bf16_gemm *g, pl_error *err) {
    if (g->failure.status == PL_OK) return PL_OK;
    if (err != NULL) *err = g->failure;
    return g->failure.status;
}

/* Makes room for `threads` threads: streams, scratch slots and memory-object slots of the
 * kernels built so far (built lazily per thread in kernel_memory). */
static bool ensure_threads(pl_bf16_gemm *g, int threads) {
    if (threads <= g->threads) return true;
    if (threads > g->slots) {
        dnnl_stream_t *streams = realloc(g->streams, (size_t)threads * sizeof *streams);
        if (streams == NULL) return false;
        g->streams = streams;
        void **scratch = realloc(g->scratch, (size_t)threads * sizeof *scratch);
        if (scratch == NULL) return false;
        g->scratch = scratch;
        for (int i = g->slots; i < threads; i++) g->streams[i] = NULL, g->scratch[i] = NULL;
        g->slots = threads; /* from here on pl_bf16_gemm_free releases whatever they hold */
    }
    for (int i = g->threads; i < threads; i++)
        if (g->streams[i] == NULL &&
            dnnl_stream_create(&g->streams[i], g->engine, dnnl_stream_default_flags) != dnnl_success)
            return false;
    for (int c = 0; c < g->count; c++) {
        tile_kernel *t = g->kernels[c];
        dnnl_memory_t *mem = realloc(t->mem, (size_t)threads * MEMS * sizeof *mem);
        if (mem == NULL) return false;
        for (int i = MEMS * g->threads; i < MEMS * threads; i++) mem[i] = NULL;
        t->mem = mem;
    }
    /* Scratch slots of the new threads are allocated at the current size. */
    for (int i = g->threads; i < threads; i++)
        if (g->scratch_cap > 0 && g->scratch[i] == NULL &&
            (g->scratch[i] = pl_alloc(g->scratch_cap, 1, NULL)) == NULL)
            return false;
    g->threads = threads;
    return true;
}

static bool ensure_scratch(pl_bf16_gemm *g, size_t bytes) {
    if (bytes <= g->scratch_cap) return true;
    for (int i = 0; i < g->threads; i++) {
        pl_free(g->scratch[i]);
        if ((g->scratch[i] = pl_alloc(bytes, 1, NULL)) == NULL) return false;
    }
    g->scratch_cap = bytes;
    return true;
}

/* The matmul for a tile of shape m x n x k with the full matrices' strides. */
static dnnl_status_t build_primitive(pl_bf16_gemm *g, tile_kernel *t) {
    dnnl_memory_desc_t src, wei, dst;
    const dnnl_dims_t ds = {t->m, t->k}, dw = {t->k, t->n}, dd = {t->m, t->n};
    /* op(A)[i,p] is A[i*lda + p], or A[p*lda + i] when A is stored transposed; likewise B. */
    const dnnl_dims_t ss = {t->trans_a ? 1 : t->lda, t->trans_a ? t->lda : 1};
    const dnnl_dims_t sw = {t->trans_b ? 1 : t->ldb, t->trans_b ? t->ldb : 1};
    const dnnl_dims_t sd = {t->ldc, 1};
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_strides(&src, 2, ds, dnnl_bf16, ss)) != dnnl_success ||
        (s = dnnl_memory_desc_init_by_strides(&wei, 2, dw, dnnl_bf16, sw)) != dnnl_success ||
        (s = dnnl_memory_desc_init_by_strides(&dst, 2, dd, dnnl_f32, sd)) != dnnl_success)
        return s;
    dnnl_memory_desc_t bias;
    const dnnl_dims_t db = {1, t->n};
    if (t->bias && (s = dnnl_memory_desc_init_by_tag(&bias, 2, db, dnnl_f32, dnnl_ab)) != dnnl_success)
        return s;
    dnnl_matmul_desc_t md;
    if ((s = dnnl_matmul_desc_init(&md, &src, &wei, t->bias ? &bias : NULL, &dst)) != dnnl_success)
        return s;
    dnnl_primitive_attr_t attr;
    if ((s = dnnl_primitive_attr_create(&attr)) != dnnl_success) return s;
    dnnl_post_ops_t ops = NULL;
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success && t->accumulate) { /* C += product: a sum post-op with scale 1 */
        s = dnnl_post_ops_create(&ops);
        if (s == dnnl_success) s = dnnl_post_ops_append_sum(ops, 1.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, ops);
    }
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success) {
        /* Plan for one thread: the tile runs inside one of prunelab's threads, and a plan
         * that split K across threads would make the sums depend on the thread count. */
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        s = dnnl_primitive_desc_create(&pd, &md, attr, g->engine, NULL);
        if (s == dnnl_success) s = dnnl_primitive_create(&t->prim, pd);
        omp_set_num_threads(saved);
    }
    if (pd != NULL) {
        t->scratch_bytes = dnnl_memory_desc_get_size(
            dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
        dnnl_primitive_desc_destroy(pd);
    }
    if (ops != NULL) dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

/* The cached kernel for a tile shape, built on first use; NULL after a failure. */
static tile_kernel *kernel_for(pl_bf16_gemm *g, const tile_kernel *want) {
    for (int i = 0; i < g->count; i++) {
        tile_kernel *t = g->kernels[i];
        if (t->m == want->m && t->n == want->n && t->k == want->k && t->lda == want->lda &&
            t->ldb == want->ldb && t->ldc == want->ldc && t->trans_a == want->trans_a &&
            t->trans_b == want->trans_b && t->accumulate == want->accumulate &&
            t->bias == want->bias)
            return t;
    }
    if (g->count == g->capacity) {
        const int cap = g->capacity ? 2 * g->capacity : 32;
        tile_kernel **k = realloc(g->kernels, (size_t)cap * sizeof *k);
        if (k == NULL) {
            fail(g, PL_ERR_NOMEM, "growing the kernel cache", want, dnnl_out_of_memory);
            return NULL;
        }
        g->kernels = k, g->capacity = cap;
    }
    tile_kernel *t = malloc(sizeof *t);
    if (t == NULL) {
        fail(g, PL_ERR_NOMEM, "allocating a kernel", want, dnnl_out_of_memory);
        return NULL;
    }
    *t = *want;
    t->prim = NULL, t->mem = NULL, t->scratch_bytes = 0;
    const dnnl_status_t s = build_primitive(g, t);
    if (s != dnnl_success) {
        fail(g, PL_ERR_INTERNAL, "creating a matmul primitive", want, s);
    } else if (g->threads > 0 && (t->mem = calloc((size_t)g->threads * MEMS, sizeof *t->mem)) == NULL) {
        fail(g, PL_ERR_NOMEM, "allocating memory objects", want, dnnl_out_of_memory);
    } else if (!ensure_scratch(g, t->scratch_bytes)) {
        fail(g, PL_ERR_NOMEM, "allocating scratch memory", want, dnnl_out_of_memory);
    } else {
        g->kernels[g->count++] = t;
        return t;
    }
    kernel_release(g, t);
    free(t);
    return NULL;
}

/* Thread slot's memory objects of kernel t (created serially before the tiles run). */
static bool kernel_memory(pl_bf16_gemm *g, tile_kernel *t, int slot) {
    dnnl_memory_t *mem = t->mem + MEMS * slot;
    if (mem[0] != NULL) return true;
    const_dnnl_primitive_desc_t pd;
    if (dnnl_primitive_get_primitive_desc(t->prim, &pd) != dnnl_success) return false;
    const dnnl_query_t q[MEMS] = {dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md,
                                  dnnl_query_scratchpad_md, dnnl_query_weights_md};
    for (int i = 0; i < (t->bias ? MEMS : MEMS - 1); i++) /* the bias is weights input 1 */
        if (dnnl_memory_create(&mem[i], dnnl_primitive_desc_query_md(pd, q[i], i == 4),
                               g->engine, i == 3 ? g->scratch[slot] : DNNL_MEMORY_NONE) != dnnl_success)
            return false;
    return true;
}

static void run_tile(pl_bf16_gemm *g, tile_kernel *t, int slot, const uint16_t *a,
                     const uint16_t *b, const float *bias, float *c) {
    dnnl_memory_t *mem = t->mem + MEMS * slot;
    dnnl_memory_set_data_handle(mem[0], (void *)a);
    dnnl_memory_set_data_handle(mem[1], (void *)b);
    dnnl_memory_set_data_handle(mem[2], c);
    dnnl_memory_set_data_handle(mem[3], g->scratch[slot]);
    if (t->bias) dnnl_memory_set_data_handle(mem[4], (void *)bias);
    const dnnl_exec_arg_t args[MEMS] = {{DNNL_ARG_SRC, mem[0]},
                                        {DNNL_ARG_WEIGHTS, mem[1]},
                                        {DNNL_ARG_DST, mem[2]},
                                        {DNNL_ARG_SCRATCHPAD, mem[3]},
                                        {DNNL_ARG_BIAS, mem[4]}};
    const dnnl_status_t s = dnnl_primitive_execute(t->prim, g->streams[slot],
                                                   t->bias ? MEMS : MEMS - 1, args);
    if (s != dnnl_success) {
#pragma omp critical(pl_bf16_gemm_failure)
        fail(g, PL_ERR_INTERNAL, "running a matmul primitive", t, s);
    }
}

/* zero_first (with accumulate): each tile of C is zeroed right before its product is added,
 * by the thread that computes it. */
static void run_grid(pl_bf16_gemm *g, bool trans_a, bool trans_b, int m, int n, int k,
                     pl_bf16_operand a, pl_bf16_operand b, const float *bias, bool accumulate,
                     bool zero_first, float *c, int ldc) {
    if (m <= 0 || n <= 0 || g->failure.status != PL_OK) return;
    if (k <= 0) { /* an empty sum */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                c[(size_t)i * ldc + j] = (accumulate && !zero_first ? c[(size_t)i * ldc + j] : 0.0f) +
                                         (bias ? bias[j] : 0.0f);
        return;
    }
    const int lda = a.ld, ldb = b.ld;
    /* About TILES row tiles of C, whole rows up to TILE_N_MAX columns: each tile repacks the
     * operand it shares with the others, so fewer, larger tiles pack less. */
    const int tm = tile_rows(m), tn = n <= TILE_N_MAX ? n : TILE_N;
    const int rows = (m + tm - 1) / tm, cols = (n + tn - 1) / tn;
    const int threads = omp_get_max_threads();
    if (!ensure_threads(g, threads)) {
        fail(g, PL_ERR_NOMEM, "allocating per-thread state", NULL, dnnl_out_of_memory);
        return;
    }
    /* The (at most four) tile shapes: full tiles, and the short rows and narrow columns left
     * where m or n is not a multiple of the tile. kern[partial row][partial column]. */
    tile_kernel *kern[2][2] = {{NULL, NULL}, {NULL, NULL}};
    for (int lr = 0; lr < 2; lr++)
        for (int lc = 0; lc < 2; lc++) {
            if (lr ? m % tm == 0 : m / tm == 0) continue;
            if (lc ? n % tn == 0 : n / tn == 0) continue;
            const tile_kernel want = {.m = lr ? m % tm : tm, .n = lc ? n % tn : tn, .k = k,
                                      .lda = lda, .ldb = ldb, .ldc = ldc, .trans_a = trans_a,
                                      .trans_b = trans_b, .accumulate = accumulate,
                                      .bias = bias != NULL};
            if ((kern[lr][lc] = kernel_for(g, &want)) == NULL) return;
            for (int s = 0; s < threads; s++)
                if (!kernel_memory(g, kern[lr][lc], s)) {
                    fail(g, PL_ERR_NOMEM, "creating memory objects", kern[lr][lc], dnnl_out_of_memory);
                    return;
                }
        }
    const int tiles = rows * cols;
#pragma omp parallel
    {
        /* Round the operands that arrive as FP32; one barrier for both (A's loop does not
         * wait: B's barrier follows it). */
        if (a.round_from != NULL) {
#pragma omp for schedule(static) nowait
            for (size_t i = 0; i < a.count; i++) a.values[i] = bf16_round(a.round_from[i]);
        }
        if (b.round_from != NULL) {
#pragma omp for schedule(static) nowait
            for (size_t i = 0; i < b.count; i++) b.values[i] = bf16_round(b.round_from[i]);
        }
        if (a.round_from != NULL || b.round_from != NULL) {
#pragma omp barrier
        }
        /* Tiles are handed out as threads free up (a short last tile, a slower thread):
         * which thread computes a tile never changes what it computes. */
#pragma omp for schedule(dynamic, 1)
        for (int tile = 0; tile < tiles; tile++) {
            const int r = tile / cols, q = tile % cols;
            const int last_r = m - r * tm < tm, last_c = n - q * tn < tn;
            const size_t i0 = (size_t)r * tm, j0 = (size_t)q * tn;
            /* Tile origin: op(A) rows from i0, op(B) columns from j0, C at (i0, j0). */
            const uint16_t *ta = trans_a ? a.values + i0 : a.values + i0 * lda;
            const uint16_t *tb = trans_b ? b.values + j0 * ldb : b.values + j0;
            tile_kernel *t = kern[last_r][last_c];
            if (zero_first) /* the tile's own rectangle of C */
                for (int i = 0; i < t->m; i++)
                    memset(c + (i0 + i) * ldc + j0, 0, (size_t)t->n * sizeof(float));
            run_tile(g, t, omp_get_thread_num(), ta, tb, bias != NULL ? bias + j0 : NULL,
                     c + i0 * ldc + j0);
        }
    }
}

void pl_bf16_gemm_run(pl_bf16_gemm *g, bool trans_a, bool trans_b, int m, int n, int k,
                      pl_bf16_operand a, pl_bf16_operand b, const float *bias, bool accumulate,
                      float *c, int ldc) {
    run_grid(g, trans_a, trans_b, m, n, k, a, b, bias, accumulate, false, c, ldc);
}

void pl_bf16_gemm_run_into_zeros(pl_bf16_gemm *g, bool trans_a, bool trans_b, int m, int n,
                                 int k, pl_bf16_operand a, pl_bf16_operand b, float *c, int ldc) {
    run_grid(g, trans_a, trans_b, m, n, k, a, b, NULL, true, true, c, ldc);
}
