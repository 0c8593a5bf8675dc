/* pipjail doctor: probe, by trying them, the kernel features pipjail uses,
 * and say what pipjail does without each.  A probe loads or creates the
 * smallest thing that proves the feature (libbpf-tools style), never trusts
 * a kernel version or config. */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "jail/jail.h"
#include "observe/monitor.h"
#include "cmd/cmd.h"
#include "base/base.h"

struct probe {
	const char *name;
	bool (*fn)(char *detail, size_t len);
	bool required;
	const char *without;   /* what pipjail does without it */
};

/* r0 = 0; exit */
static const struct bpf_insn ret0[] = {
	{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	{ .code = BPF_JMP | BPF_EXIT },
};

static int load_tracing(enum bpf_attach_type at, const char *func, int kind)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = at);
	enum bpf_prog_type type = at == BPF_LSM_MAC ? BPF_PROG_TYPE_LSM : BPF_PROG_TYPE_TRACING;
	int id = libbpf_find_vmlinux_btf_id(func, at);

	(void)kind;
	if (id < 0)
		return id;
	o.attach_btf_id = (__u32)id;
	return bpf_prog_load(type, "pj_probe", "GPL", ret0, ARRAY_SIZE(ret0), &o);
}

/* Load and attach: fentry and LSM load fail here with EPERM (lockdown). */
static bool probe_attach(enum bpf_attach_type at, const char *func, char *d, size_t len)
{
	int fd = load_tracing(at, func, 0), link;

	if (fd < 0) {
		snprintf(d, len, "load: %s", strerror(-fd));
		return false;
	}
	link = bpf_link_create(fd, 0, at, NULL);
	if (link < 0)
		link = bpf_raw_tracepoint_open(NULL, fd);
	close(fd);
	if (link < 0) {
		snprintf(d, len, "attach: %s", strerror(errno));
		return false;
	}
	close(link);
	return true;
}

static bool p_btf(char *d, size_t len)
{
	struct btf *b = btf__load_vmlinux_btf();

	if (!b) {
		snprintf(d, len, "/sys/kernel/btf/vmlinux: %s", strerror(errno));
		return false;
	}
	btf__free(b);
	return true;
}

static bool p_tp_btf(char *d, size_t len) { return probe_attach(BPF_TRACE_RAW_TP, "sys_enter", d, len); }
static bool p_fentry(char *d, size_t len) { return probe_attach(BPF_TRACE_FENTRY, "do_unlinkat", d, len); }
static bool p_lsm(char *d, size_t len) { return probe_attach(BPF_LSM_MAC, "file_open", d, len); }

static bool p_ringbuf(char *d, size_t len)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "pj_probe", 0, 0, 4096, NULL);

	if (fd < 0) {
		snprintf(d, len, "%s", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static bool p_send_signal(char *d, size_t len)
{
	int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACING, BPF_FUNC_send_signal, NULL);

	if (r <= 0)
		r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_send_signal, NULL);
	if (r <= 0)
		snprintf(d, len, "%s", r < 0 ? strerror(-r) : "helper not accepted");
	return r > 0;
}

static bool p_seccomp_notify(char *d, size_t len)
{
	__u32 action = SECCOMP_RET_USER_NOTIF;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
		snprintf(d, len, "%s", strerror(errno));
		return false;
	}
	return true;
}

static bool p_landlock(char *d, size_t len)
{
	int abi = landlock_abi();

	snprintf(d, len, abi > 0 ? "ABI %d" : "not enabled (lsm= boot parameter)", abi);
	return abi > 0;
}

/* Try unshare() of one namespace in a throwaway child. */
static bool try_unshare(int flag, char *d, size_t len)
{
	int st;
	pid_t p = fork();

	if (p == 0)
		_exit(unshare(flag) < 0 ? errno : 0);
	if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st)) {
		snprintf(d, len, "probe failed");
		return false;
	}
	if (WEXITSTATUS(st))
		snprintf(d, len, "%s", strerror(WEXITSTATUS(st)));
	return WEXITSTATUS(st) == 0;
}

static bool p_userns(char *d, size_t len) { return try_unshare(CLONE_NEWUSER, d, len); }
static bool p_pidns(char *d, size_t len) { return try_unshare(CLONE_NEWPID, d, len); }
static bool p_netns(char *d, size_t len) { return try_unshare(CLONE_NEWNET, d, len); }
static bool p_mntns(char *d, size_t len) { return try_unshare(CLONE_NEWNS, d, len); }

static bool p_overlay(char *d, size_t len)
{
	FILE *f = fopen("/proc/filesystems", "r");
	char line[128];
	bool ok = false;

	while (f && fgets(line, sizeof(line), f))
		ok |= strstr(line, "\toverlay\n") != NULL;
	if (f)
		fclose(f);
	if (!ok)
		snprintf(d, len, "not in /proc/filesystems (modprobe overlay)");
	return ok;
}

static bool p_cgroup2(char *d, size_t len)
{
	const char *root = cgroup_v2_root();

	snprintf(d, len, "%s", root ? root : "not mounted");
	return root != NULL;
}

/* The unix-socket guard's hooks (Linux 6.7): attached for a moment to a
 * throwaway cgroup of pipjail's own, never to a cgroup in use. */
static bool p_unix_guard(char *d, size_t len)
{
	struct jail_cgroup cg = { 0 };
	char err[256];
	bool ok;

	if (cgroup_create(&cg, 0, 0, err, sizeof(err)) < 0) {
		snprintf(d, len, "%s", err);
		return false;
	}
	ok = unixguard_probe(cg.v2_fd, d, len) == 1;
	cgroup_destroy(&cg);
	return ok;
}

static const struct probe probes[] = {
	{ "BTF (/sys/kernel/btf/vmlinux)", p_btf, true, "no monitor: pipjail refuses to run" },
	{ "tracepoints (tp_btf sys_enter)", p_tp_btf, true, "no monitor: pipjail refuses to run" },
	{ "BPF ring buffer", p_ringbuf, true, "no monitor: pipjail refuses to run" },
	{ "bpf_send_signal", p_send_signal, false, "kills are decided in user space (slower)" },
	{ "fentry/fexit", p_fentry, false, "not needed: tracepoints are used" },
	{ "BPF LSM", p_lsm, false, "not needed: seccomp + Landlock + mounts prevent" },
	{ "seccomp user notification", p_seccomp_notify, false, "refused calls are still recorded by the monitor" },
	{ "Landlock", p_landlock, false, "mounts and seccomp remain; no second wall for files and TCP" },
	{ "unix-socket guard (cgroup connect_unix)", p_unix_guard, false,
	  "known socket directories are hidden; a connect to another host unix socket is only reported" },
	{ "user namespaces", p_userns, false, "not needed: pipjail runs as root" },
	{ "pid namespaces", p_pidns, true, "pipjail refuses to run" },
	{ "net namespaces", p_netns, true, "pipjail refuses to run" },
	{ "mount namespaces", p_mntns, true, "pipjail refuses to run" },
	{ "overlayfs", p_overlay, false, "no staged install" },
	{ "cgroup v2", p_cgroup2, true, "pipjail refuses to run (the monitor is scoped by cgroup)" },
};

int cmd_doctor(int argc, char **argv)
{
	bool all_required = true;

	(void)argv;
	if (argc > 1)
		die("doctor takes no arguments");
	libbpf_set_print(NULL);
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		char detail[256] = "";
		bool ok = probes[i].fn(detail, sizeof(detail));

		printf("%-40s %-13s %s%s%s\n", probes[i].name, ok ? "available" : "NOT available",
		       detail, detail[0] && !ok ? " — " : (detail[0] ? "" : ""),
		       ok ? "" : probes[i].without);
		if (!ok && probes[i].required)
			all_required = false;
	}
	if (geteuid() != 0)
		printf("(not root: some probes need root and fail without it)\n");
	printf("%s\n", all_required ? "pipjail can run here." : "pipjail cannot run here: see above.");
	return all_required ? 0 : EXIT_PIPJAIL_ERROR;
}
