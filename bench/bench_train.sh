#!/usr/bin/env bash
# bench_train.sh - `make bench-train`: C training step vs the PyTorch twin, same batch and
# architecture, measured in the same run; prints samples/s and the ratio per preset.
set -euo pipefail
bin=$1; shift
batch=${BATCH:-32}
table=""
for preset in "$@"; do
  # Each program's lines go to stderr as they are, and its last samples_per_s into the table
  # (not through tee /dev/stderr, which truncates stderr when it is a file).
  out=$("$bin" "$preset" "$batch" 20); echo "$out" >&2
  c=$(awk '/^samples_per_s/ {print $2}' <<< "$out")
  out=$(/usr/bin/python3 bench/torch_twin.py "$preset" "$batch" 10); echo "$out" >&2
  t=$(awk '/^samples_per_s/ {print $2}' <<< "$out")
  table+=$(printf '%-6s %6d %14.1f %14.1f %7.2fx' "$preset" "$batch" "$c" "$t" "$(echo "$c / $t" | bc -l)")$'\n'
done
echo
printf '%-6s %6s %14s %14s %8s\n' preset batch prunelab/s torch/s ratio
printf '%s' "$table"
