#!/bin/bash
# compare.sh A B: the results of one experiment in two results folders (results/<exp>) are the
# same: index.tsv without its timing columns, and every per-step dataset of every run's
# metrics.h5 except wall-clock time (h5dump text, bit for bit). Exit 1 and a diff otherwise.
set -u
a=$1 b=$2
strip() { # index.tsv minus columns whose values are wall-clock measurements
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) keep[i] = ($i !~ /(seconds|time_s|latency|throughput|samples_per_s|peak_rss)/)}
              {out=""; for(i=1;i<=NF;i++) if(keep[i]) out=out (out==""?"":"\t") $i; print out}' "$1" | sort
}
diff <(strip "$a/index.tsv") <(strip "$b/index.tsv") || { echo "compare: index.tsv differs" >&2; exit 1; }
n=0
for dir in "$a"/runs/*/; do
  id=$(basename "$dir")
  [ -f "$b/runs/$id/metrics.h5" ] || { echo "compare: run $id missing from $b" >&2; exit 1; }
  for ds in $(h5dump -n "$dir/metrics.h5" | awk '$1=="dataset" && $2 !~ /time_s$/ {print $2}'); do
    diff <(h5dump -d "$ds" "$dir/metrics.h5" | tail -n +2 | sed -E "s/DATASET [0-9]+/DATASET @/") <(h5dump -d "$ds" "$b/runs/$id/metrics.h5" | tail -n +2 | sed -E "s/DATASET [0-9]+/DATASET @/") >/dev/null ||
      { echo "compare: run $id dataset $ds differs" >&2; exit 1; }
    n=$((n + 1))
  done
done
echo "compare: index.tsv and $n datasets identical"
