#!/bin/sh
# Give an installed pipjail the file capabilities it needs to build a jail
# for a user without sudo.  Permitted only (+p): pipjail raises them itself,
# and a host whose bounding set lacks one still starts it.  pipjail then acts as a privileged helper: it
# believes no environment variable about who the user is, opens every file
# the user names with the user's own rights, and is non-dumpable.
#   cap_sys_admin        namespaces, mounts, pivot_root, BPF map/prog admin
#   cap_bpf cap_perfmon  load and attach the monitor's tracepoint programs
#   cap_setuid cap_setgid  open files as the user; drop to the user in the jail
#   cap_setpcap          shrink the bounding set of the jailed command
#   cap_net_admin        bring up lo in the jail's network namespace; load the
#                        unix-socket guard's cgroup programs (CGROUP_SOCK_ADDR)
#   cap_dac_override     create the jail's cgroup; reap stale ones
#   cap_kill             forward signals to the jail's init (root-owned)
#   cap_chown cap_fowner write the decoy home owned by the user
#   cap_sys_ptrace       read /proc/<pid> of jailed processes for the trace
set -eu
CAPS="cap_sys_admin,cap_bpf,cap_perfmon,cap_setuid,cap_setgid,cap_setpcap,cap_net_admin,cap_dac_override,cap_dac_read_search,cap_kill,cap_chown,cap_fowner,cap_sys_ptrace+p"
if [ "${1:-}" = "--print" ]; then
	echo "$CAPS"
	exit 0
fi
[ $# -eq 1 ] || { echo "usage: $0 /path/to/pipjail | --print" >&2; exit 2; }
setcap "$CAPS" "$1"
echo "pipjail: $1 now has: $(getcap "$1")"
