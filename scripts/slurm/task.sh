#!/bin/bash
# One task of the job array that scripts/slurm/submit.sh submits: analyse
# this task's shard of LIST (the lines whose index % NTASKS is this task's
# id) with as many parallel jails as the task has CPUs.
#
#   sbatch --array=0-(NTASKS-1) --cpus-per-task=N ... task.sh LIST OUTDIR NTASKS
#
# Slurm runs a copy of this file: it must not need anything beside it.
set -euo pipefail

prog="pipjail-task"
die() { echo "$prog: $*" >&2; exit 2; }

[ $# -eq 3 ] || die "usage: task.sh LIST OUTDIR NTASKS (run by scripts/slurm/submit.sh)"
list=$1
outdir=$2
ntasks=$3
[[ $ntasks =~ ^[1-9][0-9]*$ ]] || die "NTASKS $ntasks: expected a positive whole number"
task=${SLURM_ARRAY_TASK_ID:-}
[[ $task =~ ^[0-9]+$ ]] || die "SLURM_ARRAY_TASK_ID is not set: run this as a task of a Slurm job array"
[ "$task" -lt "$ntasks" ] || die "task $task of $ntasks: the array is larger than the shards"
jobs=${SLURM_CPUS_PER_TASK:-1}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "SLURM_CPUS_PER_TASK $jobs: expected a positive whole number"
pipjail=${PIPJAIL:-pipjail}
host=$(hostname)

command -v "$pipjail" >/dev/null 2>&1 || die "$pipjail is not found on node $host: install pipjail there (make install)"
[ -r "$list" ] || die "LIST $list is not readable on node $host: is it on shared storage?"
if [ ! -d "$outdir" ] || [ ! -w "$outdir" ]; then
	die "OUTDIR $outdir is not a writable directory on node $host: is it on shared storage?"
fi

echo "$prog: task $task of $ntasks (job ${SLURM_ARRAY_JOB_ID:-?}_$task) on $host, $jobs CPUs, started $(date -u +%FT%TZ)"
echo "$prog: $pipjail analyze --batch $list --out $outdir --shard $task/$ntasks --jobs $jobs"
rc=0
"$pipjail" analyze --batch "$list" --out "$outdir" --shard "$task/$ntasks" --jobs "$jobs" || rc=$?
echo "$prog: pipjail exited $rc at $(date -u +%FT%TZ)"
# 100: something was found in a package of this shard.  That is a result,
# not a failure of the task: each package's verdict is in its result.json.
if [ "$rc" -eq 100 ]; then
	exit 0
fi
exit "$rc"
