/* Becoming the invoking user with nothing else: no capabilities in any set
 * (bounding and ambient included), securebits locked so that even uid 0 gains
 * nothing at exec, and no_new_privs so that set-id and file-capability
 * binaries grant nothing either. */
#include <errno.h>
#include <grp.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "jail/jail.h"
#include "base/base.h"

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	return -1;
}

/* The bounding set needs CAP_SETPCAP to shrink, so it goes first, while we
 * are still root in the init user namespace. */
static int drop_bounding_set(char *err, size_t errlen)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP || cap_valid(c); c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return fail(err, errlen, "dropping the capability bounding set");
	}
	return 0;
}

int identity_drop(const struct jail_user *u, char *err, size_t errlen)
{
	cap_t none;

	if (drop_bounding_set(err, errlen) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail(err, errlen, "clearing ambient capabilities");
	/* uid 0 keeps nothing across exec: no fix-ups, no root magic, locked. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED, 0, 0, 0) < 0)
		return fail(err, errlen, "locking securebits");
	if (setgroups((size_t)u->n_groups, u->groups) < 0)
		return fail(err, errlen, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return fail(err, errlen, "setresgid");
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return fail(err, errlen, "setresuid");
	/* setresuid to a non-zero uid already cleared the sets; for uid 0 it did
	 * not, so clear them explicitly in every case. */
	none = cap_init();
	if (!none)
		return fail(err, errlen, "cap_init");
	if (cap_set_proc(none) < 0) {
		cap_free(none);
		return fail(err, errlen, "dropping all capabilities");
	}
	cap_free(none);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, "setting no_new_privs");
	return 0;
}
