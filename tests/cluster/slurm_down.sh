#!/bin/bash
# slurm_down.sh DIR: stops the daemons slurm_up.sh DIR started.
dir=$1
for d in slurmd slurmctld; do
  [ -f "$dir/$d.pid" ] && kill "$(cat "$dir/$d.pid")" 2>/dev/null
done
if [ -f "$dir/started-munge" ]; then
  pkill -x munged 2>/dev/null
  rm -f "$dir/started-munge"
fi
exit 0
