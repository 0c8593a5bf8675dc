/* Network-namespace steps shared by the jail's init, the egress proxy and
 * the sinkhole. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "base/base.h"

int netns_loopback_up(char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	autoclose int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		set_err(err, errlen, "reading the flags of lo: %s", strerror(errno));
		return -1;
	}
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		set_err(err, errlen, "bringing up lo: %s", strerror(errno));
		return -1;
	}
	return 0;
}
