/* schema_sections.c - the declaration of every config section: each key's type, default,
 * allowed values and description. Everything else about keys is derived from these tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "core/threads.h"

#define K(n, t, d) .name = (n), .type = (t), .def = (d)
#define GE(x) .lo = (x), .range = CFG_RANGE_LO
#define GT(x) .lo = (x), .range = CFG_RANGE_LO | CFG_RANGE_LO_OPEN
#define UNIT_OPEN .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_HI | CFG_RANGE_HI_OPEN
#define RANK_RANGE .lo = 1, .hi = 1024, .range = CFG_RANGE_LO | CFG_RANGE_HI /* see nn/linear.h */
#define UNIT .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_HI
#define SECTION(var, nm, hlp, keys, is_open) \
    static const cfg_section var = {nm, hlp, keys, (int)(sizeof keys / sizeof keys[0]), is_open}

/* ---- checks that a type and a range cannot express ---- */

static bool parse_nm(const char *s, long *n, long *m) {
    char *end;
    if (*s < '0' || *s > '9') return false;
    *n = strtol(s, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9') return false;
    *m = strtol(end + 1, &end, 10);
    return *end == '\0';
}

static bool check_pattern(const cfg_node *v, char *why, size_t size) {
    long n, m;
    if (strcmp(v->u.s, "unstructured") == 0 || strcmp(v->u.s, "structured") == 0) return true;
    if (!parse_nm(v->u.s, &n, &m)) {
        snprintf(why, size, "write 'unstructured', 'structured' or N:M such as '2:4'");
        return false;
    }
    if (n <= 0 || m <= 0 || n >= m || m > 4096) {
        snprintf(why, size, "an N:M pattern prunes N of every M weights, so it needs 0 < N < M "
                 "(such as 2:4 or 4:8)");
        return false;
    }
    return true;
}

static bool check_scheme(const cfg_node *v, char *why, size_t size) {
    static const char *const fixed[] = {"even", "odd", "first", "last", "none"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(v->u.s, fixed[i]) == 0) return true;
    if (strncmp(v->u.s, "uniform:", 8) == 0) {
        char *end;
        long k = strtol(v->u.s + 8, &end, 10);
        if (v->u.s[8] >= '0' && v->u.s[8] <= '9' && *end == '\0' && k >= 1) return true;
    }
    snprintf(why, size, "use even, odd, first, last, none or uniform:<k> with k >= 1");
    return false;
}

/* A non-empty list of at most 16 values, each at most max (max 0: no bound); names the
 * first offender. */
static bool check_int_list(const cfg_node *v, long long max, const char *what, char *why,
                           size_t size) {
    if (v->u.list.count == 0 || v->u.list.count > 16) {
        snprintf(why, size, "list 1 to 16 %s", what);
        return false;
    }
    for (int i = 0; i < v->u.list.count; i++) {
        const cfg_node *n = v->u.list.items[i];
        if (n->kind == CFG_INT && max > 0 && n->u.i > max) {
            snprintf(why, size, "item %d is %lld, above %lld (%s)", i, n->u.i, max, what);
            return false;
        }
    }
    return true;
}

static bool check_bench_batches(const cfg_node *v, char *why, size_t size) {
    return check_int_list(v, 1024, "batch sizes of at most 1024", why, size);
}

static bool check_bench_threads(const cfg_node *v, char *why, size_t size) {
    const long cores = pl_cores(); /* what the bench stage resolves 0 to */
    char what[96];
    snprintf(what, sizeof what, "thread counts; this machine has %ld cores", cores > 0 ? cores : 1);
    return check_int_list(v, cores > 0 ? cores : 1, what, why, size);
}

static bool check_mix(const cfg_node *v, char *why, size_t size) {
    double sum = 0;
    for (int i = 0; i < v->u.map.count; i++)
        if (cfg_is_number(v->u.map.entries[i].value)) sum += cfg_number(v->u.map.entries[i].value);
    if (sum > 0) return true;
    snprintf(why, size, "at least one question type needs a weight above 0");
    return false;
}

static long long int_at(const cfg_node *map, const char *key) {
    const cfg_node *n = cfg_map_get(map, key);
    return n != NULL && n->kind == CFG_INT ? n->u.i : 1;
}

/* model.blocks: one entry per block of each module it lists, every entry's heads within
 * model.heads (which fixes the head width), cross_heads only on bridge blocks. */
static bool check_model_blocks(const cfg_node *model, char *why, size_t size) {
    static const char *const modules[] = {"vision", "bridge", "language"};
    static const char *const layers[] = {"layers_vision", "layers_query", "layers_language"};
    const cfg_node *blocks = cfg_map_get(model, "blocks");
    if (blocks == NULL || blocks->kind != CFG_MAP) return true;
    const long long heads = int_at(model, "heads");
    for (int m = 0; m < 3; m++) {
        const cfg_node *list = cfg_map_get(blocks, modules[m]);
        if (list == NULL || list->kind != CFG_LIST) continue;
        if (list->u.list.count != int_at(model, layers[m])) {
            snprintf(why, size, "blocks.%s lists %d blocks but %s = %lld (one entry per block)",
                     modules[m], list->u.list.count, layers[m], int_at(model, layers[m]));
            return false;
        }
        for (int l = 0; l < list->u.list.count; l++) {
            const cfg_node *e = list->u.list.items[l];
            const cfg_node *h = cfg_map_get(e, "heads"), *x = cfg_map_get(e, "cross_heads");
            if (h != NULL && h->kind == CFG_INT && h->u.i > heads) {
                snprintf(why, size, "blocks.%s[%d].heads = %lld: a block holds at most heads = %lld "
                         "(model.heads fixes the head width)", modules[m], l, h->u.i, heads);
                return false;
            }
            if (x != NULL && m != 1) {
                snprintf(why, size, "blocks.%s[%d].cross_heads: only bridge blocks have "
                         "cross-attention", modules[m], l);
                return false;
            }
            if (x != NULL && x->kind == CFG_INT && x->u.i > heads) {
                snprintf(why, size, "blocks.%s[%d].cross_heads = %lld: a block holds at most "
                         "heads = %lld", modules[m], l, x->u.i, heads);
                return false;
            }
        }
    }
    return true;
}

static bool check_model(const cfg_node *v, char *why, size_t size) {
    static const char *const dims[] = {"dim_vision", "dim_query", "dim_language"};
    long long heads = int_at(v, "heads");
    for (int i = 0; i < 3; i++)
        if (int_at(v, dims[i]) % heads != 0) {
            snprintf(why, size, "%s = %lld is not divisible by heads = %lld", dims[i], int_at(v, dims[i]), heads);
            return false;
        }
    if (int_at(v, "image_size") % int_at(v, "patch_size") != 0) {
        snprintf(why, size, "image_size = %lld is not a multiple of patch_size = %lld",
                 int_at(v, "image_size"), int_at(v, "patch_size"));
        return false;
    }
    return check_model_blocks(v, why, size);
}

/* ---- model and data ---- */

static const cfg_key BLOCK_KEYS[] = {
    {K("heads", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL,
     .help = "self-attention heads of this block (0 = no attention; default model.heads)"},
    {K("cross_heads", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL,
     .help = "cross-attention heads, bridge blocks only (0 = none; default model.heads)"},
    {K("ffn", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL,
     .help = "MLP hidden width of this block (0 = no MLP; default mlp_ratio x the width)"},
};
SECTION(BLOCK, "block", "one transformer block's units", BLOCK_KEYS, false);

static const cfg_key MODULE_BLOCKS_KEYS[] = {
    {K("vision", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &BLOCK, .flags = CFG_KEY_OPTIONAL,
     .help = "one {heads, ffn} per vision block, in order"},
    {K("bridge", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &BLOCK, .flags = CFG_KEY_OPTIONAL,
     .help = "one {heads, cross_heads, ffn} per bridge block, in order"},
    {K("language", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &BLOCK, .flags = CFG_KEY_OPTIONAL,
     .help = "one {heads, ffn} per language block, in order"},
};
SECTION(MODULE_BLOCKS, "blocks", "per-block units of each module (absent = uniform)",
        MODULE_BLOCKS_KEYS, false);

static const cfg_key MODEL_KEYS[] = {
    {K("preset", CFG_T_ENUM, NULL), .choices = "tiny|small|base", .flags = CFG_KEY_OPTIONAL,
     .help = "which preset the sizes came from (informational; configs/model/<preset>.yaml)"},
    {K("dim_vision", CFG_T_INT, NULL), GE(1), .help = "width Dv of the vision encoder"},
    {K("dim_query", CFG_T_INT, NULL), GE(1), .help = "width Dq of the bridge (query transformer)"},
    {K("dim_language", CFG_T_INT, NULL), GE(1), .help = "width Dl of the language model"},
    {K("layers_vision", CFG_T_INT, NULL), GE(1), .help = "vision encoder blocks Lv"},
    {K("layers_query", CFG_T_INT, NULL), GE(1), .help = "bridge blocks Lq"},
    {K("layers_language", CFG_T_INT, NULL), GE(1), .help = "language model blocks Ll"},
    {K("heads", CFG_T_INT, NULL), GE(1), .help = "attention heads in every module (divides every width)"},
    {K("num_queries", CFG_T_INT, NULL), GE(1), .help = "learned bridge queries Nq"},
    {K("mlp_ratio", CFG_T_INT, "4"), GE(1), .help = "MLP hidden width as a multiple of the block width"},
    {K("image_size", CFG_T_INT, "56"), GE(1), .help = "input image side in pixels"},
    {K("patch_size", CFG_T_INT, "7"), GE(1), .help = "patch side in pixels (divides image_size)"},
    {K("init_std", CFG_T_FLOAT, "0.02"), GT(0), .help = "standard deviation of initial weights"},
    {K("blocks", CFG_T_MAP, NULL), .sub = &MODULE_BLOCKS, .flags = CFG_KEY_OPTIONAL,
     .help = "a shape per block: {vision: [{heads, ffn}, ...], bridge: [{heads, cross_heads, "
             "ffn}, ...], language: [...]}, one entry per block of each module listed; keys "
             "left out keep the uniform value (absent = every block uniform, the presets)"},
};
SECTION(MODEL, "model", "the VLM's shape (vision encoder, bridge, language model)", MODEL_KEYS, false);

static const cfg_key MIX_KEYS[] = {
    {K("what", CFG_T_FLOAT, "1.0"), GE(0), .help = "what-is-at questions ('what is in the top left ?')"},
    {K("exists", CFG_T_FLOAT, "1.0"), GE(0), .help = "exists questions ('is there a bag ?')"},
    {K("count", CFG_T_FLOAT, "1.0"), GE(0), .help = "count questions ('how many shoes ?')"},
    {K("where", CFG_T_FLOAT, "1.0"), GE(0), .help = "where questions ('where is the dress ?')"},
    {K("relation", CFG_T_FLOAT, "1.0"), GE(0), .help = "relation questions ('what is left of the bag ?')"},
    {K("caption", CFG_T_FLOAT, "1.0"), GE(0), .help = "captions ('describe the image .')"},
};
SECTION(MIX, "question_mix", "relative weights of the question types", MIX_KEYS, false);

static const cfg_key DATA_KEYS[] = {
    {K("dataset", CFG_T_ENUM, "fashion_scenes"), .choices = "fashion_scenes|files",
     .help = "fashion_scenes: scenes and questions generated from Fashion-MNIST; files: your "
             "own samples from data.tsv and data.images (item_prob, val_size, val_scenes, "
             "test_size, question_mix, seed and eval_seed then do not apply)"},
    {K("path", CFG_T_STRING, "/usr/share/datasets/fashion-mnist"),
     .help = "directory of the Fashion-MNIST IDX files (Debian dataset-fashion-mnist)"},
    {K("tsv", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "dataset files: your samples, one a line, tab-separated: image_id, question, answer "
             "and optionally train|val|test (default test); words of the fixed vocabulary "
             "(`prunelab data vocab`); the question type is read from its template ('how many', "
             "'is there', 'where', 'describe', 'what is in', 'what is left of|right of|above|"
             "below'); absent for fashion_scenes (so their run ids stay as they were)"},
    {K("images", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "dataset files: the TSV's images, an IDX file (gzipped or plain) of N x 56 x 56 "
             "bytes indexed by an integer image_id, or a directory of 56x56 8-bit binary PGMs "
             "named <image_id>.pgm; absent for fashion_scenes"},
    {K("item_prob", CFG_T_FLOAT, "0.75"), .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_LO_OPEN | CFG_RANGE_HI,
     .help = "probability that a scene cell holds an item"},
    {K("val_size", CFG_T_INT, "5000"), .lo = 0, .hi = 50000, .range = CFG_RANGE_LO | CFG_RANGE_HI,
     .help = "training images held out to build the validation scenes"},
    {K("val_scenes", CFG_T_INT, "2000"), GE(0), .help = "scenes in the validation split"},
    {K("test_size", CFG_T_INT, "5000"), GE(1), .help = "scenes in the test split (built from the 10k test images only)"},
    {K("question_mix", CFG_T_MAP, "{}"), .sub = &MIX, .check = check_mix, .help = "question type weights"},
    {K("seed", CFG_T_INT, "0"), GE(0), .help = "seed of the training and calibration scenes"},
    {K("eval_seed", CFG_T_INT, "1234"), GE(0), .help = "seed of the validation and test scenes (fixed across training seeds)"},
    {K("question_len", CFG_T_INT, "10"), GE(1), .help = "question tokens before the separator (questions are padded to it)"},
    {K("text_len", CFG_T_INT, "22"), GE(3), .help = "tokens per sample: question, separator, answer, end"},
    {K("calib_size", CFG_T_INT, "128"), GE(1), .help = "calibration samples drawn for pruning"},
};
SECTION(DATA, "data", "the data: generated fashion-scenes and their question mix, or your own files", DATA_KEYS, false);

/* ---- stages ---- */

static const cfg_key PHASE_KEYS[] = {
    {K("name", CFG_T_STRING, NULL), .help = "label used in logs"},
    {K("steps", CFG_T_INT, NULL), GE(1), .help = "steps in this phase"},
    {K("train", CFG_T_LIST, "[vision, bridge, language]"), .item = CFG_T_ENUM,
     .choices = "vision|bridge|language", .help = "modules updated in this phase"},
    {K("aux_weight", CFG_T_FLOAT, "1.0"), GE(0), .help = "weight of the per-cell loss on the vision tokens"},
    {K("bridge_aux_weight", CFG_T_FLOAT, "0.0"), GE(0),
     .help = "weight of the per-cell loss on bridge queries 0..3 (teaches the bridge to read the image)"},
    {K("task_weight", CFG_T_FLOAT, "1.0"), GE(0), .help = "weight of the answer loss (0: the language model is not run)"},
    {K("lr", CFG_T_FLOAT, NULL), GT(0), .flags = CFG_KEY_OPTIONAL, .help = "peak learning rate (default: the stage's lr)"},
    {K("warmup", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL, .help = "warm-up steps (default: the stage's warmup)"},
    {K("question_mix", CFG_T_MAP, NULL), .sub = &MIX, .check = check_mix, .flags = CFG_KEY_OPTIONAL,
     .help = "question mix during this phase (default: data.question_mix)"},
};
SECTION(PHASE, "phase", "one pretraining phase", PHASE_KEYS, false);

static const cfg_key PRETRAIN_KEYS[] = {
    {K("steps", CFG_T_INT, "3000"), GE(1), .help = "optimizer steps (when no phases are given)"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "2e-3"), GT(0), .help = "peak AdamW learning rate"},
    {K("min_lr", CFG_T_FLOAT, "1e-4"), GE(0), .help = "learning rate at the end of the cosine decay"},
    {K("warmup", CFG_T_INT, "100"), GE(0), .help = "linear warm-up steps"},
    {K("weight_decay", CFG_T_FLOAT, "0.01"), GE(0), .help = "AdamW weight decay"},
    {K("clip", CFG_T_FLOAT, "1.0"), GE(0), .help = "gradient-norm clip (0 = off)"},
    {K("eval_every", CFG_T_INT, "500"), GE(0), .help = "steps between validation evaluations (0 = only at the end)"},
    {K("eval_samples", CFG_T_INT, "1000"), GE(1), .help = "validation scenes per evaluation"},
    {K("log_every", CFG_T_INT, "50"), GE(1), .help = "steps between metric log rows"},
    {K("aux_cell_weight", CFG_T_FLOAT, "0.0"), GE(0), .help = "per-cell loss on vision tokens (without phases)"},
    {K("bridge_aux_weight", CFG_T_FLOAT, "0.0"), GE(0), .help = "per-cell loss on bridge queries (without phases)"},
    {K("phases", CFG_T_LIST, "[]"), .item = CFG_T_MAP, .sub = &PHASE,
     .help = "curriculum: phases run in order (empty = one joint phase of `steps`)"},
};
SECTION(PRETRAIN, "pretrain", "train the teacher VLM from scratch", PRETRAIN_KEYS, false);

static const cfg_key MODULE_SPARSITY_KEYS[] = {
    {K("vision", CFG_T_FLOAT, "0.5"), UNIT_OPEN, .help = "fraction of vision encoder weights removed (sv)"},
    {K("bridge", CFG_T_FLOAT, "0.0"), UNIT_OPEN, .help = "fraction of bridge weights removed"},
    {K("language", CFG_T_FLOAT, "0.5"), UNIT_OPEN, .help = "fraction of language model weights removed (sl)"},
};
SECTION(MODULE_SPARSITY, "sparsity", "target sparsity per module (fraction removed)", MODULE_SPARSITY_KEYS, false);

static const cfg_key HEAD_FRACTION_KEYS[] = {
    {K("vision", CFG_T_FLOAT, "0.0"), UNIT_OPEN, .help = "fraction of the vision encoder's attention heads removed"},
    {K("bridge", CFG_T_FLOAT, "0.0"), UNIT_OPEN, .help = "fraction of the bridge's self-attention heads removed"},
    {K("language", CFG_T_FLOAT, "0.0"), UNIT_OPEN, .help = "fraction of the language model's attention heads removed"},
};
SECTION(HEAD_FRACTIONS, "heads", "fraction of self-attention heads removed per module (pattern: structured)",
        HEAD_FRACTION_KEYS, false);

static const cfg_key NEURON_FRACTION_KEYS[] = {
    {K("vision", CFG_T_FLOAT, "0.0"), UNIT_OPEN, .help = "fraction of the vision encoder's MLP neurons removed"},
    {K("bridge", CFG_T_FLOAT, "0.0"), UNIT_OPEN, .help = "fraction of the bridge's MLP neurons removed"},
    {K("language", CFG_T_FLOAT, "0.0"), UNIT_OPEN, .help = "fraction of the language model's MLP neurons removed"},
};
SECTION(NEURON_FRACTIONS, "neurons", "fraction of MLP neurons removed per module (pattern: structured)",
        NEURON_FRACTION_KEYS, false);

/* heads, cross_heads, neurons and scope have no default (absent = not structured), so an
 * experiment without them hashes as before. */
static const cfg_key PRUNE_KEYS[] = {
    {K("method", CFG_T_ENUM, "wanda"), .choices = "magnitude|wanda|sparsegpt",
     .help = "importance score; with pattern: structured, magnitude is a unit's L2 norm and wanda "
             "sums |W_ij|*sqrt(mean x_j^2) over its weights (calibrated like Wanda)"},
    {K("pattern", CFG_T_STRING, "unstructured"), .choices = "unstructured, structured or N:M with 0 < N < M",
     .check = check_pattern,
     .help = "sparsity pattern; structured removes whole attention heads and MLP neurons "
             "(heads, cross_heads, neurons, scope) and ignores sparsity and group"},
    {K("heads", CFG_T_MAP, NULL), .sub = &HEAD_FRACTIONS, .flags = CFG_KEY_OPTIONAL,
     .help = "structured: fraction of self-attention heads removed per module, 0 <= f < 1 "
             "(a head = its q, k, v rows of attn.qkv and its attn.proj columns)"},
    {K("cross_heads", CFG_T_FLOAT, NULL), UNIT_OPEN, .flags = CFG_KEY_OPTIONAL,
     .help = "structured: fraction of the bridge's cross-attention heads removed (default 0); "
             "every bridge block keeps at least one"},
    {K("neurons", CFG_T_MAP, NULL), .sub = &NEURON_FRACTIONS, .flags = CFG_KEY_OPTIONAL,
     .help = "structured: fraction of MLP neurons removed per module, 0 <= f < 1 "
             "(a neuron = its mlp.fc1 row and bias and its mlp.fc2 column)"},
    {K("scope", CFG_T_ENUM, NULL), .choices = "block|module", .flags = CFG_KEY_OPTIONAL,
     .help = "structured: rank units within each block (block, the default: every block loses "
             "the same fraction) or across the module (module: a block may lose all)"},
    {K("group", CFG_T_ENUM, "row"), .choices = "row|matrix", .help = "comparison group for unstructured masks"},
    {K("sparsity", CFG_T_MAP, "{}"), .sub = &MODULE_SPARSITY, .help = "fraction removed per module"},
    {K("calib_size", CFG_T_INT, "128"), GE(1), .help = "calibration samples (wanda, sparsegpt)"},
    {K("calibration", CFG_T_ENUM, "sequential"), .choices = "sequential|dense",
     .help = "block inputs from the already-pruned model (sequential) or the dense one"},
    {K("sparsegpt_block", CFG_T_INT, "128"), GE(1), .help = "SparseGPT column block size"},
    {K("sparsegpt_damp", CFG_T_FLOAT, "0.01"), GT(0), .help = "SparseGPT damping, fraction of the mean Hessian diagonal"},
};
SECTION(PRUNE, "prune", "one-shot pruning of each module to its target sparsity", PRUNE_KEYS, false);

static const cfg_key RANK_KEYS[] = {
    {K("vision", CFG_T_INT, "4"), RANK_RANGE, .help = "adapter rank in the vision encoder"},
    {K("bridge", CFG_T_INT, "2"), RANK_RANGE, .help = "adapter rank in the bridge"},
    {K("language", CFG_T_INT, "8"), RANK_RANGE, .help = "adapter rank in the language model"},
};
SECTION(RANK, "rank", "LoRA rank per module", RANK_KEYS, false);

static const cfg_key FINETUNE_KEYS[] = {
    {K("adapter", CFG_T_ENUM, "sparselora"), .choices = "none|lora|sparselora",
     .help = "none = masked full fine-tuning; lora = W*M + s*BA; sparselora = (W + s*BA)*M"},
    {K("rank", CFG_T_MAP, "{}"), .sub = &RANK, .help = "adapter rank per module"},
    {K("alpha", CFG_T_FLOAT, "16"), GT(0), .help = "LoRA scale numerator (s = alpha / rank)"},
    {K("targets", CFG_T_LIST, "[vision, language]"), .item = CFG_T_ENUM, .choices = "vision|bridge|language",
     .help = "modules that get adapters"},
    {K("layer_kinds", CFG_T_LIST, "[qkv, proj, fc1, fc2]"), .item = CFG_T_ENUM,
     .choices = "qkv|proj|fc1|fc2|cross_q|cross_kv|cross_proj", .help = "linear layers that get adapters"},
    {K("merge", CFG_T_BOOL, "true"),
     .help = "fold adapters into the weights at the end; false keeps them as factors in the output checkpoint"},
    {K("steps", CFG_T_INT, "500"), GE(0), .help = "fine-tuning steps"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "1e-3"), GT(0), .help = "peak learning rate"},
    {K("warmup", CFG_T_INT, "50"), GE(0), .help = "linear warm-up steps"},
    {K("lambda", CFG_T_FLOAT, "0.5"), UNIT,
     .help = "KD weight: L = (1-lambda) L_task + lambda T^2 KL(teacher || student) + hidden_weight "
             "L_hid + attn_weight L_attn, as in distill"},
    {K("temperature", CFG_T_FLOAT, "1.0"), GT(0), .help = "KD softmax temperature"},
    {K("hidden_weight", CFG_T_FLOAT, "0.0"), GE(0),
     .help = "hidden-state MSE weight w_h: L += w_h * mean over every block k of every module of "
             "mean((out_k - teacher out_k)^2); logged as loss_hidden"},
    {K("attn_weight", CFG_T_FLOAT, "0.0"), GE(0),
     .help = "attention-map MSE weight w_a: the same over each block's self-attention "
             "probabilities; logged as loss_attn"},
    {K("teacher", CFG_T_STRING, "same"), .help = "'same' (the unpruned weights without adapters) or a checkpoint path"},
    {K("train_samples", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,
     .help = "data budget: train on these many fixed samples, cycled in epochs (absent: a fresh "
             "sample every time); at least one batch"},
};
SECTION(FINETUNE, "finetune", "recover accuracy with adapters and distillation", FINETUNE_KEYS, false);

static const cfg_key SCHEME_KEYS[] = {
    {K("vision", CFG_T_STRING, "even"), .choices = "even|odd|first|last|none|uniform:<k>", .check = check_scheme,
     .help = "teacher vision blocks the student keeps (even = 2, 4, 6, ... counting from 1)"},
    {K("bridge", CFG_T_STRING, "none"), .choices = "even|odd|first|last|none|uniform:<k>", .check = check_scheme,
     .help = "teacher bridge layers kept (none = keep all)"},
    {K("language", CFG_T_STRING, "even"), .choices = "even|odd|first|last|none|uniform:<k>", .check = check_scheme,
     .help = "teacher language layers kept"},
};
SECTION(SCHEME, "scheme", "layer-halving scheme per module", SCHEME_KEYS, false);

static const cfg_key DISTILL_KEYS[] = {
    {K("scheme", CFG_T_MAP, "{}"), .sub = &SCHEME, .help = "which teacher blocks the student keeps, per module"},
    {K("steps", CFG_T_INT, "2000"), GE(0), .help = "distillation steps"},
    {K("batch_size", CFG_T_INT, "32"), GE(1), .help = "scenes per step"},
    {K("lr", CFG_T_FLOAT, "1e-3"), GT(0), .help = "peak learning rate"},
    {K("warmup", CFG_T_INT, "100"), GE(0), .help = "linear warm-up steps"},
    {K("lambda", CFG_T_FLOAT, "0.5"), UNIT,
     .help = "KD weight: L = (1-lambda) L_task + lambda T^2 KL(teacher || student) + hidden_weight "
             "L_hid + attn_weight L_attn, as in finetune"},
    {K("temperature", CFG_T_FLOAT, "1.0"), GT(0), .help = "KD softmax temperature T"},
    {K("hidden_weight", CFG_T_FLOAT, "0.0"), GE(0),
     .help = "hidden-state MSE weight: student block k against the teacher block it was copied from"},
    {K("attn_weight", CFG_T_FLOAT, "0.0"), GE(0),
     .help = "attention-map MSE weight, over the same block pairs"},
    {K("train_samples", CFG_T_INT, NULL), GE(1), .flags = CFG_KEY_OPTIONAL,
     .help = "data budget: train on these many fixed samples, cycled in epochs (absent: a fresh "
             "sample every time); at least one batch"},
};
SECTION(DISTILL, "distill", "a shallower student from the teacher's own blocks, distilled from it (EfficientVLM); "
        "the teacher is the pipeline's current model, run unmasked and frozen",
        DISTILL_KEYS, false);

static const cfg_key EVAL_KEYS[] = {
    {K("samples", CFG_T_INT, "2000"), GE(1), .help = "scenes evaluated"},
    {K("split", CFG_T_ENUM, "test"), .choices = "test|val", .help = "which held-out split"},
    {K("batch_size", CFG_T_INT, "64"), GE(1), .help = "scenes per forward pass"},
    {K("tag", CFG_T_STRING, ""),
     .help = "prefix of this evaluation's summary metrics (e.g. 'pruned_' gives pruned_acc), "
             "so evaluations at several points of a pipeline keep apart"},
};
SECTION(EVAL, "eval", "exact-match accuracy per question type and answer cross-entropy", EVAL_KEYS, false);

static const cfg_key LOAD_KEYS[] = {
    {K("path", CFG_T_STRING, NULL), .help = "a prunelab checkpoint (safetensors), relative to the working directory"},
    {K("sha256", CFG_T_STRING, ""), .help = "the file's expected SHA-256 in hex ('' = not checked)"},
};
SECTION(LOAD, "load", "start the pipeline from a saved model instead of pretraining", LOAD_KEYS, false);

/* compact has no settings: what it removes is what the model's keep flags say. */
static const cfg_section COMPACT = {"compact",
                                    "merge carried adapters, then remove the heads and neurons a "
                                    "structured prune masked: a model of the smaller per-block "
                                    "shape that computes the same", NULL, 0, false};

static const cfg_key BENCH_KEYS[] = {
    {K("samples", CFG_T_INT, "64"), GE(1), .help = "the fixed set of samples timed: the first N of the split"},
    {K("split", CFG_T_ENUM, "test"), .choices = "test|val", .help = "which held-out split the samples come from"},
    {K("batch_sizes", CFG_T_LIST, "[1, 32]"), .item = CFG_T_INT, GE(1), .check = check_bench_batches,
     .help = "batch sizes to time (each a point; at most 16, each at most 1024)"},
    {K("threads", CFG_T_LIST, "[1, 0]"), .item = CFG_T_INT, GE(0), .check = check_bench_threads,
     .help = "thread counts to time (0 = every core of the machine; at most its cores)"},
    {K("warmup", CFG_T_INT, "1"), GE(0), .help = "untimed passes over the samples before each point"},
    {K("repeats", CFG_T_INT, "5"), GE(1), .help = "timed passes over the samples per point (median, IQR)"},
    {K("tag", CFG_T_STRING, ""),
     .help = "prefix of this bench's summary metrics, so several benches of a pipeline keep apart"},
};
SECTION(BENCH, "bench", "inference latency and throughput as deployed (KV-cached greedy answers), run alone",
        BENCH_KEYS, false);

/* ---- engine, sweep, figures, top level ---- */

static const cfg_key ENGINE_KEYS[] = {
    {K("jobs", CFG_T_INT, "1"), GE(1), .help = "stages run concurrently"},
    {K("threads", CFG_T_INT, "0"), GE(0), .help = "threads per stage (0 = cores / jobs)"},
    {K("isolation", CFG_T_ENUM, "thread"), .choices = "thread|process",
     .help = "process = each run in its own process, so a crash fails only that run"},
    {K("results_dir", CFG_T_STRING, "results"), .help = "where runs, cache and index.tsv go"},
    {K("flush_every", CFG_T_INT, "50"), GE(1), .help = "metric rows buffered before writing"},
};
SECTION(ENGINE, "engine", "how runs execute; never part of a run's identity", ENGINE_KEYS, false);

static const cfg_key SWEEP_KEYS[] = {
    {K("axes", CFG_T_ANY, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "alias: {path: dotted.key, values: [..] | {linspace|logspace: [a, b, n]} | "
             "{range: {from, to, step, inclusive}}, label: 'axis label in figures', description: text}"},
    {K("zip", CFG_T_ANY, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "group: [alias, alias, ...]; grouped axes advance together (one dimension)"},
    {K("cases", CFG_T_ANY, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "list of {alias: value, ...} points forming one dimension"},
    {K("where", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "filter over aliases: + - * / %, comparisons, and/or/not, e.g. 'sv + sl <= 1.2'"},
    {K("seeds", CFG_T_ANY, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "replicate seeds: a list of ints or {range: ...}; default [0]"},
    {K("max_runs", CFG_T_INT, "1000"), GE(1), .help = "refuse sweeps expanding to more runs than this"},
};
SECTION(SWEEP, "sweep", "which runs the experiment expands into", SWEEP_KEYS, false);

static bool check_figure_name(const cfg_node *v, char *why, size_t size) {
    const char *s = v->u.s;
    bool ok = *s != '\0' && *s != '.' && strlen(s) <= 100;
    for (; ok && *s; s++)
        ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
             *s == '-' || *s == '.';
    if (!ok) snprintf(why, size, "a figure name is a file name: letters, digits, '_', '-' and '.' (up to 100)");
    return ok;
}

/* The experiment's name is a directory under engine.results_dir: one path component. */
static bool check_experiment_name(const cfg_node *v, char *why, size_t size) {
    const char *s = v->u.s;
    bool ok = *s != '\0' && strcmp(s, ".") != 0 && strstr(s, "..") == NULL && strchr(s, '/') == NULL;
    for (; ok && *s; s++) ok = (unsigned char)*s >= 0x20;
    if (!ok)
        snprintf(why, size, "the experiment name is the folder its results go to under "
                 "engine.results_dir, so it cannot be empty or contain '/', '..' or control characters");
    return ok;
}

/* Which keys each kind needs is checked with the sweep's aliases in config/figures.c. */
static const cfg_key FIGURE_KEYS[] = {
    {K("name", CFG_T_STRING, NULL), .check = check_figure_name,
     .help = "file name: figures/<name>.png, .pdf, .tsv (its data) and .gp (its script)"},
    {K("kind", CFG_T_ENUM, NULL), .choices = "heatmap|lines|bars|curves|scatter|line|bar|curve",
     .help = "heatmap (z over x and y), lines (y vs x per series), bars (grouped), curves (per-step "
             "training curves), scatter (one metric against another, a point per configuration); "
             "line, bar, curve are the same kinds"},
    {K("x", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "alias on the x axis (heatmap, lines, bars); scatter: a summary metric (e.g. "
             "latency_ms_b32_t2); curves: the step axis"},
    {K("y", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "heatmap: alias on the y axis; lines, bars and scatter: the summary metric plotted (acc, ce, ...)"},
    {K("z", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, .help = "heatmap: the summary metric coloured"},
    {K("series", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "alias drawn as separate lines or bars (lines, bars, curves)"},
    {K("metric", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "curves: the metric logged per step (loss, lr, acc, ...); others: same as z or y"},
    {K("stage", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "curves: stage kind (pretrain, finetune, ...) or group name (01_finetune) to read"},
    {K("by", CFG_T_ENUM, "group"), .choices = "group|run",
     .help = "curves: one line per configuration (mean over seeds) or per run"},
    {K("band", CFG_T_ENUM, "std"), .choices = "std|none",
     .help = "lines, curves: a shaded band of +-1 sample standard deviation over seeds"},
    {K("where", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "keep only runs where this holds, e.g. 'method == \"wanda\" and sl == 0.5'"},
    {K("title", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, .help = "figure title (none by default)"},
    {K("xlabel", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, .help = "x axis label (default: the alias's label)"},
    {K("ylabel", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, .help = "y axis label (default: alias label or metric)"},
    {K("zlabel", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, .help = "heatmap colour-bar label (default: the metric)"},
    {K("logx", CFG_T_BOOL, "false"), .help = "logarithmic x axis (lines, curves)"},
    {K("logy", CFG_T_BOOL, "false"), .help = "logarithmic y axis (lines, curves)"},
    {K("digits", CFG_T_INT, "2"), .lo = 0, .hi = 6, .range = CFG_RANGE_LO | CFG_RANGE_HI,
     .help = "heatmap: decimals of the value printed in each cell"},
};
SECTION(FIGURE, "figure", "one figure drawn by `prunelab plot` from the experiment's results", FIGURE_KEYS, false);

static const cfg_key STAGE_DEFAULT_KEYS[] = {
    {K("pretrain", CFG_T_MAP, NULL), .sub = &PRETRAIN, .flags = CFG_KEY_OPTIONAL, .help = "pretrain defaults"},
    {K("distill", CFG_T_MAP, NULL), .sub = &DISTILL, .flags = CFG_KEY_OPTIONAL, .help = "distill defaults"},
    {K("prune", CFG_T_MAP, NULL), .sub = &PRUNE, .flags = CFG_KEY_OPTIONAL, .help = "prune defaults"},
    {K("finetune", CFG_T_MAP, NULL), .sub = &FINETUNE, .flags = CFG_KEY_OPTIONAL, .help = "finetune defaults"},
    {K("eval", CFG_T_MAP, NULL), .sub = &EVAL, .flags = CFG_KEY_OPTIONAL, .help = "eval defaults"},
    {K("bench", CFG_T_MAP, NULL), .sub = &BENCH, .flags = CFG_KEY_OPTIONAL, .help = "bench defaults"},
    {K("load", CFG_T_MAP, NULL), .sub = &LOAD, .flags = CFG_KEY_OPTIONAL, .help = "load defaults"},
};
SECTION(STAGE_DEFAULTS, "stages", "settings every pipeline stage of a kind starts from", STAGE_DEFAULT_KEYS, false);

static const cfg_key ROOT_KEYS[] = {
    {K("name", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL | CFG_KEY_NONSEMANTIC,
     .check = check_experiment_name, .help = "experiment name (default: the file name)"},
    {K("seed", CFG_T_INT, "0"), GE(0),
     .help = "replicate seed (set per run by sweep.seeds; in the run id, not the group id)"},
    {K("labels", CFG_T_ANY, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "free-form values the stages ignore (a study's coordinates such as mode: vision); "
             "part of the run id, so sweeps may set them"},
    {K("model", CFG_T_MAP, NULL), .sub = &MODEL, .check = check_model, .help = "the VLM's shape"},
    {K("data", CFG_T_MAP, "{}"), .sub = &DATA, .help = "dataset and question mix"},
    {K("pipeline", CFG_T_PIPELINE, NULL), .help = "the stages each run executes, in order: '- kind: {settings}'"},
    {K("stages", CFG_T_MAP, NULL), .sub = &STAGE_DEFAULTS, .flags = CFG_KEY_OPTIONAL,
     .help = "per-kind stage defaults merged under every pipeline stage of that kind"},
    {K("sweep", CFG_T_MAP, NULL), .sub = &SWEEP, .flags = CFG_KEY_OPTIONAL | CFG_KEY_NONSEMANTIC,
     .help = "axes, zip groups, cases, where filter, seeds"},
    {K("figures", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &FIGURE,
     .flags = CFG_KEY_OPTIONAL | CFG_KEY_NONSEMANTIC, .help = "figures drawn from the results"},
    {K("engine", CFG_T_MAP, "{}"), .sub = &ENGINE, .flags = CFG_KEY_NONSEMANTIC, .help = "execution settings"},
};
SECTION(ROOT, "experiment", "an experiment file", ROOT_KEYS, false);

static const char *const STAGE_KINDS[] = {"pretrain", "load", "distill", "prune", "finetune", "compact", "eval", "bench"};
static const cfg_section *const STAGE_SECTIONS[] = {&PRETRAIN, &LOAD, &DISTILL, &PRUNE, &FINETUNE, &COMPACT, &EVAL, &BENCH};

const cfg_section *cfg_schema_root(void) { return &ROOT; }

const char *const *cfg_schema_stage_kinds(int *count) {
    *count = (int)(sizeof STAGE_KINDS / sizeof STAGE_KINDS[0]);
    return STAGE_KINDS;
}

const cfg_section *cfg_schema_stage(const char *kind) {
    for (size_t i = 0; i < sizeof STAGE_KINDS / sizeof STAGE_KINDS[0]; i++)
        if (strcmp(kind, STAGE_KINDS[i]) == 0) return STAGE_SECTIONS[i];
    return NULL;
}

const cfg_section *cfg_schema_section(const char *name) {
    const cfg_section *stage = cfg_schema_stage(name);
    if (stage != NULL) return stage;
    for (int i = 0; i < ROOT.n_keys; i++)
        if (ROOT.keys[i].sub != NULL && strcmp(ROOT.keys[i].name, name) == 0) return ROOT.keys[i].sub;
    return NULL;
}
