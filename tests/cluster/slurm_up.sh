#!/bin/bash
# slurm_up.sh DIR: a one-node Slurm on this machine for tests (root, no systemd): MUNGE,
# slurmctld and slurmd with their config, state and logs under DIR. Prints the exports to
# use (SLURM_CONF); slurm_down.sh DIR stops what this started. Installs slurm-wlm and munge
# when missing.
set -eu
dir=$1
mkdir -p "$dir"/state "$dir"/spool "$dir"/log
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'install ok installed' || missing="${missing:-} $p"
done
if [ -n "${missing:-}" ]; then
  echo "slurm_up: installing$missing" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
fi
# MUNGE: its socket directory is made by systemd elsewhere.
mkdir -p /run/munge && chown munge:munge /run/munge
chown -R munge:munge /var/log/munge /var/lib/munge /etc/munge 2>/dev/null || true
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for i in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  touch "$dir/started-munge"
fi
host=$(hostname -s)
cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
mem=$((mem * 9 / 10))
cat > "$dir/slurm.conf" <<CONF
ClusterName=prunelabtest
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=1
SchedulerParameters=sched_interval=1
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld
slurmd
for i in $(seq 100); do
  sinfo -h -o '%t' 2>/dev/null | grep -q idle && break
  sleep 0.2
done
sinfo -h -o '%t' | grep -q idle || { echo "slurm_up: the node did not come up; see $dir/log" >&2; exit 1; }
echo "export SLURM_CONF=$dir/slurm.conf"
