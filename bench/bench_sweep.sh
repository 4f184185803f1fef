#!/usr/bin/env bash
# bench_sweep.sh - sweep throughput by engine setting: the four runs of
# bench/sweep_throughput.yaml with jobs 1 x threads 1, jobs 2 x threads 1 and jobs 1 x
# threads 2, each in a fresh results directory that shares only the pruned model (cached by
# a first, untimed pass). Prints runs per minute and the ratio to jobs 1 x threads 1.
#
#   bench/bench_sweep.sh PRUNELAB
set -euo pipefail
bin=$1
exp=bench/sweep_throughput.yaml
root=$(mktemp -d /tmp/prunelab_sweep.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc --all) cores"
# Untimed: compute and cache the shared load and prune stages (--stages-only computes the
# stages two or more runs need, and nothing else).
"$bin" run "$exp" engine.results_dir="$root/warm" --stages-only >/dev/null
base=""
printf '%-20s %10s %12s %8s\n' setting seconds runs/min ratio
for setting in "1 1" "2 1" "1 2"; do
  set -- $setting
  dir="$root/j$1t$2"
  mkdir -p "$dir" && cp -r "$root/warm/cache" "$dir/cache"
  t0=$(date +%s.%N)
  "$bin" run "$exp" engine.results_dir="$dir" engine.jobs="$1" engine.threads="$2" >/dev/null
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc -l)
  rpm=$(echo "4 * 60 / $secs" | bc -l)
  [ -n "$base" ] || base=$rpm
  printf '%-20s %10.1f %12.2f %7.2fx\n' "jobs $1 x threads $2" "$secs" "$rpm" "$(echo "$rpm / $base" | bc -l)"
done
