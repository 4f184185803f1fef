#!/bin/bash
# make test-slurm: prunelab slurm against a real one-node Slurm (tests/cluster/slurm_up.sh).
# Submits tests/cluster/sweep.yaml (4 runs; a load and a pruned stage per seed, each needed
# by two concurrent array tasks), waits, and checks that
#   - index.tsv and every run's per-step metrics equal a local run's, bit for bit;
#   - each shared stage was computed once, by the stages job, and by no array task;
#   - after deleting two runs, submitting again sends exactly those two (and no stages job);
#   - an unknown partition, a missing sbatch and an unwritable results directory are refused
#     with an error, and nothing is submitted;
# and prints the overhead: submission to the first run's start, array task start-up.
set -u
bin=$(realpath "${1:-build/prunelab}")
exp=tests/cluster/sweep.yaml
t=$(mktemp -d /tmp/prunelab-slurm.XXXXXX)
fail() { echo "test-slurm: FAIL: $*" >&2; exit 1; }
eval "$(tests/cluster/slurm_up.sh "$t/slurm")" || fail "could not bring up Slurm"
trap 'tests/cluster/slurm_down.sh "$t/slurm"' EXIT

wait_jobs() { # until squeue lists none of our jobs (at most 300 s)
  for i in $(seq 600); do
    [ -z "$(squeue -h -o %i)" ] && return 0
    sleep 0.5
  done
  fail "jobs still queued after 300 s: $(squeue)"
}

echo "test-slurm: local reference run"
"$bin" run $exp engine.results_dir=$t/local --quiet >$t/local.log 2>&1 || fail "local run failed: $(tail $t/local.log)"

echo "test-slurm: submitting"
sub_time=$(date +%s.%N)
"$bin" slurm $exp engine.results_dir=$t/res engine.slurm.concurrency=2 >$t/sub1.out 2>&1 || fail "prunelab slurm failed: $(cat $t/sub1.out)"
cat $t/sub1.out
grep -q '^stages job ' $t/sub1.out || fail "no stages job was submitted"
"$bin" status $t/res/sweep | grep -q "4 queued" || fail "status does not show the 4 submitted runs as queued"
wait_jobs
"$bin" status $t/res/sweep
tests/cluster/compare.sh $t/local/sweep $t/res/sweep || fail "Slurm results differ from the local run"

sub1=$(ls -d $t/res/sweep/slurm/2*/ | head -1)
stages_log=$(ls $sub1/logs/stages-*.out)
n_prune=$(grep -c 'stage prune (cache key .*computing' $stages_log)
[ "$n_prune" = 2 ] || fail "the stages job computed $n_prune pruned stages, expected 2 (one per seed)"
! grep -q 'stage \(load\|prune\) (cache key .*computing' $sub1/logs/run-*.out || fail "an array task recomputed a shared stage"
echo "test-slurm: shared stages computed once (2 prunes, 2 loads, in the stages job)"

# Overhead: submission -> first run started; per task: task start -> its run started.
first=$(cat $t/res/sweep/runs/*/status | sed -n 's/^started: //p' | sort -n | head -1)
echo "test-slurm: overhead: submission to first run start $(awk "BEGIN{printf \"%.2f\", $first - $sub_time}") s (includes the stages job)"
for log in $sub1/logs/run-*.out; do
  start=$(sed -n 's/^prunelab task start \([0-9.]*\).*/\1/p' $log)
  task=$(sed -n 's/.*task \([0-9]*\)$/\1/p' $log | head -1)
  id=$(awk -v k=$task '$1==k {print $2}' $sub1/runs.tsv)
  run_start=$(sed -n 's/^started: //p' $t/res/sweep/runs/$id/status)
  echo "test-slurm: overhead: task $task start-up (script start to run start) $(awk "BEGIN{printf \"%.2f\", $run_start - $start}") s"
done

echo "test-slurm: deleting two runs and submitting again"
gone=$(ls $t/res/sweep/runs | head -2 | sort)
for id in $gone; do rm -rf $t/res/sweep/runs/$id; done
"$bin" slurm $exp engine.results_dir=$t/res >$t/sub2.out 2>&1 || fail "resubmission failed: $(cat $t/sub2.out)"
cat $t/sub2.out
! grep -q '^stages job ' $t/sub2.out || fail "a stages job was submitted though every shared stage is cached"
sub2=$(ls -d $t/res/sweep/slurm/2*/ | grep -v "^$sub1$" | tail -1)
sent=$(grep -v '^#' $sub2/runs.tsv | cut -f2 | sort)
[ "$sent" = "$gone" ] || fail "resubmission sent [$sent], expected [$gone]"
"$bin" slurm $exp engine.results_dir=$t/res 2>&1 | grep -q "2 in pending or running Slurm tasks\|0 to submit" ||
  fail "a third submission while the two are queued would send them again"
wait_jobs
tests/cluster/compare.sh $t/local/sweep $t/res/sweep || fail "results after resubmission differ from the local run"
echo "test-slurm: resubmission sent exactly the two deleted runs"

echo "test-slurm: bad input"
before=$(ls $t/res/sweep/slurm | wc -l)
rm -rf $t/res/sweep/runs/$(echo $gone | cut -d' ' -f1)
out=$("$bin" slurm $exp engine.results_dir=$t/res engine.slurm.partition=nosuch 2>&1) && fail "an unknown partition was accepted"
echo "$out" | grep -q "partition.*nosuch" || fail "unknown partition: unclear error: $out"
out=$(PATH=/nonexistent "$bin" slurm $exp engine.results_dir=$t/res 2>&1) && fail "a missing sbatch was accepted"
echo "$out" | grep -q "sbatch is not on PATH" || fail "missing sbatch: unclear error: $out"
out=$("$bin" slurm $exp engine.results_dir=/proc/prunelab-results 2>&1) && fail "an unwritable results directory was accepted"
echo "$out" | grep -q "not writable\|cannot" || fail "unwritable results: unclear error: $out"
[ "$(ls $t/res/sweep/slurm | wc -l)" = "$before" ] || fail "a refused submission left a submission folder"
[ -z "$(squeue -h -o %i)" ] || fail "a refused submission queued a job"
echo "test-slurm: bad input refused, nothing submitted"
rm -rf "$t/local" "$t/res"
echo "test-slurm: PASS"
