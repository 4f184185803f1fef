#!/usr/bin/env bash
# bench_train.sh - `make bench-train`: C training step vs the PyTorch twin, same batch and
# architecture, measured in the same run; prints samples/s and the ratio per preset.
set -euo pipefail
bin=$1; shift
batch=${BATCH:-32}
table=""
for preset in "$@"; do
  c=$("$bin" "$preset" "$batch" 20 | tee /dev/stderr | awk '/^samples_per_s/ {print $2}')
  t=$(/usr/bin/python3 bench/torch_twin.py "$preset" "$batch" 10 | tee /dev/stderr | awk '/^samples_per_s/ {print $2}')
  table+=$(printf '%-6s %6d %14.1f %14.1f %7.2fx' "$preset" "$batch" "$c" "$t" "$(echo "$c / $t" | bc -l)")$'\n'
done
echo
printf '%-6s %6s %14s %14s %8s\n' preset batch prunelab/s torch/s ratio
printf '%s' "$table"
