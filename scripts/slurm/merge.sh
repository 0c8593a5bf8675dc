#!/bin/bash
# Build OUTDIR/summary.json and OUTDIR/index.html from the packages of LIST
# whose results are complete (OUTDIR/pkgs/*/result.json), without analysing
# anything.  scripts/slurm/submit.sh submits it as the merge job, after the
# array; run it by hand the same way (pipjail need not run as root here):
#
#   scripts/slurm/merge.sh LIST OUTDIR
#
# Slurm runs a copy of this file: it must not need anything beside it.
set -euo pipefail

prog="pipjail-merge"
die() { echo "$prog: $*" >&2; exit 2; }

case ${1:-} in -h|--help)
	echo "usage: merge.sh LIST OUTDIR   (environment: PIPJAIL, default pipjail on PATH)"
	exit 0 ;;
esac
[ $# -eq 2 ] || die "usage: merge.sh LIST OUTDIR"
list=$1
outdir=$2
pipjail=${PIPJAIL:-pipjail}
host=$(hostname)

command -v "$pipjail" >/dev/null 2>&1 || die "$pipjail is not found on $host (make install)"
[ -r "$list" ] || die "LIST $list is not readable on $host"
[ -d "$outdir" ] || die "OUTDIR $outdir is not a directory on $host"

if [ -n "${SLURM_JOB_ID:-}" ]; then
	echo "$prog: job $SLURM_JOB_ID on $host, started $(date -u +%FT%TZ)"
fi
"$pipjail" analyze --merge --batch "$list" --out "$outdir" || {
	rc=$?
	die "$pipjail analyze --merge failed (exit $rc)"
}

# How much of LIST is done: a package counts once its result.json exists.
want=$(grep -cv -e '^[[:space:]]*#' -e '^[[:space:]]*$' -- "$list" || true)
done_=0
for r in "$outdir"/pkgs/*/result.json; do
	[ -e "$r" ] && done_=$((done_ + 1))
done
echo "$prog: $done_ of $want packages complete; $outdir/summary.json and $outdir/index.html written"
if [ "$done_" -lt "$want" ]; then
	echo "$prog: $((want - done_)) package(s) have no result yet: submit the same LIST and OUTDIR again to finish them" >&2
fi
