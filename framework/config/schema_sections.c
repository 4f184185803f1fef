/* schema_sections.c - the declaration of every experiment-level config section (model,
 * data, engine, sweep, figures, the top level): each key's type, default, allowed values and
 * description. Everything else about keys is derived from these tables. Each stage kind's
 * section lives with the stage (engine/stage_<kind>.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "config/bind.h"
#include "config/schema_keys.h"
#include "config/settings_types.h"

/* ---- checks that a type and a range cannot express ---- */

bool cfg_check_question_mix(const cfg_node *v, char *why, size_t size) {
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
    {K("heads", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL, AT_INT(block_dims, heads),
     .help = "self-attention heads of this block (0 = no attention; default model.heads)"},
    {K("cross_heads", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL, AT_INT(block_dims, cross_heads),
     .help = "cross-attention heads, bridge blocks only (0 = none; default model.heads)"},
    {K("ffn", CFG_T_INT, NULL), GE(0), .flags = CFG_KEY_OPTIONAL, AT_INT(block_dims, ffn),
     .help = "MLP hidden width of this block (0 = no MLP; default mlp_ratio x the width)"},
};
const cfg_section CFG_BLOCK = {"block", "one transformer block's units", BLOCK_KEYS,
                               (int)(sizeof BLOCK_KEYS / sizeof BLOCK_KEYS[0]), false};

static const cfg_key MODULE_BLOCKS_KEYS[] = {
    {K("vision", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &CFG_BLOCK, .flags = CFG_KEY_OPTIONAL,
     .help = "one {heads, ffn} per vision block, in order"},
    {K("bridge", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &CFG_BLOCK, .flags = CFG_KEY_OPTIONAL,
     .help = "one {heads, cross_heads, ffn} per bridge block, in order"},
    {K("language", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &CFG_BLOCK, .flags = CFG_KEY_OPTIONAL,
     .help = "one {heads, ffn} per language block, in order"},
};
SECTION(MODULE_BLOCKS, "blocks", "per-block units of each module (absent = uniform)",
        MODULE_BLOCKS_KEYS, false);

#define M cfg_model_settings
static const cfg_key MODEL_KEYS[] = {
    {K("preset", CFG_T_ENUM, NULL), .choices = "tiny|small|base", .flags = CFG_KEY_OPTIONAL,
     .help = "which preset the sizes came from (informational; configs/model/<preset>.yaml)"},
    {K("dim_vision", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.dim_vision), .help = "width Dv of the vision encoder"},
    {K("dim_query", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.dim_query), .help = "width Dq of the bridge (query transformer)"},
    {K("dim_language", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.dim_language), .help = "width Dl of the language model"},
    {K("layers_vision", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.layers_vision), .help = "vision encoder blocks Lv"},
    {K("layers_query", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.layers_query), .help = "bridge blocks Lq"},
    {K("layers_language", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.layers_language), .help = "language model blocks Ll"},
    {K("heads", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.heads), .help = "attention heads in every module (divides every width)"},
    {K("num_queries", CFG_T_INT, NULL), GE(1), AT_INT(M, shape.num_queries), .help = "learned bridge queries Nq"},
    {K("mlp_ratio", CFG_T_INT, "4"), GE(1), AT_INT(M, shape.mlp_ratio), .help = "MLP hidden width as a multiple of the block width"},
    {K("image_size", CFG_T_INT, "56"), GE(1), AT_INT(M, shape.image_size), .help = "input image side in pixels"},
    {K("patch_size", CFG_T_INT, "7"), GE(1), AT_INT(M, shape.patch_size), .help = "patch side in pixels (divides image_size)"},
    {K("init_std", CFG_T_FLOAT, "0.02"), GT(0), AT_FLOAT(M, shape.init_std), .help = "standard deviation of initial weights"},
    {K("blocks", CFG_T_MAP, NULL), .sub = &MODULE_BLOCKS, .flags = CFG_KEY_OPTIONAL, AT_NODE(M, blocks),
     .help = "a shape per block: {vision: [{heads, ffn}, ...], bridge: [{heads, cross_heads, "
             "ffn}, ...], language: [...]}, one entry per block of each module listed; keys "
             "left out keep the uniform value (absent = every block uniform, the presets)"},
};
#undef M
SECTION(MODEL, "model", "the VLM's shape (vision encoder, bridge, language model)", MODEL_KEYS, false);

/* binds float[QTYPE_COUNT_TYPES] (data/batch.h), one weight per question type */
static const cfg_key MIX_KEYS[] = {
    {K("what", CFG_T_FLOAT, "1.0"), GE(0), AT_ITEM_FLOAT(QTYPE_WHAT), .help = "what-is-at questions ('what is in the top left ?')"},
    {K("exists", CFG_T_FLOAT, "1.0"), GE(0), AT_ITEM_FLOAT(QTYPE_EXISTS), .help = "exists questions ('is there a bag ?')"},
    {K("count", CFG_T_FLOAT, "1.0"), GE(0), AT_ITEM_FLOAT(QTYPE_HOWMANY), .help = "count questions ('how many shoes ?')"},
    {K("where", CFG_T_FLOAT, "1.0"), GE(0), AT_ITEM_FLOAT(QTYPE_WHERE), .help = "where questions ('where is the dress ?')"},
    {K("relation", CFG_T_FLOAT, "1.0"), GE(0), AT_ITEM_FLOAT(QTYPE_RELATION),
     .help = "relation questions ('what is left of the bag ?')"},
    {K("caption", CFG_T_FLOAT, "1.0"), GE(0), AT_ITEM_FLOAT(QTYPE_CAPTION), .help = "captions ('describe the image .')"},
};
const cfg_section CFG_QUESTION_MIX = {"question_mix", "relative weights of the question types", MIX_KEYS,
                                      (int)(sizeof MIX_KEYS / sizeof MIX_KEYS[0]), false};

#define D cfg_data_settings
static const cfg_key DATA_KEYS[] = {
    {K("dataset", CFG_T_ENUM, "fashion_scenes"), .choices = "fashion_scenes|files", AT_TEXT(D, dataset),
     .help = "fashion_scenes: scenes and questions generated from Fashion-MNIST; files: your "
             "own samples from data.tsv and data.images (item_prob, val_size, val_scenes, "
             "test_size, question_mix, seed and eval_seed then do not apply)"},
    {K("path", CFG_T_STRING, "/usr/share/datasets/fashion-mnist"), AT_CHARS(D, config.path),
     .help = "directory of the Fashion-MNIST IDX files (Debian dataset-fashion-mnist)"},
    {K("tsv", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, AT_CHARS(D, config.tsv),
     .help = "dataset files: your samples, one a line, tab-separated: image_id, question, answer "
             "and optionally train|val|test (default test); words of the fixed vocabulary "
             "(`prunelab data vocab`); the question type is read from its template ('how many', "
             "'is there', 'where', 'describe', 'what is in', 'what is left of|right of|above|"
             "below'); absent for fashion_scenes (so their run ids stay as they were)"},
    {K("images", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, AT_CHARS(D, config.images),
     .help = "dataset files: the TSV's images, an IDX file (gzipped or plain) of N x 56 x 56 "
             "bytes indexed by an integer image_id, or a directory of 56x56 8-bit binary PGMs "
             "named <image_id>.pgm; absent for fashion_scenes"},
    {K("item_prob", CFG_T_FLOAT, "0.75"), AT_FLOAT(D, config.item_prob), .lo = 0, .hi = 1, .range = CFG_RANGE_LO | CFG_RANGE_LO_OPEN | CFG_RANGE_HI,
     .help = "probability that a scene cell holds an item"},
    {K("val_size", CFG_T_INT, "5000"), AT_INT(D, config.val_size), .lo = 0, .hi = 50000, .range = CFG_RANGE_LO | CFG_RANGE_HI,
     .help = "training images held out to build the validation scenes"},
    {K("val_scenes", CFG_T_INT, "2000"), GE(0), AT_INT(D, config.val_scenes), .help = "scenes in the validation split"},
    {K("test_size", CFG_T_INT, "5000"), GE(1), AT_INT(D, config.test_size), .help = "scenes in the test split (built from the 10k test images only)"},
    {K("question_mix", CFG_T_MAP, "{}"), .sub = &CFG_QUESTION_MIX, .check = cfg_check_question_mix,
     AT_SECTION(D, config.mix), .help = "question type weights"},
    {K("seed", CFG_T_INT, "0"), GE(0), AT_UINT64(D, config.seed), .help = "seed of the training and calibration scenes"},
    {K("eval_seed", CFG_T_INT, "1234"), GE(0), AT_UINT64(D, config.eval_seed), .help = "seed of the validation and test scenes (fixed across training seeds)"},
    {K("question_len", CFG_T_INT, "10"), GE(1), AT_INT(D, config.question_len), .help = "question tokens before the separator (questions are padded to it)"},
    {K("text_len", CFG_T_INT, "22"), GE(3), AT_INT(D, config.text_len), .help = "tokens per sample: question, separator, answer, end"},
    {K("calib_size", CFG_T_INT, "128"), GE(1), .help = "calibration samples drawn for pruning"},
};
#undef D
SECTION(DATA, "data", "the data: generated fashion-scenes and their question mix, or your own files", DATA_KEYS, false);

/* ---- stages ---- */

/* ---- engine, sweep, figures, top level ---- */

#define S cfg_slurm_settings
static const cfg_key SLURM_KEYS[] = {
    {K("runs_per_task", CFG_T_INT, "1"), GE(1), AT_LLONG(S, runs_per_task), .help = "runs each array task runs, one after another"},
    {K("concurrency", CFG_T_INT, "0"), GE(0), AT_LLONG(S, concurrency), .help = "array tasks running at once (sbatch --array=...%K; 0 = no limit)"},
    {K("cpus_per_task", CFG_T_INT, "0"), GE(0), AT_LLONG(S, cpus_per_task),
     .help = "CPUs per task (0 = engine.jobs x engine.threads, threads 0 counting as 1); a task's stages use them all"},
    {K("time", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, AT_TEXT(S, time), .help = "time limit per task (sbatch --time, e.g. 02:00:00)"},
    {K("mem", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, AT_TEXT(S, mem), .help = "memory per task (sbatch --mem, e.g. 4G)"},
    {K("partition", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, AT_TEXT(S, partition), .help = "partition (sbatch --partition; checked with sinfo)"},
    {K("account", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL, AT_TEXT(S, account), .help = "account to charge (sbatch --account)"},
    {K("hdf5_file_locking", CFG_T_BOOL, "false"), AT_BOOL(S, hdf5_file_locking),
     .help = "leave HDF5's own file locking on in the tasks (off by default: shared file systems often lack "
             "it, and prunelab's locks already give every file one writer)"},
};
#undef S
SECTION(SLURM, "slurm", "how `prunelab slurm` submits a sweep: array shape and sbatch resources", SLURM_KEYS, false);

#define E cfg_engine_settings
static const cfg_key ENGINE_KEYS[] = {
    {K("jobs", CFG_T_INT, "1"), GE(1), AT_INT(E, jobs), .help = "stages run concurrently"},
    {K("threads", CFG_T_INT, "0"), GE(0), AT_INT(E, threads), .help = "threads per stage (0 = cores / jobs)"},
    {K("isolation", CFG_T_ENUM, "thread"), .choices = "thread|process", AT_CHOICE(E, isolation, NULL),
     .help = "process = each run in its own process, so a crash fails only that run"},
    {K("results_dir", CFG_T_STRING, "results"), AT_TEXT(E, results_dir), .help = "where runs, cache and index.tsv go"},
    {K("flush_every", CFG_T_INT, "50"), GE(1), AT_INT(E, flush_every), .help = "metric rows buffered before writing"},
    {K("slurm", CFG_T_MAP, "{}"), .sub = &SLURM, AT_SECTION(E, slurm), .help = "`prunelab slurm`: array shape and sbatch resources"},
};
#undef E
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

static const cfg_key NUMERICS_KEYS[] = {
    {K("precision", CFG_T_ENUM, "fp32"), .choices = "fp32|bf16", .flags = CFG_KEY_DEFAULT_UNSEEN,
     AT_NODE(cfg_numerics_settings, precision),
     .help = "arithmetic of the training stages' linear layers: fp32, or bf16 (BF16 operands, "
             "FP32 accumulation and master weights; needs a CPU with AVX512-BF16 or AMX). "
             "The output head, attention, the optimizer, a teacher's pass and every evaluation "
             "stay FP32"},
};
SECTION(NUMERICS, "numerics", "how training computes; part of a run's identity (fp32, the "
        "default, names the same runs as no section)", NUMERICS_KEYS, false);

typedef struct {
    long long seed;
} root_settings;

static const cfg_key ROOT_KEYS[] = {
    {K("name", CFG_T_STRING, NULL), .flags = CFG_KEY_OPTIONAL | CFG_KEY_NONSEMANTIC,
     .check = check_experiment_name, .help = "experiment name (default: the file name)"},
    {K("seed", CFG_T_INT, "0"), GE(0), AT_LLONG(root_settings, seed),
     .help = "replicate seed (set per run by sweep.seeds; in the run id, not the group id)"},
    {K("labels", CFG_T_ANY, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "free-form values the stages ignore (a study's coordinates such as mode: vision); "
             "part of the run id, so sweeps may set them"},
    {K("model", CFG_T_MAP, NULL), .sub = &MODEL, .check = check_model, .help = "the VLM's shape"},
    {K("data", CFG_T_MAP, "{}"), .sub = &DATA, .help = "dataset and question mix"},
    {K("numerics", CFG_T_MAP, "{}"), .sub = &NUMERICS, .flags = CFG_KEY_DEFAULT_UNSEEN,
     .help = "arithmetic precision of training (numerics.precision)"},
    {K("pipeline", CFG_T_PIPELINE, NULL), .help = "the stages each run executes, in order: '- kind: {settings}'"},
    {K("stages", CFG_T_STAGES, NULL), .flags = CFG_KEY_OPTIONAL,
     .help = "per-kind stage defaults merged under every pipeline stage of that kind"},
    {K("sweep", CFG_T_MAP, NULL), .sub = &SWEEP, .flags = CFG_KEY_OPTIONAL | CFG_KEY_NONSEMANTIC,
     .help = "axes, zip groups, cases, where filter, seeds"},
    {K("figures", CFG_T_LIST, NULL), .item = CFG_T_MAP, .sub = &FIGURE,
     .flags = CFG_KEY_OPTIONAL | CFG_KEY_NONSEMANTIC, .help = "figures drawn from the results"},
    {K("engine", CFG_T_MAP, "{}"), .sub = &ENGINE, .flags = CFG_KEY_NONSEMANTIC, .help = "execution settings"},
};
SECTION(ROOT, "experiment", "an experiment file", ROOT_KEYS, false);

const cfg_section *cfg_schema_root(void) { return &ROOT; }

const cfg_section *cfg_schema_section(const cfg_stage_catalog *stages, const char *name) {
    const cfg_section *stage = cfg_stage_section(stages, name);
    if (stage != NULL) return stage;
    for (int i = 0; i < ROOT.n_keys; i++)
        if (ROOT.keys[i].sub != NULL && strcmp(ROOT.keys[i].name, name) == 0) return ROOT.keys[i].sub;
    return NULL;
}

pl_status cfg_bind_section(const cfg_node *tree, const char *name, void *out, pl_error *err) {
    const cfg_section *section = NULL;
    for (int i = 0; i < ROOT.n_keys && section == NULL; i++)
        if (ROOT.keys[i].sub != NULL && strcmp(ROOT.keys[i].name, name) == 0) section = ROOT.keys[i].sub;
    const cfg_node *map = cfg_map_get(tree, name);
    if (section == NULL) return PL_ERROR(err, PL_ERR_INTERNAL, "no experiment section '%s'", name);
    return map != NULL ? cfg_bind(section, map, out, err) : PL_OK;
}

pl_status cfg_run_seed(const cfg_node *run, long long *seed, pl_error *err) {
    root_settings rs = {-1};
    PL_TRY(cfg_bind(&ROOT, run, &rs, err));
    if (rs.seed < 0) return PL_ERROR(err, PL_ERR_INTERNAL, "a resolved run has no seed");
    *seed = rs.seed;
    return PL_OK;
}
