/* The jail's cgroups.  The cgroup v2 one scopes the eBPF monitor (its id is
 * what bpf_get_current_cgroup_id() returns) and is where the jail's init is
 * born (clone3 CLONE_INTO_CGROUP, so no task of the jail ever runs outside
 * it).  The process and memory bounds go to v2 when its controllers are
 * there, else to the v1 hierarchies of a hybrid host. */
#ifndef PIPJAIL_CGROUP_H
#define PIPJAIL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct jail_cgroup {
	char *v2_path;      /* /sys/fs/cgroup[/unified]/pipjail.<pid>.<rand> */
	int v2_fd;          /* O_DIRECTORY fd of it, for CLONE_INTO_CGROUP */
	uint64_t id;        /* its cgroup id */
	char *pids_path;    /* where pids.max is, may equal v2_path; NULL: none */
	char *mem_path;     /* where the memory limit is; NULL: none */
	bool mem_v1;
};

/* Create the cgroups and set their limits (max_procs, mem_mb).  Returns 0,
 * or -1 with a reason in err (nothing left behind). */
int cgroup_create(struct jail_cgroup *cg, unsigned long long max_procs,
		  unsigned long long mem_mb, char *err, size_t errlen);
/* Put pid into the v1 cgroups (the v2 one it was born in). */
int cgroup_attach_v1(const struct jail_cgroup *cg, pid_t pid, char *err, size_t errlen);
/* Has any process of the jail hit the process bound? (pids.events max) */
unsigned long long cgroup_pids_max_hits(const struct jail_cgroup *cg);
/* Remove the cgroups; waits briefly for exiting tasks to leave. */
void cgroup_destroy(struct jail_cgroup *cg);
/* Remove cgroups left by pipjail runs that died without cleaning up. */
void cgroup_reap_stale(void);
/* The cgroup v2 mount point, or NULL. */
const char *cgroup_v2_root(void);

#endif
