#!/bin/bash
# make test-mpi: `prunelab run --mpi` under a real OpenMPI mpirun with 3 ranks (rank 0 hands
# out the runs, ranks 1 and 2 run them). Checks that index.tsv and every run's per-step
# metrics equal a local run's bit for bit; that after deleting two runs the same command
# runs exactly those two again; and that killing a worker rank with SIGKILL mid-sweep
# aborts the job and the same command then completes it without losing a completed run.
set -u
bin=$(realpath "${1:-build/prunelab}")
exp=tests/cluster/sweep.yaml
t=$(mktemp -d /tmp/prunelab-mpi.XXXXXX)
fail() { echo "test-mpi: FAIL: $*" >&2; exit 1; }
mpirun=(mpirun -n 3 --allow-run-as-root --oversubscribe --mca btl_vader_single_copy_mechanism none)

echo "test-mpi: local reference run"
"$bin" run $exp engine.results_dir=$t/local --quiet >$t/local.log 2>&1 || fail "local run failed: $(tail $t/local.log)"

echo "test-mpi: mpirun -n 3"
"${mpirun[@]}" "$bin" run $exp engine.results_dir=$t/mpi --mpi --quiet >$t/mpi.log 2>&1 || fail "mpirun failed: $(tail $t/mpi.log)"
grep -q "2 MPI ranks running stages" $t/mpi.log || fail "rank 0 did not hand out to 2 ranks: $(head -3 $t/mpi.log)"
grep -q "4 completed now" $t/mpi.log || fail "not all 4 runs completed: $(tail -3 $t/mpi.log)"
tests/cluster/compare.sh $t/local/sweep $t/mpi/sweep || fail "MPI results differ from the local run"

echo "test-mpi: deleting two runs and running again"
gone=$(ls $t/mpi/sweep/runs | head -2)
for id in $gone; do rm -rf $t/mpi/sweep/runs/$id; done
"${mpirun[@]}" "$bin" run $exp engine.results_dir=$t/mpi --mpi --quiet >$t/mpi2.log 2>&1 || fail "second mpirun failed: $(tail $t/mpi2.log)"
grep -q "2 completed now, 2 completed earlier" $t/mpi2.log || fail "the rerun did not run exactly the two deleted runs: $(tail -2 $t/mpi2.log)"
tests/cluster/compare.sh $t/local/sweep $t/mpi/sweep || fail "results after the rerun differ"

echo "test-mpi: kill -9 of a worker rank mid-sweep, then the same command again"
"${mpirun[@]}" "$bin" run $exp engine.results_dir=$t/kill engine.isolation=process --mpi --quiet >$t/kill.log 2>&1 &
job=$!
for i in $(seq 600); do # until the first run completed
  ls $t/kill/sweep/runs/*/status >/dev/null 2>&1 && grep -lq '^completed' $t/kill/sweep/runs/*/status 2>/dev/null && break
  sleep 0.1
done
done_before=$(grep -l '^completed' $t/kill/sweep/runs/*/status 2>/dev/null | wc -l)
victim=$(pgrep -f "prunelab run $exp engine.results_dir=$t/kill" | while read p; do
  [ "$(tr '\0' '\n' </proc/$p/environ 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = 1 ] && echo $p; done | head -1)
[ -n "$victim" ] || fail "found no rank-1 process to kill"
kill -9 $victim
wait $job && [ "$done_before" -lt 4 ] && fail "mpirun succeeded though a rank was killed"
grep -qi "abort\|killed\|signal" $t/kill.log || fail "mpirun did not report the killed rank: $(tail -3 $t/kill.log)"
"${mpirun[@]}" "$bin" run $exp engine.results_dir=$t/kill --mpi --quiet >$t/kill2.log 2>&1 || fail "resume failed: $(tail $t/kill2.log)"
done_after=$(grep -l '^completed' $t/kill/sweep/runs/*/status | wc -l)
[ "$done_after" = 4 ] || fail "after resuming $done_after of 4 runs are completed"
grep -q "completed earlier" $t/kill2.log || fail "no completed run was kept: $(tail -2 $t/kill2.log)"
tests/cluster/compare.sh $t/local/sweep $t/kill/sweep || fail "results after the kill and resume differ"
echo "test-mpi: $done_before run(s) completed before the kill were kept; the resume completed the rest"
grep -q "completed earlier" $t/kill2.log && tail -1 $t/kill2.log
echo "test-mpi: the killed job said: $(grep -i "abort\|killed\|signal" $t/kill.log | head -2)"
rm -rf "$t"
echo "test-mpi: PASS"
