/* Per-process resource limits.  The jail-wide ones (process count, memory)
 * live in the jail's cgroup (src/cgroup.c); these bound each process. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "jail/jail.h"
#include "base/base.h"

static int set_limit(int res, rlim_t v, const char *name, char *err, size_t errlen)
{
	struct rlimit rl = { .rlim_cur = v, .rlim_max = v };

	if (setrlimit(res, &rl) < 0) {
		snprintf(err, errlen, "setrlimit %s=%llu: %s", name, (unsigned long long)v,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int limits_apply(const struct jail_limits *l, uid_t uid, char *err, size_t errlen)
{
	const rlim_t mb = 1024 * 1024;

	/* RLIMIT_NPROC counts every process of the uid on the host, and root is
	 * exempt from it: the cgroup's pids.max is the real bound.  For another
	 * user it is a second wall, set above the jail's own bound. */
	if (uid != 0 && set_limit(RLIMIT_NPROC, (rlim_t)l->max_procs + 64, "NPROC", err, errlen) < 0)
		return -1;
	if (set_limit(RLIMIT_FSIZE, (rlim_t)l->max_fsize_mb * mb, "FSIZE", err, errlen) < 0 ||
	    set_limit(RLIMIT_NOFILE, (rlim_t)l->max_nofile, "NOFILE", err, errlen) < 0 ||
	    set_limit(RLIMIT_CORE, 0, "CORE", err, errlen) < 0)
		return -1;
	if (l->cpu_s && set_limit(RLIMIT_CPU, (rlim_t)l->cpu_s, "CPU", err, errlen) < 0)
		return -1;
	return 0;
}

int limits_apply_memory(const struct jail_limits *l, char *err, size_t errlen)
{
	return set_limit(RLIMIT_AS, (rlim_t)l->max_mem_mb * 1024 * 1024, "AS", err, errlen);
}
