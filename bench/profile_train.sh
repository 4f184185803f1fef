#!/usr/bin/env bash
# profile_train.sh - where a training step's time goes: `make profile-train`.
# Runs bench_train under `perf record`, sampling only the timed steps (perf starts disabled
# and bench_train switches it on after its warm-up), then folds the flat profile into the
# step's kernels: OpenBLAS's SGEMM micro-kernels, its packing copies and small-matrix paths,
# OpenMP and kernel time (thread wake-ups, futexes, page faults), and prunelab's own
# non-GEMM kernels by name. Prints the per-phase times bench_train measured first.
#
#   bench/profile_train.sh BENCH_TRAIN [PRESET] [BATCH] [STEPS] [fp32|bf16]
set -euo pipefail
bin=$1 preset=${2:-small} batch=${3:-32} steps=${4:-30} precision=${5:-fp32}
command -v perf >/dev/null || { echo "profile_train: perf is not installed (Debian: linux-perf)" >&2; exit 1; }
dir=$(mktemp -d /tmp/prunelab_profile.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/ctl"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc --all) cores, OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}"
PL_PERF_CTL="$dir/ctl" perf record -q -F 1999 -D -1 --control "fifo:$dir/ctl" -o "$dir/perf.data" \
  "$bin" "$preset" "$batch" "$steps" "$precision"
# oneDNN's kernels are generated at run time: perf sees them as anonymous [JIT] code, so
# their samples are counted by DSO and added as one line.
perf report -i "$dir/perf.data" --stdio --no-children --sort dso,sym 2>/dev/null |
  awk '/^ *[0-9.]+%/ { sub(/%/, "", $1); if ($2 == "[JIT]") { jit += $1; next }
                       $2 = ""; print } END { if (jit > 0) printf "%.2f [.] onednn_jit_kernels\n", jit }' |
  awk '{ $1 = $1; print }' | sort -rn > "$dir/flat.txt"
echo
echo "flat profile of the timed steps, grouped (share of samples):"
# A symbol's group is the first pattern it matches; [k] marks kernel-side samples.
awk '
  function group(sym, k) {
    if (k) return "kernel (wake-ups, futexes, page faults, copies)"
    if (sym ~ /onednn_jit_kernels/) return "BF16 matmul kernels (oneDNN, JIT)"
    if (sym ~ /bf16|dnnl|brgemm|run_grid/) return "BF16 rounding and oneDNN glue"
    if (sym ~ /gemm_kernel|dgemm_kernel|sgemm_kernel/ && sym !~ /small/) return "SGEMM micro-kernel (OpenBLAS)"
    if (sym ~ /copy_[A-Z]|[io][nt]copy|_beta_/) return "SGEMM packing and beta (OpenBLAS)"
    if (sym ~ /small_kernel|small_matrix/) return "SGEMM small-matrix kernels (OpenBLAS)"
    if (sym ~ /gelu/) return "GELU"
    if (sym ~ /layernorm|affine_backward|norm_/) return "LayerNorm"
    if (sym ~ /attention|softmax/) return "attention (non-GEMM: softmax, loops)"
    if (sym ~ /adamw|grad_scale|squares/) return "AdamW and gradient norm"
    if (sym ~ /bias|residual/) return "bias and residual"
    if (sym ~ /memset|memcpy|memmove/) return "memset / memcpy"
    if (sym ~ /gate_|mask_units|linear_|weff/) return "linear glue (masks, adapters)"
    if (sym ~ /cross_entropy|loss|logits|embedding/) return "losses and embeddings"
    if (sym ~ /^GOMP|gomp_|omp_get|blas_thread|exec_blas|inner_thread|sched_yield|blas_memory/) return "OpenMP and OpenBLAS threading"
    return "other"
  }
  { sym = $3; for (i = 4; i <= NF; i++) sym = sym " " $i
    sub(/\._omp_fn\.[0-9]+$/, "", sym) # an OpenMP region is outlined into <function>._omp_fn.N
    g = group(sym, $2 == "[k]"); share[g] += $1
    if (!(g in top) || $1 > topv[g]) { top[g] = sym; topv[g] = $1 } }
  END { for (g in share) printf "%6.1f %%  %-48s (largest: %s %.1f %%)\n", share[g], g, top[g], topv[g] }
' "$dir/flat.txt" | sort -rn
echo
echo "top 15 symbols:"
head -15 "$dir/flat.txt" | awk '{ line = sprintf("%6.2f %%  %s", $1, $2); for (i = 3; i <= NF; i++) line = line " " $i; print line }'
