#!/usr/bin/env bash
# bench_train.sh - `make bench-train`: C training step vs the PyTorch twin, same batch and
# architecture, measured in the same run; prints samples/s and the ratios per preset, in FP32
# and, where the CPU has BF16 products (bench_train exits 3 where not), with BF16: prunelab's
# numerics precision bf16 against the twin under its own BF16 autocast and against its FP32.
set -euo pipefail
bin=$1; shift
batch=${BATCH:-32}
rate() { awk '/^samples_per_s/ {print $2}' <<< "$1"; }
ratio() { echo "$1 / $2" | bc -l; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc --all) cores"
fp32="" bf16=""
for preset in "$@"; do
  # Each program's lines go to stderr as they are, and its last samples_per_s into the table
  # (not through tee /dev/stderr, which truncates stderr when it is a file).
  out=$("$bin" "$preset" "$batch" 20 fp32); echo "$out" >&2; c=$(rate "$out")
  out=$(/usr/bin/python3 bench/torch_twin.py "$preset" "$batch" 10 fp32); echo "$out" >&2; t=$(rate "$out")
  fp32+=$(printf '%-6s %6d %14.1f %14.1f %7.2fx' "$preset" "$batch" "$c" "$t" "$(ratio "$c" "$t")")$'\n'
  set +e; out=$("$bin" "$preset" "$batch" 20 bf16 2>&1); rc=$?; set -e
  echo "$out" >&2
  if [ "$rc" -eq 3 ]; then continue; fi
  [ "$rc" -eq 0 ] || exit "$rc"
  cb=$(rate "$out")
  out=$(/usr/bin/python3 bench/torch_twin.py "$preset" "$batch" 10 bf16); echo "$out" >&2; tb=$(rate "$out")
  bf16+=$(printf '%-6s %6d %14.1f %14.1f %9.2fx %14.1f %9.2fx' "$preset" "$batch" "$cb" "$tb" \
          "$(ratio "$cb" "$tb")" "$t" "$(ratio "$cb" "$t")")$'\n'
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
