/* What a subcommand may do with pipjail's privileges: check that it has
 * them (root, or the file capabilities of `make install`), or give them up
 * before it reads the user's files. */
#include <stdbool.h>
#include <sys/capability.h>
#include <unistd.h>

#include "base/base.h"
#include "cmd/cmd.h"

/* Subcommands that read the user's files need no privilege: a setcap'd
 * pipjail gives its capabilities up first, so that every open is the
 * user's own. */
void cmd_drop_privileges(void)
{
	cap_t none;

	if (getuid() == 0)
		return;
	none = cap_init();
	if (!none || cap_set_proc(none) < 0)
		die_errno("dropping capabilities");
	cap_free(none);
}
/* Root, or the file capabilities `make install` grants (scripts/setcap.sh).
 * Those are permitted-only (+p): a file with the effective bit would not
 * even start on a host whose bounding set lacks one of them.  So raise
 * into the effective set what was permitted, and check for CAP_SYS_ADMIN. */
bool cmd_privileged(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (!caps)
		return false;
	for (cap_value_t c = 0; cap_valid(c); c++) {
		cap_flag_value_t p = CAP_CLEAR;

		cap_get_flag(caps, c, CAP_PERMITTED, &p);
		if (p == CAP_SET)
			cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_SET);
	}
	cap_set_proc(caps);
	cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &v);
	cap_free(caps);
	return v == CAP_SET;
}
