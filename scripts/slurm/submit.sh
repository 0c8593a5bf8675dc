#!/bin/bash
# Analyse LIST with pipjail on a Slurm cluster: one job array whose tasks
# each run `pipjail analyze --batch LIST --out OUTDIR --shard I/N` (a chunk
# of up to K packages), then a merge job, after every task however it ended
# (afterany), that writes OUTDIR/summary.json and OUTDIR/index.html.
#
#   scripts/slurm/submit.sh [OPTIONS] LIST OUTDIR [SBATCH_OPTION...]
#
# Re-submitting the same LIST and OUTDIR resumes: pipjail skips every
# package whose result is complete.  See docs/fleet.md.
set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)

usage() {
	cat <<EOF
usage: $prog [OPTIONS] LIST OUTDIR [SBATCH_OPTION...]

Submit LIST (one archive, wheel or name==version a line; '#' comments) to
Slurm as a job array of pipjail analyze --batch tasks, and a merge job that
runs after them.  OUTDIR (created if missing) and the archives must be on
storage that every node sees at the same path.

  --per-task K        packages per array task (default $per_task)
  --cpus-per-task N   CPUs per task; pipjail runs --jobs N (default $cpus)
  --mem SIZE          memory per task, as sbatch takes it (default $mem)
  --time T            time limit per task, as sbatch takes it (default $time_limit)
  --max-running M     at most M tasks at once (--array=...%M)
  --merge-time T      time limit of the merge job (default $merge_time)
  --no-check          do not check the LIST's archives from this host
  --force             submit even while jobs of an earlier submission for
                      OUTDIR are still queued or running
  -h, --help          this help

SBATCH_OPTIONs (--partition, --account, --qos, ...) go to both jobs, after
ours.  Environment: PIPJAIL, the pipjail command on the nodes (default:
pipjail on PATH); the jobs inherit this environment (sbatch's default).
Prints "array JOBID" and "merge JOBID" on stdout.
EOF
}

die() { echo "$prog: $*" >&2; exit 2; }
fail() { echo "$prog: $*" >&2; exit 1; }
warn() { echo "$prog: warning: $*" >&2; }

per_task=8
cpus=2
mem=8G
time_limit=2:00:00
merge_time=30:00
max_running=
check=1
force=0

need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi; }
positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 $2: expected a positive whole number"; }

while [ $# -gt 0 ]; do
	case $1 in
	--per-task)      need_value "$@"; positive "$1" "$2"; per_task=$2; shift 2 ;;
	--cpus-per-task) need_value "$@"; positive "$1" "$2"; cpus=$2; shift 2 ;;
	--mem)           need_value "$@"; [[ $2 =~ ^[1-9][0-9]*[KMGT]?$ ]] ||
				die "--mem $2: expected a size such as 4G or 2048M"
			 mem=$2; shift 2 ;;
	--time)          need_value "$@"; time_limit=$2; shift 2 ;;
	--merge-time)    need_value "$@"; merge_time=$2; shift 2 ;;
	--max-running)   need_value "$@"; positive "$1" "$2"; max_running=$2; shift 2 ;;
	--no-check)      check=0; shift ;;
	--force)         force=1; shift ;;
	-h|--help)       usage; exit 0 ;;
	--)              shift; break ;;
	-*)              die "unknown option $1 (see --help); sbatch options go after LIST OUTDIR" ;;
	*)               break ;;
	esac
done
[ $# -ge 2 ] || { usage >&2; exit 2; }
list_arg=$1
out_arg=$2
shift 2
extra=("$@")
for o in "${extra[@]+"${extra[@]}"}"; do
	case $o in
	--array*|-a|--dependency*|-d|--wrap*|--parsable|--export=NONE)
		die "sbatch option $o: $prog sets it, or it would break the tasks" ;;
	esac
done

# ---------------------------------------------------------------- LIST
[ -e "$list_arg" ] || die "LIST $list_arg: no such file"
[ -f "$list_arg" ] || die "LIST $list_arg: not a regular file"
[ -r "$list_arg" ] || die "LIST $list_arg: not readable"
list_dir=$(cd "$(dirname "$list_arg")" && pwd) || die "LIST $list_arg: cannot resolve its directory"
list="$list_dir/$(basename "$list_arg")"
submit_dir=$(pwd) || fail "cannot resolve the current directory"

spec_re='^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9,._-]*\])?==[^[:space:]]+$'
count=0
lineno=0
bad=0
while IFS= read -r raw || [ -n "$raw" ]; do
	lineno=$((lineno + 1))
	line=${raw%$'\r'}
	line=${line#"${line%%[![:space:]]*}"}          # leading blanks
	case $line in ''|'#'*) continue ;; esac
	count=$((count + 1))
	[ "$check" = 1 ] || continue
	entry=${line%%[[:space:]]#*}                     # a trailing comment
	entry=${entry%"${entry##*[![:space:]]}"}        # trailing blanks
	[[ $entry =~ $spec_re ]] && continue
	if [[ $entry == /* ]]; then
		[ -r "$entry" ] && continue
	elif [ -r "$submit_dir/$entry" ] || [ -r "$list_dir/$entry" ]; then
		continue
	fi
	bad=$((bad + 1))
	[ "$bad" -le 10 ] && echo "$prog: $list:$lineno: $entry: no such readable file, and not a name==version spec" >&2
done <"$list"
[ "$bad" -eq 0 ] || die "$bad line(s) of $list name nothing this host can read (--no-check skips this check)"
[ "$count" -gt 0 ] || die "LIST $list names no package (only blank lines and comments)"

# ---------------------------------------------------------------- OUTDIR
if [ -e "$out_arg" ] && [ ! -d "$out_arg" ]; then
	die "OUTDIR $out_arg exists and is not a directory"
fi
mkdir -p -- "$out_arg" || die "OUTDIR $out_arg: cannot create it"
outdir=$(cd "$out_arg" && pwd) || die "OUTDIR $out_arg: cannot enter it"
[ -w "$outdir" ] || die "OUTDIR $outdir: not writable"
mkdir -p -- "$outdir/slurm" || die "cannot create $outdir/slurm for the jobs' logs"
case $outdir/ in
/tmp/*|/var/tmp/*|/dev/shm/*) warn "OUTDIR $outdir is node-local storage on most clusters: the tasks on other nodes would not see it" ;;
esac

# ---------------------------------------------------------------- the array
tasks=$(( (count + per_task - 1) / per_task ))
pipjail=${PIPJAIL:-pipjail}
export PIPJAIL="$pipjail"
command -v "$pipjail" >/dev/null 2>&1 ||
	warn "$pipjail is not found on this host; every node that runs a task needs it (make install)"

command -v sbatch >/dev/null 2>&1 || fail "sbatch is not found: run this on a Slurm submit host"

if command -v scontrol >/dev/null 2>&1; then
	max_array=$(scontrol show config 2>/dev/null | sed -n 's/^MaxArraySize[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p')
	if [ -n "$max_array" ] && [ "$((tasks - 1))" -ge "$max_array" ]; then
		die "$count packages at $per_task a task make $tasks tasks, over this cluster's MaxArraySize ($max_array): raise --per-task"
	fi
fi

comment="pipjail-batch $outdir"
if [ "$force" = 0 ] && command -v squeue >/dev/null 2>&1; then
	queued=$(squeue -h -u "$(id -un)" -o '%A %k' 2>/dev/null | awk -v c="$comment" '
		{ id = $1; sub(/^[^ ]+ /, ""); if ($0 == c) print id }' | sort -u | tr '\n' ' ')
	[ -z "$queued" ] || die "jobs ${queued% } of an earlier submission for $outdir are still queued or running: wait for them or scancel them (--force submits anyway)"
fi

array_spec="0-$((tasks - 1))${max_running:+%$max_running}"
out=$(sbatch --parsable --job-name=pipjail-batch --array="$array_spec" \
	--cpus-per-task="$cpus" --mem="$mem" --time="$time_limit" \
	--output="$outdir/slurm/%A_%a.out" --chdir="$submit_dir" --comment="$comment" \
	"${extra[@]+"${extra[@]}"}" \
	"$here/task.sh" "$list" "$outdir" "$tasks" 2>&1) ||
	fail "sbatch of the array failed: $out"
array_id=${out%%;*}
[[ $array_id =~ ^[0-9]+$ ]] || fail "sbatch of the array said '$out', not a job id"

out=$(sbatch --parsable --job-name=pipjail-merge \
	--dependency="afterany:$array_id" --kill-on-invalid-dep=no \
	--cpus-per-task=1 --mem=2G --time="$merge_time" \
	--output="$outdir/slurm/merge-%j.out" --chdir="$submit_dir" --comment="$comment" \
	"${extra[@]+"${extra[@]}"}" \
	"$here/merge.sh" "$list" "$outdir" 2>&1) ||
	fail "sbatch of the merge job failed: $out; the array $array_id is queued: run $here/merge.sh $list $outdir after it"
merge_id=${out%%;*}
[[ $merge_id =~ ^[0-9]+$ ]] || fail "sbatch of the merge job said '$out', not a job id"

echo "$prog: $count packages in $tasks tasks of up to $per_task ($cpus CPUs, $mem, $time_limit each): array job $array_id; merge job $merge_id after it; logs in $outdir/slurm" >&2
echo "array $array_id"
echo "merge $merge_id"
