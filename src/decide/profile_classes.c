/* The built-in syscall classes: calls whose refusal in the jail is always a
 * violation (an attempt to leave or weaken the jail), and the probes that
 * libraries make to see what the kernel offers (recorded; a violation only
 * when the profile says "probe_refusals": "violation"). */
#include "decide/profile.h"

#include <string.h>

#include "base/base.h"

static const char *const dangerous_calls[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsconfig",
	"fsmount", "fspick", "mount_setattr", "chroot",
	"unshare", "setns", "clone",  /* clone is refused only with namespace flags */
	"bpf", "perf_event_open", "userfaultfd",
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"keyctl", "add_key", "request_key",
	"ioctl",                      /* refused only for TIOCSTI and TIOCLINUX */
	"open_by_handle_at", "reboot", "swapon", "swapoff", "acct",
};

static const char *const probe_calls[] = {
	"io_uring_setup", "io_uring_enter", "io_uring_register", "clone3", "personality",
};

static bool named_in(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return true;
	return false;
}

bool profile_syscall_is_dangerous(const char *s)
{
	return named_in(s, dangerous_calls, ARRAY_SIZE(dangerous_calls));
}

bool profile_syscall_is_probe(const char *s)
{
	return named_in(s, probe_calls, ARRAY_SIZE(probe_calls));
}
