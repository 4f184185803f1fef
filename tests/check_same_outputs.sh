#!/bin/bash
# check_same_outputs.sh REF [--bf16] - a change that must compute nothing new computes nothing
# new: the prunelab of commit REF (built in a temporary worktree) and the working tree's build/
# run the same shortened runs, and every output must be the same.
#
#   - every shipped experiment's first run (its resolved config, with every steps: 2,
#     warmup: 1, samples and calibration sizes 32, bench repeats 1), plus a model with
#     per-block shapes (tests/data/engine/shaped.yaml) and a compacted one
#     (tests/data/engine/structured_compact.yaml);
#   - compared: every cached model (safetensors bytes), every cached stage's metrics.tsv and
#     every run's index.tsv row and metrics.h5 dataset (tests/cluster/compare.sh) with
#     wall-clock measurements left out (time_s, latency, throughput, peak_rss, seconds);
#   - `prunelab help config` and `help config <section>` for every section, byte for byte.
# --bf16 runs everything again with numerics.precision=bf16 (a CPU with BF16 products).
# KEEP=1 keeps the temporary folder (its path is printed) for a closer look.
# Exit 0 when all is the same; a line per difference and exit 1 otherwise. About 4 minutes
# per precision on 2 cores.
set -u
shopt -s nullglob
cd "$(dirname "$0")/.."
ref=${1:?usage: tests/check_same_outputs.sh REF [--bf16]}
precisions="fp32"
[ "${2:-}" = "--bf16" ] && precisions="fp32 bf16"
work=$(mktemp -d /tmp/prunelab_same_XXXXXX)
[ -n "${KEEP:-}" ] && echo "check_same_outputs: working in $work"
trap 'git worktree remove --force "$work/ref" >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail=0
say() { echo "check_same_outputs: $*"; }

make -s build/prunelab build/libprunelab.a >/dev/null || exit 1
git worktree add --detach -q "$work/ref" "$ref" || exit 1
make -s -C "$work/ref" build/prunelab >/dev/null || { say "cannot build $ref"; exit 1; }
new=$PWD/build/prunelab old=$work/ref/build/prunelab
mk=$(make -s -p -n 2>/dev/null | awk -F' := ' '$1=="CPPFLAGS"||$1=="LDFLAGS"||$1=="LDLIBS"{print}')
cppflags=$(echo "$mk" | awk -F' := ' '$1=="CPPFLAGS"{print $2}')
ldflags=$(echo "$mk" | awk -F' := ' '$1=="LDFLAGS"{print $2}')
ldlibs=$(echo "$mk" | awk -F' := ' '$1=="LDLIBS"{print $2}')
gcc -std=c11 -O1 -fopenmp $cppflags tests/tools/first_run.c build/libprunelab.a $ldflags $ldlibs \
    -o "$work/first_run" || exit 1

# The runs: each experiment's first run, shortened, as an experiment file of its own.
mkdir -p "$work/runs"
shorten() {
  sed -E 's/^( *)steps: [0-9]+$/\1steps: 2/; s/^( *)(warmup|target_warmup|every): [0-9]+$/\1\2: 1/;
          s/^( *)(samples|calib_size|eval_samples|calib_samples): [0-9]+$/\1\2: 32/;
          s/^( *)repeats: [0-9]+$/\1repeats: 1/; s/^( *)samples: \[.*\]$/\1samples: [8]/'
}
for exp in experiments/*.yaml tests/data/engine/shaped.yaml tests/data/engine/structured_compact.yaml; do
  name=$(basename "$exp" .yaml)
  "$work/first_run" "$exp" | shorten > "$work/runs/$name.yaml" || { say "$exp: no first run"; fail=1; }
done

for precision in $precisions; do
  mkdir -p "$work/$precision"
  for side in old new; do
    bin=$old; [ $side = new ] && bin=$new
    for run in "$work"/runs/*.yaml; do
      "$bin" run "$run" --quiet engine.results_dir="$work/$precision/$side" engine.jobs=1 engine.threads=1 \
        numerics.precision=$precision >"$work/$precision/$side.$(basename "$run" .yaml).log" 2>&1 ||
        { say "$precision: $side prunelab failed on $(basename "$run"): see $work/$precision/$side.$(basename "$run" .yaml).log"
          tail -3 "$work/$precision/$side.$(basename "$run" .yaml).log"; fail=1; }
    done
  done
  a=$work/$precision/old b=$work/$precision/new
  for f in "$a"/cache/*.safetensors; do
    cmp -s "$f" "$b/cache/$(basename "$f")" || { say "$precision: cache model $(basename "$f") differs or is missing"; fail=1; }
  done
  # log lines carry speeds and ETAs; their losses are in the step rows
  timeless() { grep -Ev '^log|(time_s|seconds|latency|throughput|samples_per_s|peak_rss)' "$1"; }
  for f in "$a"/cache/*.metrics.tsv; do
    diff -q <(timeless "$f") <(timeless "$b/cache/$(basename "$f")") >/dev/null 2>&1 ||
      { say "$precision: cache metrics $(basename "$f") differ or are missing"; fail=1; }
  done
  [ "$(ls "$a/cache" | grep -c safetensors)" = "$(ls "$b/cache" | grep -c safetensors)" ] ||
    { say "$precision: the two sides cached different numbers of models"; fail=1; }
  for d in "$a"/*/; do
    [ "$(basename "$d")" = cache ] && continue
    tests/cluster/compare.sh "$d" "$b/$(basename "$d")" >/dev/null || { say "$precision: results of $(basename "$d") differ"; fail=1; }
  done
  say "$precision: $(ls "$a/cache" | grep -c safetensors) cached models, $(ls -d "$a"/*/ | grep -vc /cache/) experiments compared"
done

sections=$("$new" help config 2>/dev/null | awk '/^ +[a-z0-9_]+ /{print $1}' | sort -u)
for s in "" $sections; do
  cmp -s <("$old" help config $s 2>&1) <("$new" help config $s 2>&1) || { say "help config $s differs"; fail=1; }
done
[ $fail = 0 ] && say "PASS: the same outputs as $ref" || say "FAIL"
exit $fail
