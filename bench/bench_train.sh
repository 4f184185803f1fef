#!/usr/bin/env bash
# bench_train.sh - `make bench-train`: C training step vs the PyTorch twin, same batch and
# architecture, measured in the same run; prints samples/s and the ratios per preset, in FP32
# and, where the CPU has BF16 products (bench_train exits 3 where not), with BF16: prunelab's
# numerics precision bf16 against the twin under its own BF16 autocast and against its FP32.
# Then, per preset and precision, the step's GFLOP/s against its own top-level products
# replayed alone (bench_train's replay), and how long those products alone take against the
# step the speed targets allow (2x the twin in FP32; in BF16 2x the autocast twin and 3x the
# FP32 twin, whichever is shorter): a step cannot be faster than its products.
set -euo pipefail
bin=$1; shift
batch=${BATCH:-32}
rate() { awk '/^samples_per_s/ {print $2}' <<< "$1"; }
ratio() { echo "$1 / $2" | bc -l; }
# products PRESET PRECISION OUTPUT ALLOWED_MS: one row of the products table.
products() {
  local alone share gfs
  alone=$(sed -n 's/^those .*: \([0-9.]*\) ms, .*/\1/p' <<< "$3")
  read -r gfs share < <(sed -n 's/^step_gflops_per_s \([0-9.]*\) (\([0-9.]*\) %.*/\1 \2/p' <<< "$3") || true
  if [ -z "$alone" ] || [ -z "$gfs" ] || [ -z "$share" ]; then
    echo "bench_train.sh: no product lines in bench_train's output for $1 $2" >&2
    exit 1
  fi
  printf '%-6s %-5s %12.1f %13.1f%% %16.1f %15.1f\n' "$1" "$2" "$gfs" "$share" "$alone" "$4"
}
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc --all) cores"
fp32="" bf16="" prod=""
for preset in "$@"; do
  # Each program's lines go to stderr as they are, and its last samples_per_s into the table
  # (not through tee /dev/stderr, which truncates stderr when it is a file).
  out=$("$bin" "$preset" "$batch" 20 fp32); echo "$out" >&2; c=$(rate "$out"); out_c=$out
  out=$(/usr/bin/python3 bench/torch_twin.py "$preset" "$batch" 10 fp32); echo "$out" >&2; t=$(rate "$out")
  fp32+=$(printf '%-6s %6d %14.1f %14.1f %7.2fx' "$preset" "$batch" "$c" "$t" "$(ratio "$c" "$t")")$'\n'
  prod+=$(products "$preset" fp32 "$out_c" "$(echo "1000 * $batch / (2 * $t)" | bc -l)")$'\n'
  set +e; out=$("$bin" "$preset" "$batch" 20 bf16 2>&1); rc=$?; set -e
  echo "$out" >&2
  if [ "$rc" -eq 3 ]; then continue; fi
  [ "$rc" -eq 0 ] || exit "$rc"
  cb=$(rate "$out"); out_cb=$out
  out=$(/usr/bin/python3 bench/torch_twin.py "$preset" "$batch" 10 bf16); echo "$out" >&2; tb=$(rate "$out")
  bf16+=$(printf '%-6s %6d %14.1f %14.1f %9.2fx %14.1f %9.2fx' "$preset" "$batch" "$cb" "$tb" \
          "$(ratio "$cb" "$tb")" "$t" "$(ratio "$cb" "$t")")$'\n'
  allowed=$(echo "a = 1000 * $batch / (2 * $tb); b = 1000 * $batch / (3 * $t); if (a < b) a else b" | bc -l)
  prod+=$(products "$preset" bf16 "$out_cb" "$allowed")$'\n'
done
echo
echo "FP32 (the twin at its best thread count):"
printf '%-6s %6s %14s %14s %8s\n' preset batch prunelab/s torch/s ratio
printf '%s' "$fp32"
if [ -n "$bf16" ]; then
  echo
  echo "BF16 (prunelab numerics.precision bf16; torch bf16 = torch.autocast, fp32 = the row above):"
  printf '%-6s %6s %14s %14s %10s %14s %10s\n' preset batch prunelab/s torch-bf16/s ratio torch-fp32/s ratio
  printf '%s' "$bf16"
else
  echo
  echo "BF16: not measured (this CPU has no BF16 products; prunelab version says why)"
fi
echo
echo "The step against its products (top-level products replayed alone, same shapes and threads):"
printf '%-6s %-5s %12s %14s %16s %15s\n' preset prec step_GF/s of_products products_ms allowed_step_ms
printf '%s' "$prod"
