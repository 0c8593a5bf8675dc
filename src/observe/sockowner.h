/* Which process of the jail owns a TCP connection, by its local port: the
 * egress proxy asks this of each client it accepts. */
#ifndef PIPJAIL_SOCKOWNER_H
#define PIPJAIL_SOCKOWNER_H

#include <stdint.h>
#include <sys/types.h>

/* Find the socket whose local port is port in the net namespace of
 * netns_pid (/proc/<pid>/net/tcp{,6}), then the process among the members
 * of the cgroup (cgroup.procs under cgroup_dir) that holds it.  Returns 0
 * and *hpid, or -1 when none is found (yet). */
int sock_owner(pid_t netns_pid, const char *cgroup_dir, uint16_t port, uint32_t *hpid);

#endif
